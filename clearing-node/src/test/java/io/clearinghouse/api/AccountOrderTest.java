package io.clearinghouse.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;

/** Trades of one stream that share an account run one after the other; others run alongside. */
class AccountOrderTest {
  private final AccountOrder order = new AccountOrder();
  private final List<String> started = new ArrayList<>();

  private CompletableFuture<String> trade(String name, String buyer, String seller, CompletableFuture<String> outcome) {
    return order.after(buyer, seller, () -> {
      started.add(name);
      return outcome;
    }).toCompletableFuture();
  }

  @Test
  void aTradeStartsOnlyAfterEveryEarlierTradeOfItsAccounts() {
    CompletableFuture<String> first = new CompletableFuture<>();
    CompletableFuture<String> second = new CompletableFuture<>();
    CompletableFuture<String> third = new CompletableFuture<>();
    CompletableFuture<String> fourth = new CompletableFuture<>();
    trade("a-b", "a", "b", first);
    trade("c-d", "c", "d", second);
    CompletionStage<String> bc = trade("b-c", "b", "c", third);
    trade("e-a", "e", "a", fourth);
    // Disjoint from what runs: started at once; b-c waits for a-b and c-d, e-a for a-b.
    assertEquals(List.of("a-b", "c-d"), started);
    second.complete("done");
    assertEquals(List.of("a-b", "c-d"), started);
    first.complete("done");
    assertEquals(4, started.size());
    assertTrue(started.containsAll(List.of("b-c", "e-a")), started.toString());
    third.complete("done");
    fourth.complete("done");
    assertEquals("done", bc.toCompletableFuture().join());
    assertEquals(0, order.accountsInFlight(), "nothing is kept for accounts without a trade in flight");
  }

  @Test
  void aTradeAfterOneWithAnUnknownOutcomeIsNeverStarted() {
    CompletableFuture<String> first = new CompletableFuture<>();
    trade("a-b", "a", "b", first);
    CompletableFuture<String> later = trade("b-c", "b", "c", CompletableFuture.completedFuture("done"));
    CompletableFuture<String> evenLater = trade("c-d", "c", "d", CompletableFuture.completedFuture("done"));
    first.completeExceptionally(new IllegalStateException("timeout"));
    assertTrue(later.isCompletedExceptionally());
    assertTrue(evenLater.isCompletedExceptionally());
    assertEquals(List.of("a-b"), started);
    assertFalse(started.contains("b-c"));
    assertEquals(0, order.accountsInFlight());
  }
}
