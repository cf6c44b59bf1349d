package io.clearinghouse.clearing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import com.typesafe.config.ConfigFactory;
import io.clearinghouse.account.AccountEntity;
import io.clearinghouse.account.AccountSettings;
import io.clearinghouse.instrument.Instruments;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Review 5 of the register (7b322d5): ReverseTradeSide.verified is the register's word that the
 * buyer's journal holds the side applied and not reversed. The register keeps that word in its
 * drive for every later attempt, although it is only true until the first verified reversal is
 * delivered.
 */
class Review5RegisterTest {
  private static final ActorTestKit testKit = io.clearinghouse.TestKits.inMemoryJournal();
  private static final Instruments INSTRUMENTS = Instruments.fromConfig(ConfigFactory.load(), 6);
  private static final AccountSettings SETTINGS =
      new AccountSettings(new io.clearinghouse.money.Asset("USDT", 6), 100, Duration.ofDays(8), 1000,
          Duration.ofSeconds(3), 5, 20);
  private static final String PERP = "BTCUSDT-PERP";
  private static final long USDT = 1_000_000L;
  private static final AtomicInteger ids = new AtomicInteger();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /**
   * The network as the test says: the first (unverified) reversal is held back until the buyer has
   * forgotten the sequence; the first verified reversal is delivered and applied, but its answer is
   * lost (the ask times out when the test says so).
   */
  private static final class Network implements TradeRegister.AccountAsker {
    final FakeAccounts accounts;
    final CompletableFuture<Void> firstReversalGate = new CompletableFuture<>();
    final CompletableFuture<AccountEntity.Reply> verifiedAnswer = new CompletableFuture<>();
    final CompletableFuture<AccountEntity.Reply> verifiedDelivered = new CompletableFuture<>();
    final AtomicInteger unverified = new AtomicInteger();
    final AtomicInteger verified = new AtomicInteger();

    Network(FakeAccounts accounts) {
      this.accounts = accounts;
    }

    @Override
    public CompletionStage<AccountEntity.Reply> ask(String accountId,
        Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> command, Duration timeout) {
      if (command.apply(null) instanceof AccountEntity.ReverseTradeSide reverse) {
        if (!reverse.verified() && unverified.getAndIncrement() == 0) {
          return firstReversalGate.thenCompose(go -> accounts.ask(accountId, command, timeout));
        }
        if (reverse.verified() && verified.getAndIncrement() == 0) {
          accounts.ask(accountId, command, timeout).thenAccept(verifiedDelivered::complete);
          return verifiedAnswer;
        }
      }
      return accounts.ask(accountId, command, timeout);
    }
  }

  /**
   * The buyer applied its side, the seller refused (being liquidated): the register unwinds. The
   * buyer has forgotten the sequence by the time the reversal comes (TRADE_TOO_OLD); the register
   * reads its journal (applied, not reversed) and sends the reversal as verified. The buyer
   * reverses it; the answer is lost. Before the register retries, five other trades of the buyer
   * are reversed, so its reversal of this sequence is forgotten too. The retry still says
   * "verified" (the drive keeps the flag): the buyer reverses the side a second time.
   */
  @Test
  void aVerifiedReversalWhoseAnswerIsLostIsNeverAppliedAgainOnTheRetry() throws Exception {
    FakeAccounts accounts = new FakeAccounts(testKit, SETTINGS, INSTRUMENTS);
    String a = accounts.open("a", 100_000 * USDT);
    String b = accounts.open("b", 100_000 * USDT);
    Network network = new Network(accounts);
    String bucket = "r5b" + ids.incrementAndGet();
    RegisterSettings settings = new RegisterSettings(4, 100, 3, Duration.ofSeconds(3), Duration.ofMillis(20),
        Duration.ofMillis(100), Duration.ofSeconds(10));
    accounts.liquidating.add(b);
    var register = testKit.spawn(TradeRegister.create(bucket, settings, network, MarketCheck.NONE, FakeAccounts.journal(testKit)));
    TestProbe<TradeRegister.Reply> probe = testKit.createTestProbe();
    register.tell(new TradeRegister.Submit(FakeAccounts.trade(71, a, b, 1_000), probe.getRef()));
    probe.awaitAssert(Duration.ofSeconds(10), () -> {
      assertEquals(1_000, accounts.lots(a), "the buyer's side is applied");
      assertEquals(1, network.unverified.get(), "the reversal is on its way");
      return null;
    });
    // The buyer is busy: it forgets sequence 71 (six trades netting to zero).
    for (long seq = 100; seq < 106; seq++) {
      long lots = seq % 2 == 0 ? 10 : -10;
      long s = seq;
      assertInstanceOf(AccountEntity.TradeSideApplied.class, accounts.ask(a,
          r -> new AccountEntity.ApplyTrade("t-" + s, s, PERP, lots, 500_000, true, null, "elsewhere", r)));
    }
    network.firstReversalGate.complete(null);
    // Too old -> journal read -> verified reversal, applied; its answer is lost.
    assertInstanceOf(AccountEntity.TradeSideReverted.class,
        network.verifiedDelivered.get(10, java.util.concurrent.TimeUnit.SECONDS));
    assertEquals(0, accounts.lots(a), "reversed once");
    long cashAfterOneReversal = accounts.summary(a).cash();
    // Five (six) other trades of the buyer are reversed meanwhile: its reversal of 71 is forgotten.
    for (long seq = 200; seq < 206; seq++) {
      long s = seq;
      assertInstanceOf(AccountEntity.TradeSideApplied.class, accounts.ask(a,
          r -> new AccountEntity.ApplyTrade("t-" + s, s, PERP, 10, 500_000, true, null, "elsewhere", r)));
      assertInstanceOf(AccountEntity.TradeSideReverted.class, accounts.ask(a,
          r -> new AccountEntity.ReverseTradeSide("t-" + s, s, r)));
    }
    // The register's ask times out: it retries the unwinding step.
    network.verifiedAnswer.completeExceptionally(new TimeoutException("answer lost"));
    TradeRegister.Reply outcome = probe.receiveMessage(Duration.ofSeconds(10));
    assertInstanceOf(TradeRegister.Refused.class, outcome);
    assertEquals(0, accounts.lots(b), "the seller never took its side");
    assertEquals(0, accounts.lots(a), "the buyer's side was reversed twice: " + outcome);
    assertEquals(cashAfterOneReversal, accounts.summary(a).cash(), "the buyer's fee was refunded twice");
  }
}
