package io.clearinghouse.ops;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.cluster.MemberStatus;

/**
 * Readiness: this node is an Up member of the cluster (not still joining, nor leaving or downed),
 * so that its shards may be placed here and its calls answered.
 */
public final class ClusterUpCheck extends ReadinessCheck {
  private final Cluster cluster;

  public ClusterUpCheck(ActorSystem system) {
    this.cluster = Cluster.get(system);
  }

  @Override
  public String name() {
    return "cluster membership";
  }

  @Override
  public CompletionStage<Optional<String>> problem() {
    MemberStatus status = cluster.selfMember().status();
    return CompletableFuture.completedFuture(status == MemberStatus.up() ? Optional.empty()
        : Optional.of("this node is " + status + ", not Up"));
  }
}
