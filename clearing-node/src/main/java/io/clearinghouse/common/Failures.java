package io.clearinghouse.common;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** What failed, under the wrappers that asynchronous code puts around it. */
public final class Failures {
  private Failures() {}

  /** {@code failure} without its CompletionException and ExecutionException wrappers. */
  public static Throwable unwrap(Throwable failure) {
    Throwable current = failure;
    while ((current instanceof CompletionException || current instanceof ExecutionException)
        && current.getCause() != null) {
      current = current.getCause();
    }
    return current;
  }
}
