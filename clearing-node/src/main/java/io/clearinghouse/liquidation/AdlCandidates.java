package io.clearinghouse.liquidation;

import io.clearinghouse.persistence.CborSerializable;
import java.util.List;
import java.util.concurrent.CompletionStage;

/** Where a saga finds the opposing positions to deleverage, best-ranked first. */
public interface AdlCandidates {
  /** An account holding {@code lots} (signed) of the instrument, with its ADL score in ppm. */
  record Candidate(String accountId, long lots, long score) implements CborSerializable {}

  /** Candidates holding positions of sign {@code sign}, without {@code excludedAccount}, highest score first. */
  CompletionStage<List<Candidate>> candidates(String instrument, int sign, String excludedAccount);
}
