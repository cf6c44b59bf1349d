package io.clearinghouse.bench;

import java.lang.management.ManagementFactory;

/** The machine's one-minute load average, printed next to the figures it may have disturbed. */
final class LoadAverage {
  private LoadAverage() {}

  /** The one-minute load average, or -1 where the platform does not report one. */
  static double now() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }

  static int processors() {
    return Runtime.getRuntime().availableProcessors();
  }
}
