package io.clearinghouse.common;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Host names as the transport guards judge them. Only the JDK: chctl loads it on its own small
 * classpath (no configuration library), to refuse sending a token in plaintext off loopback.
 */
public final class Hosts {
  private Hosts() {}

  /** Whether every address {@code host} resolves to is a loopback address (false when it does not resolve). */
  public static boolean isLoopback(String host) {
    try {
      InetAddress[] addresses = InetAddress.getAllByName(host);
      for (InetAddress address : addresses) {
        if (!address.isLoopbackAddress()) {
          return false;
        }
      }
      return addresses.length > 0;
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
