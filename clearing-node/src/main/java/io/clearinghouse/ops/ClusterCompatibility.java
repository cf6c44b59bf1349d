package io.clearinghouse.ops;

import com.typesafe.config.Config;
import java.util.List;
import org.apache.pekko.cluster.ConfigValidation;
import org.apache.pekko.cluster.JoinConfigCompatChecker;
import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Refuses a node that would join a cluster writing to another journal keyspace, snapshot keyspace,
 * number of shards or number of trade registers. Such a node would host shards of the cluster and
 * persist their events where the rest of the cluster never reads them (or look a trade up in
 * another register than the one that recorded it).
 */
public final class ClusterCompatibility extends JoinConfigCompatChecker {
  private static final List<String> KEYS = List.of(
      "pekko.persistence.cassandra.journal.keyspace",
      "pekko.persistence.cassandra.snapshot.keyspace",
      "pekko.cluster.sharding.number-of-shards",
      "clearinghouse.clearing.register-buckets");

  @Override
  public Seq<String> requiredKeys() {
    return CollectionConverters.asScala(KEYS).toSeq();
  }

  @Override
  public ConfigValidation check(Config toCheck, Config actualConfig) {
    return JoinConfigCompatChecker.fullMatch(requiredKeys(), toCheck, actualConfig);
  }
}
