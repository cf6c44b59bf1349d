package io.clearinghouse.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.MutableClock;
import io.clearinghouse.account.AccountEntity.Command;
import io.clearinghouse.account.AccountEntity.Event;
import io.clearinghouse.account.AccountEntity.Reply;
import io.clearinghouse.account.AccountEntity.State;
import io.clearinghouse.price.MarkPrices;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Review 8, finding 7 (moved here from Review8FundingCutTest): an interval an account was never
 * paid for (its node was down past the clock's settle window, so the clock closed the interval
 * without it) must not be taken as paid when the next interval applies. The rule (FundingLedger):
 * the account remembers every interval it skipped and held a position at as missed, and pays it
 * once, late: when the clock offers it with a later payment ({@code earlier}), or when asked for it.
 *
 * <p>BTCUSDT-PERP, 1 BTC = 1,000 lots, 50,000 USDT = 500,000 ticks, 1 USDT = 1,000,000.
 */
class Review8MissedIntervalTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final AtomicInteger ids = new AtomicInteger();
  private static final String PERP = "BTCUSDT-PERP";
  private static final long USDT = 1_000_000L;
  private static final long H = 3_600_000L;
  /** A funding time (08:00 UTC). */
  private static final long T = Instant.parse("2026-03-02T08:00:00Z").toEpochMilli();
  private static final long BP = 10_000;   // 0.01% in 10^-8

  private final MutableClock clock = new MutableClock(Instant.ofEpochMilli(T - 2 * H));
  private final MarkPrices marks = MarkPrices.local();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private final class Acc {
    final String id;
    final EventSourcedBehaviorTestKit<Command, Event, State> kit;

    Acc(String name, long depositUsdt) {
      id = name + "-" + ids.incrementAndGet();
      kit = EventSourcedBehaviorTestKit.create(testKit.system(),
          AccountEntity.create(id, AccountEntityTest.environment(marks, clock)),
          EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(true));
      kit.runCommand(AccountEntity.Open::unattributed);
      run(r -> new AccountEntity.Deposit("d-" + id, depositUsdt * USDT, r));
    }

    Reply run(Function<ActorRef<Reply>, Command> command) {
      return kit.runCommand(command).reply();
    }

    void trade(long seq, long lots, long priceTicks, String counterparty, long cut) {
      assertInstanceOf(AccountEntity.TradeSideApplied.class, run(r -> new AccountEntity.ApplyTrade("t-" + seq, seq, PERP,
          lots, priceTicks, true, null, counterparty, r, cut)));
    }

    AccountEntity.FundingPaid fund(long fundingTime, long rate, long markTicks) {
      return assertInstanceOf(AccountEntity.FundingPaid.class,
          run(r -> new AccountEntity.ApplyFunding(PERP, fundingTime, rate, markTicks, r)));
    }

    AccountEntity.FundingPaid fund(long fundingTime, long rate, long markTicks, List<FundingLedger.Interval> earlier) {
      return assertInstanceOf(AccountEntity.FundingPaid.class,
          run(r -> new AccountEntity.ApplyFunding(PERP, fundingTime, rate, markTicks, r, earlier)));
    }

    Account state() {
      return (Account) kit.getState();
    }
  }

  private void at(long epochMillis) {
    clock.advance(Duration.ofMillis(epochMillis - clock.millis()));
  }

  @Test
  void anIntervalAnAccountWasNeverPaidForIsNotTakenAsPaidByTheNextOne() {
    Acc holder = new Acc("holder", 100_000);
    holder.trade(1, 1_000, 500_000, "other", T - 2 * H);
    at(T + 8 * H + 10_000);
    AccountEntity.FundingPaid second = holder.fund(T + 8 * H, BP, 500_000);
    assertEquals(-5 * USDT, second.amount());
    AccountEntity.FundingPaid first = holder.fund(T, BP, 500_000);
    assertEquals(java.util.List.of(false, 1_000L, -5 * USDT), java.util.List.of(first.duplicate(), first.lots(),
        first.amount()), "08:00 was never applied: it is not a repeat of 16:00");
  }

  @Test
  void theAuditTakesAMissedIntervalPaidLateAsPaidOnceNotOutOfOrder() throws Exception {
    Acc holder = new Acc("holder", 100_000);
    holder.trade(1, 1_000, 500_000, "other", T - 2 * H);
    at(T + 8 * H + 10_000);
    holder.fund(T + 8 * H, BP, 500_000);
    holder.fund(T, BP, 500_000);
    List<Object> events = holder.kit.persistenceTestKit().persistedInStorage(AccountEntity.persistenceId(holder.id).id());
    List<String> violations = io.clearinghouse.audit.Review8AuditAccess.auditViolations(Map.of(holder.id, events),
        Map.of());
    assertTrue(violations.stream().noneMatch(v -> v.contains("paid twice")), violations.toString());
    // The same interval applied twice is still flagged.
    List<Object> twice = new java.util.ArrayList<>(events);
    twice.add(events.get(events.size() - 1));
    assertTrue(io.clearinghouse.audit.Review8AuditAccess.auditViolations(Map.of(holder.id, twice), Map.of()).stream()
        .anyMatch(v -> v.contains("paid twice")));
  }

  @Test
  void aMissedIntervalIsPaidOnceOnlyAndItsRepeatAnswersWithTheFirstPayment() {
    Acc holder = new Acc("holder", 100_000);
    holder.trade(1, 1_000, 500_000, "other", T - 2 * H);
    at(T + 8 * H + 10_000);
    holder.fund(T + 8 * H, BP, 500_000);
    assertEquals(Map.of(T, 1_000L), holder.state().funding().position(PERP).missed());
    holder.fund(T, BP, 500_000);
    long cash = holder.state().cash();
    AccountEntity.FundingPaid again = holder.fund(T, BP, 600_000);
    assertEquals(List.of(true, -5 * USDT, 1_000L), List.of(again.duplicate(), again.amount(), again.lots()));
    assertEquals(cash, holder.state().cash());
    assertEquals(Map.of(), holder.state().funding().position(PERP).missed());
    assertEquals(-10 * USDT, holder.state().funding().position(PERP).total());
  }

  @Test
  void anIntervalOfferedWithALaterPaymentIsPaidFirstOnTheLotsHeldAtItsOwnTime() {
    Acc holder = new Acc("holder", 100_000);
    holder.trade(1, 1_000, 500_000, "other", T - 2 * H);
    // 09:00: the position doubles, after 08:00; the account was down when 08:00 was paid.
    holder.trade(2, 1_000, 500_000, "other", T + H);
    at(T + 8 * H + 10_000);
    AccountEntity.FundingPaid paid = holder.fund(T + 8 * H, BP, 500_000,
        List.of(new FundingLedger.Interval(T, BP, 600_000), new FundingLedger.Interval(T - 8 * H, BP, 500_000)));
    // 16:00 on 2 BTC at 50,000: 10 USDT; 08:00 late on the 1 BTC held then at 60,000: 6 USDT. 00:00: nothing held.
    assertEquals(List.of(-10 * USDT, 2_000L, false, Map.of(T, -6 * USDT)),
        List.of(paid.amount(), paid.lots(), paid.duplicate(), paid.late()));
    assertEquals(Map.of(), holder.state().funding().position(PERP).missed());
    assertEquals(-16 * USDT, holder.state().funding().position(PERP).total());
    // A repeat (the clock crashed before recording) answers with both, and moves nothing.
    long cash = holder.state().cash();
    AccountEntity.FundingPaid repeat = holder.fund(T + 8 * H, BP, 500_000, List.of(new FundingLedger.Interval(T, BP,
        600_000)));
    assertEquals(List.of(-10 * USDT, true, Map.of(T, -6 * USDT)),
        List.of(repeat.amount(), repeat.duplicate(), repeat.late()));
    assertEquals(cash, holder.state().cash());
    // And 08:00 on its own is now a repeat too.
    assertTrue(holder.fund(T, BP, 600_000).duplicate());
    assertEquals(cash, holder.state().cash());
  }

  @Test
  void aFlatAccountWithAMissedIntervalStaysListedForFundingUntilItPays() {
    Acc holder = new Acc("holder", 100_000);
    holder.trade(1, 1_000, 500_000, "other", T - 2 * H);
    at(T + 8 * H - 10_000);
    holder.trade(2, -1_000, 500_000, "other", T + 8 * H - 10_000);
    at(T + 8 * H + 10_000);
    holder.fund(T + 8 * H, BP, 500_000);
    // Flat since 15:59:50, 08:00 missed: the margin monitor still lists it for the next interval.
    assertEquals(Map.of(PERP, T + 8 * H), holder.state().exposure().fundingDue());
    at(T + 16 * H + 10_000);
    AccountEntity.FundingPaid next = holder.fund(T + 16 * H, BP, 500_000,
        List.of(new FundingLedger.Interval(T + 8 * H, BP, 500_000), new FundingLedger.Interval(T, BP, 500_000)));
    assertEquals(List.of(0L, Map.of(T, -5 * USDT)), List.of(next.amount(), next.late()));
    assertEquals(Map.of(), holder.state().exposure().fundingDue());
  }

  @Test
  void aMissedIntervalOlderThanTheLedgerKeepsIsDroppedNeverCharged() {
    Acc holder = new Acc("holder", 100_000);
    holder.trade(1, 1_000, 500_000, "other", T - 2 * H);
    long late = T + (FundingLedger.LATE_INTERVALS + 1) * 8 * H;
    at(late + 10_000);
    holder.fund(late, BP, 500_000);
    assertEquals(FundingLedger.LATE_INTERVALS - 1, holder.state().funding().position(PERP).missed().size());
    assertTrue(holder.fund(T, BP, 500_000).duplicate(), "older than the intervals a clock offers: not charged");
  }

  /** A snapshot from before missed intervals were kept reads with none missed (its old golden form). */
  @Test
  void anAccountSnapshotFromBeforeReadsWithNoIntervalMissed() throws Exception {
    var golden = new com.fasterxml.jackson.databind.ObjectMapper().readTree(java.nio.file.Path.of(
        "src/test/resources/golden/io.clearinghouse.account.Account.json").toFile());
    Account read = (Account) org.apache.pekko.serialization.SerializationExtension.get(testKit.system().classicSystem())
        .deserialize(java.util.Base64.getDecoder().decode(golden.get("bytes").asText()),
            golden.get("serializerId").asInt(), golden.get("manifest").asText()).get();
    FundingLedger.Position position = read.funding().byInstrument().values().iterator().next();
    assertEquals(List.of(11L, 80L, 93L, Map.of(58L, 25L), Map.of()), List.of(position.lastFundingTime(),
        position.lastAmount(), position.total(), position.lotsAt(), position.missed()));
  }
}
