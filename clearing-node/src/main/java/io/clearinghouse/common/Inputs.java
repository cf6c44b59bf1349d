package io.clearinghouse.common;

/**
 * How a caller's input appears in an error message: at most {@link #MAX_ECHOED} characters of it,
 * so that a megabyte-long name never comes back whole in a status (and stalls the caller's
 * connection, or fills a log).
 */
public final class Inputs {
  /** The most characters of a caller's input any message repeats. */
  public static final int MAX_ECHOED = 64;

  private Inputs() {}

  /** {@code text} quoted, cut to {@value #MAX_ECHOED} characters with its full length said when longer. */
  public static String quote(String text) {
    if (text == null) {
      return "(none)";
    }
    if (text.length() <= MAX_ECHOED) {
      return "'" + text + "'";
    }
    return "'" + text.substring(0, MAX_ECHOED) + "...' (" + text.length() + " characters)";
  }
}
