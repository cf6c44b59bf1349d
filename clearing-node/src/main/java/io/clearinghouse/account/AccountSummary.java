package io.clearinghouse.account;

import io.clearinghouse.persistence.CborSerializable;
import java.util.List;
import java.util.Map;

/**
 * What an account looks like from outside, in minor units of the settlement asset, valued at the
 * marks of the moment. {@code marginRatioPpm} is {@link #NO_RATIO} without positions and
 * {@link #INFINITE_RATIO} when equity is zero or negative. {@code liquidationId} is null unless
 * a liquidation is in progress.
 * {@code debt} is what a liquidation left uncovered; {@code stops} the protective stops per
 * instrument (ticks); {@code haltedInstruments} the held instruments whose new liquidations the
 * operator halted; {@code beginner}: the beginner leverage profile applies (its cap was set when it
 * opened and no operator has set it since).
 */
public record AccountSummary(String accountId, long cash, long equity, long available, long withdrawable,
    long reserved, long marginRatioPpm, int leverageCap, List<PositionSummary> positions, String liquidationId,
    long debt, Map<String, Long> stops, List<String> haltedInstruments, long owed, Map<String, Long> fundingReceived,
    boolean beginner)
    implements CborSerializable {
  public static final long NO_RATIO = -1;
  public static final long INFINITE_RATIO = Long.MAX_VALUE;

  public AccountSummary {
    positions = List.copyOf(positions);
    stops = stops == null ? Map.of() : Map.copyOf(stops);
    haltedInstruments = haltedInstruments == null ? List.of() : List.copyOf(haltedInstruments);
    fundingReceived = fundingReceived == null ? Map.of() : Map.copyOf(fundingReceived);
  }

  /** Without funding received ({@code fundingReceived}: per perpetual held, net funding received, negative: paid). */
  public AccountSummary(String accountId, long cash, long equity, long available, long withdrawable, long reserved,
      long marginRatioPpm, int leverageCap, List<PositionSummary> positions, String liquidationId, long debt,
      Map<String, Long> stops, List<String> haltedInstruments, long owed) {
    this(accountId, cash, equity, available, withdrawable, reserved, marginRatioPpm, leverageCap, positions,
        liquidationId, debt, stops, haltedInstruments, owed, Map.of(), false);
  }

  /** An account without debt, stops, halted instruments or owed shortfalls. */
  public AccountSummary(String accountId, long cash, long equity, long available, long withdrawable, long reserved,
      long marginRatioPpm, int leverageCap, List<PositionSummary> positions, String liquidationId) {
    this(accountId, cash, equity, available, withdrawable, reserved, marginRatioPpm, leverageCap, positions,
        liquidationId, 0, Map.of(), List.of(), 0, Map.of(), false);
  }
}
