package io.clearinghouse.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;

/**
 * Trades of one stream that share an account run one after the other; others run alongside. An
 * unconfirmed trade holds back the later trades of its accounts (not started) until it is resent,
 * and nothing else.
 */
class AccountOrderTest {
  private static final String UNCONFIRMED = "unconfirmed";
  private final AccountOrder order = new AccountOrder();
  private final List<String> started = new ArrayList<>();

  private CompletableFuture<String> trade(long sequence, String buyer, String seller,
      CompletableFuture<String> outcome) {
    String name = buyer + "-" + seller + "@" + sequence;
    return order.after(sequence, buyer, seller, () -> {
      started.add(name);
      return outcome;
    }, UNCONFIRMED::equals, blocking -> "waits for " + blocking).toCompletableFuture();
  }

  @Test
  void aTradeStartsOnlyAfterEveryEarlierTradeOfItsAccounts() {
    CompletableFuture<String> first = new CompletableFuture<>();
    CompletableFuture<String> second = new CompletableFuture<>();
    CompletableFuture<String> third = new CompletableFuture<>();
    CompletableFuture<String> fourth = new CompletableFuture<>();
    trade(1, "a", "b", first);
    trade(2, "c", "d", second);
    CompletionStage<String> bc = trade(3, "b", "c", third);
    trade(4, "e", "a", fourth);
    // Disjoint from what runs: started at once; b-c waits for a-b and c-d, e-a for a-b.
    assertEquals(List.of("a-b@1", "c-d@2"), started);
    second.complete("done");
    assertEquals(List.of("a-b@1", "c-d@2"), started);
    first.complete("done");
    assertEquals(4, started.size());
    assertTrue(started.containsAll(List.of("b-c@3", "e-a@4")), started.toString());
    third.complete("done");
    fourth.complete("done");
    assertEquals("done", bc.toCompletableFuture().join());
    assertEquals(0, order.accountsInFlight(), "nothing is kept for accounts without a trade in flight");
  }

  @Test
  void anUnconfirmedTradeHoldsBackTheLaterTradesOfItsAccountsOnlyUntilItIsResent() {
    CompletableFuture<String> first = new CompletableFuture<>();
    trade(1, "a", "b", first);
    CompletableFuture<String> later = trade(2, "b", "c", CompletableFuture.completedFuture("done"));
    CompletableFuture<String> evenLater = trade(3, "c", "d", CompletableFuture.completedFuture("done"));
    CompletableFuture<String> elsewhere = trade(4, "x", "y", CompletableFuture.completedFuture("done"));
    first.complete(UNCONFIRMED);
    // b-c waits for 1 (b), c-d for 2 (c, held back by it); x-y is not held back.
    assertEquals("waits for 1", later.join());
    assertEquals("waits for 2", evenLater.join());
    assertEquals("done", elsewhere.join());
    assertEquals(List.of("a-b@1", "x-y@4"), started);
    // A new trade of d waits too (d is held back at 3); one of other accounts does not.
    assertEquals("waits for 3", trade(5, "d", "z", CompletableFuture.completedFuture("done")).join());
    assertEquals("done", trade(6, "q", "r", CompletableFuture.completedFuture("done")).join());
    // The engine resends 1, 2, 3, 5 in order: each runs now.
    assertEquals("done", trade(1, "a", "b", CompletableFuture.completedFuture("done")).join());
    assertEquals("done", trade(2, "b", "c", CompletableFuture.completedFuture("done")).join());
    assertEquals("done", trade(3, "c", "d", CompletableFuture.completedFuture("done")).join());
    assertEquals("done", trade(5, "d", "z", CompletableFuture.completedFuture("done")).join());
    assertEquals(0, order.accountsBlocked(), "every block lifted by its resend");
    assertEquals(0, order.accountsInFlight());
  }

  @Test
  void aResentTradeThatIsUnconfirmedAgainHoldsBackAgain() {
    trade(1, "a", "b", CompletableFuture.completedFuture(UNCONFIRMED));
    assertEquals(UNCONFIRMED, trade(1, "a", "b", CompletableFuture.completedFuture(UNCONFIRMED)).join());
    assertEquals("waits for 1", trade(2, "a", "c", CompletableFuture.completedFuture("done")).join());
  }

  @Test
  void anEarlierTradeOfTheAccountDoesNotLiftTheBlockOfAnUnconfirmedOne() {
    trade(10, "a", "b", CompletableFuture.completedFuture(UNCONFIRMED));
    // An older trade of a (sent late): not started either, 10 may still be applied by its register.
    assertEquals("waits for 10", trade(5, "a", "x", CompletableFuture.completedFuture("done")).join());
    assertEquals("waits for 10", trade(11, "a", "c", CompletableFuture.completedFuture("done")).join(),
        "started: " + started);
    assertEquals(List.of("a-b@10"), started);
  }

  @Test
  void withUnconfirmedOnlyAWaitingTradeHoldsBackNoOtherAccountAndTheRestClears() {
    AccountOrder relaxed = new AccountOrder(AccountOrder.Hold.UNCONFIRMED_ONLY);
    List<String> ran = new ArrayList<>();
    java.util.function.BiFunction<Long, String, CompletableFuture<String>> run = (sequence, accounts) -> {
      String[] ab = accounts.split("-");
      return relaxed.after(sequence, ab[0], ab[1], () -> {
        ran.add(accounts + "@" + sequence);
        return CompletableFuture.completedFuture(sequence == 1 ? UNCONFIRMED : "done");
      }, UNCONFIRMED::equals, blocking -> "waits for " + blocking).toCompletableFuture();
    };
    assertEquals(UNCONFIRMED, run.apply(1L, "a-b").join());
    // b is held by the unconfirmed a-b; c is not held by b-c, which waits: c-d clears.
    assertEquals("waits for 1", run.apply(2L, "b-c").join());
    assertEquals("done", run.apply(3L, "c-d").join());
    assertEquals("waits for 1", run.apply(4L, "d-a").join());
    assertEquals("done", run.apply(5L, "d-e").join());
    assertEquals(List.of("a-b@1", "c-d@3", "d-e@5"), ran);
    assertEquals(2, relaxed.accountsBlocked(), "only the unconfirmed trade's own accounts");
    // The same trades in the strict order: the hold spreads from b to c, d and e.
    AccountOrder strict = new AccountOrder(AccountOrder.Hold.WAITING_TOO);
    strict.after(1, "a", "b", () -> CompletableFuture.completedFuture(UNCONFIRMED), UNCONFIRMED::equals,
        blocking -> "waits for " + blocking).toCompletableFuture().join();
    assertEquals("waits for 1", strict.after(2, "b", "c", () -> CompletableFuture.completedFuture("done"),
        UNCONFIRMED::equals, blocking -> "waits for " + blocking).toCompletableFuture().join());
    assertEquals("waits for 2", strict.after(3, "c", "d", () -> CompletableFuture.completedFuture("done"),
        UNCONFIRMED::equals, blocking -> "waits for " + blocking).toCompletableFuture().join());
  }
}
