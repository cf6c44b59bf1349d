package io.clearinghouse.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.clearinghouse.metrics.CascadeCounts;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CascadeProgressTest {
  @Test
  void theClusterViewSumsTheNodesThatAnsweredAndNamesTheOthers() {
    var view = CascadeProgress.combine(1L, List.of(
            new CascadeProgress.NodeCounts("pekko://a", 10, 4, 6, 2, 10),
            new CascadeProgress.NodeCounts("pekko://b", 3, 3, 0, 1, 10),
            new CascadeProgress.NodeCounts("pekko://c", -1, -1, -1, -1, -1)),
        Map.of("pekko://a", 5L, "pekko://b", 1L), Map.of("F", new CascadeProgress.FundBalance(100, 7)));
    assertEquals(new CascadeCounts.Snapshot(13, 7, 6, 3, 10), view.total());
    assertEquals(6, view.running());
    assertEquals(List.of("pekko://c"), view.unanswered());
    assertEquals(2, view.nodes().size());
    assertEquals(new CascadeProgress.FundBalance(100, 7), view.funds().get("F"));
  }

  @Test
  void noNodeAnsweringIsAllZeroNotAFailure() {
    var view = CascadeProgress.combine(1L, List.of(), Map.of(), Map.of());
    assertEquals(CascadeCounts.Snapshot.EMPTY, view.total());
    assertEquals(0, view.running());
  }
}
