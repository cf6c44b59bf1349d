package io.clearinghouse.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.persistence.LocalCassandra;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * README.md's five-minute tour, run as written: a fresh node with the local mode's settings (the
 * demo tokens, the mark required before trading), then every {@code $} command of the tour's
 * console blocks through {@code ./chctl} in one bash, each output compared with the README's. The
 * README is right because this test passes; when it fails, {@code target/README.tour.md} is the
 * README with the outputs of this run, to review.
 */
class ReadmeTourTest {
  private static final Duration START_BUDGET = Duration.ofSeconds(120);
  private static final Duration STEP_TIMEOUT = Duration.ofSeconds(60);

  @Test
  void theTourPrintsWhatTheReadmeShows() throws Exception {
    Path root = repositoryRoot();
    Path readme = root.resolve("README.md");
    List<ReadmeTour.Step> steps = ReadmeTour.parse(readme);
    assertTrue(steps.size() > 30, "the tour has its commands: " + steps.size());

    String keyspace = TestNodes.newKeyspace("tour");
    Path dir = Path.of("target", "readme-tour", keyspace).toAbsolutePath();
    Files.createDirectories(dir);
    // chctl is called as ./chctl from a folder of the test's own, so that files the tour writes
    // stay out of the repository.
    Files.createSymbolicLink(dir.resolve("chctl"), root.resolve("chctl"));
    try (NodeProcess node = NodeProcess.prepare("tour-node", dir)) {
      node.start(String.join("\n",
          "pekko.persistence.cassandra.journal.keyspace = " + keyspace,
          "pekko.persistence.cassandra.snapshot.keyspace = " + keyspace + "_snap",
          "datastax-java-driver.basic.contact-points = [\"" + LocalCassandra.shared().contactPoint() + "\"]",
          // What local.conf (./run.sh) sets, but the Cassandra: the tests' shared one.
          "clearinghouse.demo.enabled = true",
          "clearinghouse.account.beginner-leverage = 0",
          "clearinghouse.management.metrics-token-required = off",
          "clearinghouse.require-mark = on"), List.of("-Xmx512m"));
      awaitServing(node);

      Map<String, String> addresses = new LinkedHashMap<>();
      addresses.put("127.0.0.1:8080", "127.0.0.1:" + node.grpcPort);
      addresses.put("127.0.0.1:8558", "127.0.0.1:" + node.managementPort);
      addresses.put("127.0.0.1:25520", "127.0.0.1:" + node.remotePort);
      Map<String, String> env = Map.of(
          "CLEARINGHOUSE_GRPC", "127.0.0.1:" + node.grpcPort,
          "CLEARINGHOUSE_MANAGEMENT", "http://127.0.0.1:" + node.managementPort);
      List<ReadmeTour.Outcome> outcomes = ReadmeTour.run(steps, dir, env, addresses, STEP_TIMEOUT);

      Path actual = Path.of("target", "README.tour.md");
      Files.writeString(actual, ReadmeTour.withActualOutputs(readme, outcomes), StandardCharsets.UTF_8);
      StringBuilder differences = new StringBuilder();
      for (ReadmeTour.Outcome outcome : outcomes) {
        if (!outcome.matches()) {
          differences.append("\nREADME.md:").append(outcome.step().line()).append(" $ ").append(outcome.step().command())
              .append("\n  README shows:\n    ").append(String.join("\n    ", outcome.step().expected()))
              .append("\n  the node printed:\n    ").append(String.join("\n    ", outcome.actual()));
        }
      }
      assertEquals("", differences.toString(), "the tour's outputs differ from the README's (the README with this"
          + " run's outputs: " + actual.toAbsolutePath() + "); node log " + node.log);

      // Whatever the tour shows, it ends with a clean ledger.
      ProcessBuilder auditCall = new ProcessBuilder(dir.resolve("chctl").toString(), "audit")
          .redirectErrorStream(true).directory(dir.toFile());
      // This node, as the operator (not whatever answers on the default port).
      auditCall.environment().putAll(env);
      auditCall.environment().put("CLEARINGHOUSE_TOKEN", "demo-operator-token");
      Process audit = auditCall.start();
      audit.getOutputStream().close();
      String report = new String(audit.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(audit.waitFor(60, TimeUnit.SECONDS), "chctl audit did not finish");
      assertEquals(0, audit.exitValue(), report);
      assertTrue(report.startsWith("clean          true"), report);
    }
  }

  private static Path repositoryRoot() {
    String configured = System.getProperty("clearinghouse.repository-root");
    Path root = (configured == null ? Path.of("..") : Path.of(configured)).toAbsolutePath().normalize();
    if (!Files.isRegularFile(root.resolve("README.md")) || !Files.isRegularFile(root.resolve("chctl"))) {
      throw new IllegalStateException("no README.md and chctl in " + root);
    }
    return root;
  }

  /** Until the node answers on its management port and accepts gRPC connections. */
  private static void awaitServing(NodeProcess node) {
    long deadline = System.nanoTime() + START_BUDGET.toNanos();
    while (!(node.management("/alive").map(r -> r.statusCode() == 200).orElse(false) && accepts(node.grpcPort))) {
      node.requireAlive();
      if (System.nanoTime() > deadline) {
        throw new AssertionError(node + " not serving within " + START_BUDGET + ":\n" + node.logTail(40));
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(250));
    }
  }

  private static boolean accepts(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
