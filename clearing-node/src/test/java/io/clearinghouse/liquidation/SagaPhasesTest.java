package io.clearinghouse.liquidation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.clearinghouse.account.Account;
import io.clearinghouse.account.AccountEntity.LiquidationTransfer;
import io.clearinghouse.account.LiquidationRole;
import io.clearinghouse.liquidation.LiquidationSaga.Event;
import io.clearinghouse.liquidation.LiquidationSaga.State;
import io.clearinghouse.liquidation.SagaPhases.Assessing;
import io.clearinghouse.liquidation.SagaPhases.Closing;
import io.clearinghouse.liquidation.SagaPhases.Covering;
import io.clearinghouse.liquidation.SagaPhases.Distributing;
import io.clearinghouse.liquidation.SagaPhases.Ended;
import io.clearinghouse.liquidation.SagaPhases.NotBegun;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The saga's phases (issue 12): a journal as the saga writes it recovers into each phase in turn,
 * an event out of its phase is refused, and the state's one-record form from before the phases
 * (its golden form) still reads, into the phase it describes.
 */
class SagaPhasesTest {
  private static final String PERP = "BTCUSDT-PERP";
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static final Account.Liquidation TRIGGER = new Account.Liquidation("alice-1-9", 1, 0,
      Map.of(PERP, 494_000L), 450, 390, null);

  /** A liquidation with one close, a deficit covered by the penalty, the fund and debt, and a share delivered. */
  private static List<Event> journal() {
    LiquidationTransfer taken = new LiquidationTransfer("k", "alice-1-9", LiquidationRole.BACKSTOP, "alice-1", PERP,
        1_000, 469_300, 0, 0, 0, 0, 0, 0);
    LiquidationTransfer closed = new LiquidationTransfer("k", "alice-1-9", LiquidationRole.LIQUIDATED, "prov", PERP,
        -1_000, 469_300, -1_098, 0, 0, 50, 0, 0);
    return List.of(new LiquidationSaga.Began("alice-1", TRIGGER),
        new LiquidationSaga.ClosePlanned(0, PERP, -1_000, 494_000, 489_500, false),
        new LiquidationSaga.VenueDeclined(0, "other", "limit"),
        new LiquidationSaga.VenueChosen(0, LiquidationSaga.Venue.BACKSTOP, "prov", 469_300, -1_000, 0),
        new LiquidationSaga.TakenOver(0, taken), new LiquidationSaga.Closed(0, closed, 60),
        new LiquidationSaga.ClosingFinished(5, null),
        new LiquidationSaga.SettlementAssessed(PERP, 100, -100, 0),
        new LiquidationSaga.PenaltyApplied(20), new LiquidationSaga.FundPaid(PERP, 80, 30),
        new LiquidationSaga.CoverDelivered(50), new LiquidationSaga.DebtLeft(50),
        new LiquidationSaga.PenaltyDelivered(PERP, 30),
        new LiquidationSaga.Finished(Outcome.DEBT.wire(), 9));
  }

  @Test
  void aJournalRecoversIntoEachPhaseInTurn() {
    List<Class<?>> phases = new ArrayList<>();
    State s = State.empty();
    assertInstanceOf(NotBegun.class, s);
    for (Event e : journal()) {
      s = LiquidationSaga.apply(s, e);
      phases.add(s.getClass());
    }
    assertEquals(List.of(Closing.class, Closing.class, Closing.class, Closing.class, Closing.class, Closing.class,
        Assessing.class, Covering.class, Covering.class, Covering.class, Covering.class, Covering.class,
        Distributing.class, Ended.class), phases);
    Ended ended = assertInstanceOf(Ended.class, s);
    assertEquals(List.of("other"), ended.closes().get(0).declined());
    assertEquals(new SagaPhases.Payments(20L, 30L, null, true, 50L), ended.payments());
    assertEquals(Map.of(PERP, 30L), ended.penaltiesDelivered());
    assertEquals(0, ended.escrow());
    assertEquals("debt", ended.outcome());
  }

  @Test
  void anEventOutOfItsPhaseIsRefused() {
    List<Event> journal = journal();
    State closing = replay(journal.subList(0, 2));
    assertThrows(IllegalStateException.class, () -> LiquidationSaga.apply(closing, new LiquidationSaga.FundPaid(PERP,
        1, 1)));
    assertThrows(IllegalStateException.class, () -> LiquidationSaga.apply(closing, journal.get(0)));
    State began = replay(journal.subList(0, 1));
    assertThrows(IllegalStateException.class, () -> LiquidationSaga.apply(began, journal.get(3)));
    assertThrows(IllegalStateException.class, () -> LiquidationSaga.apply(State.empty(), journal.get(1)));
    State assessing = replay(journal.subList(0, 7));
    assertThrows(IllegalStateException.class, () -> LiquidationSaga.apply(assessing, journal.get(1)));
    assertThrows(IllegalStateException.class, () -> LiquidationSaga.apply(assessing, journal.get(8)));
    State distributing = replay(journal.subList(0, 13));
    assertThrows(IllegalStateException.class, () -> LiquidationSaga.apply(distributing, journal.get(10)));
    State ended = replay(journal);
    assertThrows(IllegalStateException.class, () -> LiquidationSaga.apply(ended, journal.get(12)));
  }

  private static State replay(List<Event> events) {
    State s = State.empty();
    for (Event e : events) {
      s = LiquidationSaga.apply(s, e);
    }
    return s;
  }

  @Test
  void theOneRecordGoldenFormReadsAsThePhaseItDescribes() throws Exception {
    Serialization serialization = SerializationExtension.get(testKit.system().classicSystem());
    var golden = new ObjectMapper().readTree(Path.of("src/test/resources/golden",
        "io.clearinghouse.liquidation.LiquidationSaga$State.json").toFile());
    Object read = serialization.deserialize(Base64.getDecoder().decode(golden.get("bytes").asText()),
        golden.get("serializerId").asInt(), golden.get("manifest").asText()).get();
    Ended ended = assertInstanceOf(Ended.class, read);
    assertEquals("accountId", ended.accountId());
    assertEquals("liquidationId", ended.trigger().liquidationId());
    assertEquals(1, ended.closes().size());
    assertEquals(88, ended.closes().get(0).step());
    assertEquals(44, ended.closes().get(0).fullPenalty());
    assertEquals("closingNote", ended.closingNote());
    assertEquals(new SagaPhases.Assessment("coverFund", 54, 91, 49), ended.assessment());
    assertEquals(new SagaPhases.Payments(28L, 66L, 15L, true, 51L), ended.payments());
    assertEquals(Map.of("penaltiesDelivered.key", 61L), ended.penaltiesDelivered());
    assertEquals("outcome", ended.outcome());
    assertEquals(91, ended.finishedMillis());
    // ... and the phase it read as writes and reads back as itself.
    byte[] bytes = serialization.serialize(ended).get();
    assertEquals(ended, serialization.deserialize(bytes, Ended.class).get());
  }

  @Test
  void theOneRecordFormOfEachPhaseReadsAsThatPhase() {
    var closes = replay(journal().subList(0, 6)).closes();
    var assessment = new SagaPhases.Assessment(PERP, 100, -100, 0);
    var none = SagaPhases.Payments.NONE;
    assertInstanceOf(NotBegun.class, SagaPhases.fromOneRecordForm(null, null, null, false, null, null, null, none,
        null, 0));
    assertEquals(replay(journal().subList(0, 6)), SagaPhases.fromOneRecordForm("alice-1", TRIGGER, closes, false,
        null, Map.of(), null, none, null, 0));
    assertEquals(replay(journal().subList(0, 7)), SagaPhases.fromOneRecordForm("alice-1", TRIGGER, closes, true,
        null, Map.of(), null, none, null, 0));
    assertEquals(replay(journal().subList(0, 12)), SagaPhases.fromOneRecordForm("alice-1", TRIGGER, closes, true,
        null, Map.of(), assessment, new SagaPhases.Payments(20L, 30L, null, true, 50L), null, 0));
    assertEquals(replay(journal().subList(0, 13)), SagaPhases.fromOneRecordForm("alice-1", TRIGGER, closes, true,
        null, Map.of(PERP, 30L), assessment, new SagaPhases.Payments(20L, 30L, null, true, 50L), null, 0));
    assertTrue(replay(journal()).equals(SagaPhases.fromOneRecordForm("alice-1", TRIGGER, closes, true, null,
        Map.of(PERP, 30L), assessment, new SagaPhases.Payments(20L, 30L, null, true, 50L), "debt", 9)));
  }
}
