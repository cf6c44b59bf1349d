package io.clearinghouse.common;

import com.typesafe.config.ConfigException;
import java.math.BigDecimal;

/**
 * The one parser of configured percentages ("0.05%", "10%", "-0.01%") into parts per million,
 * exactly: anything finer than 1 ppm (more than four decimals) is refused rather than rounded,
 * and so is a value outside the caller's range. Every error names the configuration key.
 */
public final class Ppm {
  /** 100%. */
  public static final long MILLION = 1_000_000;

  private Ppm() {}

  /** {@code text} ("0.5%") in ppm, between {@code minPpm} and {@code maxPpm} inclusive; else a BadValue naming {@code path}. */
  public static long percent(String text, String path, long minPpm, long maxPpm) {
    String t = text == null ? "" : text.trim();
    long ppm;
    try {
      if (!t.endsWith("%")) {
        throw new NumberFormatException();
      }
      ppm = new BigDecimal(t.substring(0, t.length() - 1).trim()).movePointRight(4).longValueExact();
    } catch (NumberFormatException | ArithmeticException e) {
      throw new ConfigException.BadValue(path, "must be a percentage such as \"0.5%\" with at most 4 decimals (1 ppm), "
          + "was " + text);
    }
    if (ppm < minPpm || ppm > maxPpm) {
      throw new ConfigException.BadValue(path, "must be a percentage from " + format(minPpm) + " to " + format(maxPpm)
          + ", was " + text);
    }
    return ppm;
  }

  /** {@code ppm} as a percentage with the decimals it needs: 2_000 -> "0.2%". */
  public static String format(long ppm) {
    return BigDecimal.valueOf(ppm, 4).stripTrailingZeros().toPlainString() + "%";
  }
}
