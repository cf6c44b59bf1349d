package io.clearinghouse.it;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.List;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * The heap of a node process, read over JMX on a loopback port of its own: what is still in use
 * after a full collection, so that what a request made the node hold shows up, and garbage does not.
 */
final class RemoteHeap implements AutoCloseable {
  private final JMXConnector connector;
  private final MemoryMXBean memory;

  private RemoteHeap(JMXConnector connector, MemoryMXBean memory) {
    this.connector = connector;
    this.memory = memory;
  }

  /** The JVM options that open the JMX port (no authentication: loopback only, for tests). */
  static List<String> jvmOptions(int port) {
    return List.of("-Dcom.sun.management.jmxremote.port=" + port, "-Dcom.sun.management.jmxremote.rmi.port=" + port,
        "-Dcom.sun.management.jmxremote.host=127.0.0.1", "-Djava.rmi.server.hostname=127.0.0.1",
        "-Dcom.sun.management.jmxremote.authenticate=false", "-Dcom.sun.management.jmxremote.ssl=false");
  }

  static RemoteHeap connect(int port) {
    try {
      JMXConnector connector = JMXConnectorFactory.connect(
          new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + port + "/jmxrmi"));
      return new RemoteHeap(connector, ManagementFactory.newPlatformMXBeanProxy(
          connector.getMBeanServerConnection(), ManagementFactory.MEMORY_MXBEAN_NAME, MemoryMXBean.class));
    } catch (IOException e) {
      throw new IllegalStateException("no JMX on port " + port, e);
    }
  }

  /** Heap in use after a full collection, in bytes. */
  long usedAfterGc() {
    memory.gc();
    return memory.getHeapMemoryUsage().getUsed();
  }

  long max() {
    return memory.getHeapMemoryUsage().getMax();
  }

  @Override
  public void close() {
    try {
      connector.close();
    } catch (IOException e) {
      // the node may be gone already
    }
  }
}
