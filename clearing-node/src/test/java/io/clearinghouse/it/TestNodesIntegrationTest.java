package io.clearinghouse.it;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigValueFactory;
import io.clearinghouse.Main;
import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/**
 * The test nodes' own start: a port handed out free and taken by another socket before the node
 * bound it (stop 27's CI lost a run to a node that "did not start") costs a second start on other
 * ports, not the test.
 */
class TestNodesIntegrationTest {

  @Test
  void aNodeWhoseGrpcPortWasTakenStartsOnAnother() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Main.Node node = TestNodes.start(TestNodes.nodeConfig(TestNodes.newKeyspace("ports"), "")
          .withValue("clearinghouse.grpc.port", ConfigValueFactory.fromAnyRef(taken.getLocalPort())));
      try {
        assertNotEquals(taken.getLocalPort(), node.grpcAddress().getPort());
        assertTrue(node.grpcAddress().getPort() > 0, String.valueOf(node.grpcAddress()));
      } finally {
        TestNodes.stop(node);
      }
    }
  }
}
