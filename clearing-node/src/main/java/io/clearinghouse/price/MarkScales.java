package io.clearinghouse.price;

import io.clearinghouse.margin.MarginMath;
import io.clearinghouse.margin.MarginScaling;
import io.clearinghouse.persistence.CborSerializable;

/**
 * The volatility-scaled margins of one instrument (issue 16 item 2) as its price feed computed
 * them with a mark: the initial scale, and maintenance with its announced tightening (in ppm,
 * 1,000,000 is "as configured"; {@code pendingPpm} 0: none announced, else since
 * {@code warnedAtMillis}). The feed persists them with the mark and every node applies them as
 * they come, so all nodes value positions alike and a restarted feed goes on from them.
 */
public record MarkScales(long initialPpm, long maintenancePpm, long pendingPpm, long warnedAtMillis)
    implements CborSerializable {
  public static final MarkScales NONE = new MarkScales(MarginMath.PPM, MarginMath.PPM, 0, 0);

  /**
   * Whether the scales are within what the rules yield (100% to 10000%, a pending one 0 or in
   * that range): a node applies only such (a record read from the journal or the wire is not
   * checked when it is made, so that no journal becomes unreadable over it).
   */
  public boolean valid() {
    return initialPpm >= MarginMath.PPM && initialPpm <= MarginScaling.MAX_SCALE_PPM
        && maintenancePpm >= MarginMath.PPM && maintenancePpm <= MarginScaling.MAX_SCALE_PPM
        && (pendingPpm == 0 || (pendingPpm >= MarginMath.PPM && pendingPpm <= MarginScaling.MAX_SCALE_PPM));
  }

  public static MarkScales of(long initialPpm, MarginScaling.Maintenance maintenance) {
    return new MarkScales(initialPpm, maintenance.scalePpm(), maintenance.pendingPpm(), maintenance.warnedAtMillis());
  }

  public MarginScaling.Maintenance maintenance() {
    return new MarginScaling.Maintenance(maintenancePpm, pendingPpm, warnedAtMillis);
  }
}
