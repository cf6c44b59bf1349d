package io.clearinghouse.audit;

import io.clearinghouse.funding.FundingClock;
import java.util.List;

/**
 * A funding clock's journal as the audit reads it: whether an interval is being paid, and what the
 * clock recorded the accounts applied (received, net: negative means the payers paid more; late
 * payments of missed intervals included). With
 * no interval open, every payment the accounts applied has been recorded by their clock, so the
 * instrument's funding pool must hold exactly the negative of it, the rounding residues, never
 * below zero.
 */
record FundingClockLedger(String instrument, boolean open, long recordedNet, int intervals,
    java.util.Map<Long, long[]> fixed) {
  static final String PREFIX = FundingClock.TYPE_KEY.name() + "|";

  static FundingClockLedger replay(String persistenceId, List<Object> events) {
    boolean open = false;
    long net = 0;
    int intervals = 0;
    java.util.Map<Long, long[]> fixed = new java.util.HashMap<>();
    for (Object event : events) {
      if (event instanceof FundingClock.IntervalFixed f) {
        open = true;
        fixed.put(f.fundingTime(), new long[] {f.rate(), f.markTicks()});
      } else if (event instanceof FundingClock.PaymentsRecorded p) {
        for (long amount : p.amounts().values()) {
          net = Math.addExact(net, amount);
        }
      } else if (event instanceof FundingClock.LatePaymentsRecorded p) {
        for (long amount : p.amounts().values()) {
          net = Math.addExact(net, amount);
        }
      } else if (event instanceof FundingClock.IntervalClosed) {
        open = false;
        intervals++;
      }
    }
    return new FundingClockLedger(persistenceId.substring(PREFIX.length()), open, net, intervals, fixed);
  }
}
