package io.clearinghouse.margin;

/** A price or quantity that cannot be converted to ticks or lots of an instrument. */
public final class InstrumentInputException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final ParseProblem problem;

  public InstrumentInputException(ParseProblem problem, String message) {
    super(message);
    this.problem = problem;
  }

  public ParseProblem problem() {
    return problem;
  }
}
