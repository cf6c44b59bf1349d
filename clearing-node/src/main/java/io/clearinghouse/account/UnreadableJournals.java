package io.clearinghouse.account;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.AbstractExtensionId;
import org.apache.pekko.actor.ClassicActorSystemProvider;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.Extension;

/**
 * The accounts of this node whose journal did not read at their last recovery (a corrupt or
 * unknown event), with the cause of the event that did not read. Such an account cannot run at all, but asking it must not cost
 * every caller a full ask timeout: {@link Accounts} answers {@code JOURNAL_UNREADABLE} at once
 * for an account listed here, and the liquidation read side lists such an account's liquidations
 * from the sagas' own journals. An account leaves the list when it next recovers here, or when
 * it answers the read that every refusal sends it (so a journal repaired while the account runs
 * on another node is not refused here any longer). Node-local: an account hosted on another node
 * that does not read is seen here only as a timeout.
 */
public final class UnreadableJournals implements Extension {
  private static final Id ID = new Id();

  private final Map<String, String> causes = new ConcurrentHashMap<>();

  public static UnreadableJournals get(ClassicActorSystemProvider system) {
    return ID.get(system.classicSystem());
  }

  /**
   * Records a failed recovery when an event did not read (the serializer refused its bytes or
   * does not know its manifest). A journal that failed to answer (a timeout, Cassandra down) is
   * not recorded: callers then wait for their ask, as for any account that does not answer.
   */
  void failed(String accountId, Throwable failure) {
    unreadable(failure).ifPresent(cause -> causes.put(accountId, cause));
  }

  /**
   * The cause, when {@code failure} (or one of its causes) says an event did not read: the
   * serializer refused its bytes or does not know its manifest. Empty for any other failure.
   */
  public static Optional<String> unreadable(Throwable failure) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
      if (cause instanceof com.fasterxml.jackson.core.JacksonException || cause instanceof java.io.NotSerializableException
          || cause instanceof ClassNotFoundException) {
        return Optional.of(String.valueOf(cause));
      }
    }
    return Optional.empty();
  }

  void recovered(String accountId) {
    causes.remove(accountId);
  }

  private final java.util.Set<String> probes = ConcurrentHashMap.newKeySet();

  /** Whether to ask the listed account again now (one ask at a time per account). */
  boolean probing(String accountId) {
    return probes.add(accountId);
  }

  /** The account answered (it reads now, wherever it runs) or not. */
  void probed(String accountId, boolean answered) {
    if (answered) {
      causes.remove(accountId);
    }
    probes.remove(accountId);
  }

  /** Why the account's journal did not read, when it did not at its last recovery on this node. */
  public Optional<String> cause(String accountId) {
    return Optional.ofNullable(causes.get(accountId));
  }

  private static final class Id extends AbstractExtensionId<UnreadableJournals> {
    @Override
    public UnreadableJournals createExtension(ExtendedActorSystem system) {
      return new UnreadableJournals();
    }
  }
}
