package io.clearinghouse;

import com.typesafe.config.ConfigFactory;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;

/** Test kits for behaviour tests of one entity: the in-memory journal, no cluster. */
public final class TestKits {
  private TestKits() {}

  public static ActorTestKit inMemoryJournal() {
    return ActorTestKit.create(EventSourcedBehaviorTestKit.config()
        .withFallback(ConfigFactory.parseString("pekko.actor.provider = local"))
        .withFallback(ConfigFactory.load()));
  }
}
