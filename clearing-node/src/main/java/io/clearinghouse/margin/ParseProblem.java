package io.clearinghouse.margin;

/**
 * Why a price or quantity string was refused. Stable names: the API layer maps each one to a
 * rejection reason, so they must not be renamed.
 */
public enum ParseProblem {
  /** Not a plain decimal such as {@code 50000.1}: empty, letters, exponent, sign, too long. */
  MALFORMED,
  /** Zero or negative. */
  NOT_POSITIVE,
  /** A price that is not a whole number of ticks. */
  OFF_TICK,
  /** A quantity that is not a whole number of lots. */
  OFF_LOT,
  /** More ticks or lots than a long holds. */
  OVERFLOW
}
