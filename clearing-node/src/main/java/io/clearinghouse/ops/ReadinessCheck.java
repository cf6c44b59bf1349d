package io.clearinghouse.ops;

import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import scala.concurrent.Future;
import scala.concurrent.Promise;
import scala.runtime.AbstractFunction0;

/**
 * One readiness check of pekko-management's {@code /ready}, written as the Scala function type
 * pekko-management loads from the class name, so that its answer names this class (a Java
 * {@code Supplier} is wrapped in a lambda, whose generated class name is all {@code /ready} and
 * {@code chctl ready} could show). A check that is not satisfied fails with its name and the
 * problem, which {@code /ready} answers as {@code Health Check Failed: Check [<class>] failed:
 * <name>: <problem>}.
 */
public abstract class ReadinessCheck extends AbstractFunction0<Future<Object>> {
  /** Why the node is not ready, in words, or empty when this check is satisfied. */
  public abstract CompletionStage<Optional<String>> problem();

  /** A short name for the check, as operators read it (e.g. {@code journal}). */
  public abstract String name();

  @Override
  public final Future<Object> apply() {
    Promise<Object> result = Promise.apply();
    problem().whenComplete((problem, failure) -> {
      if (failure != null) {
        Throwable cause = io.clearinghouse.common.Failures.unwrap(failure);
        result.failure(new NotReady(name() + ": " + cause.getMessage()));
      } else if (problem.isPresent()) {
        result.failure(new NotReady(name() + ": " + problem.get()));
      } else {
        result.success(Boolean.TRUE);
      }
    });
    return result.future();
  }

  /** The failure a check that is not satisfied answers with. */
  public static final class NotReady extends RuntimeException {
    public NotReady(String message) {
      super(message, null, false, false);
    }
  }
}
