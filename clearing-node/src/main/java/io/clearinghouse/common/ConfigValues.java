package io.clearinghouse.common;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;

/** Bounded configuration values read under a section; a bad one stops the node naming its full key. */
public final class ConfigValues {
  private ConfigValues() {}

  /** {@code root.key} as a duration from {@code min} to {@code max}. */
  public static Duration duration(Config c, String root, String key, Duration min, Duration max) {
    Duration d;
    try {
      d = c.getDuration(key);
    } catch (ConfigException e) {
      throw new ConfigException.BadValue(root + "." + key, "must be a duration such as 5s");
    }
    if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
      throw new ConfigException.BadValue(root + "." + key, "must be from " + min + " to " + max + ", was " + d);
    }
    return d;
  }

  /** {@code root.key} as a whole number from {@code min} to {@code max}. */
  public static int integer(Config c, String root, String key, int min, int max) {
    int v;
    try {
      v = c.getInt(key);
    } catch (ConfigException e) {
      throw new ConfigException.BadValue(root + "." + key, "must be a whole number");
    }
    if (v < min || v > max) {
      throw new ConfigException.BadValue(root + "." + key, "must be from " + min + " to " + max + ", was " + v);
    }
    return v;
  }
}
