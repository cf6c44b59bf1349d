package io.clearinghouse.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A node started with a malformed configuration or an unreachable Cassandra exits at once with a
 * message naming the problem: it never hangs half-started. Each case runs the real main class in a
 * process of its own.
 */
class StartupFailureIntegrationTest {

  private record Exit(int code, String output) {}

  private static Exit runMain(String... properties) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"),
        // Free ports nobody else uses, so a node that did start would not disturb anything.
        "-Dclearinghouse.grpc.port=0", "-Dpekko.management.http.port=0", "-Dpekko.remote.artery.canonical.port=0",
        "-Dclearinghouse.local-cassandra.enabled=false"));
    for (String property : properties) {
      command.add("-D" + property);
    }
    command.add("io.clearinghouse.Main");
    Path output = Files.createTempFile("startup-failure", ".log");
    Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
    try {
      boolean exited = process.waitFor(60, TimeUnit.SECONDS);
      String text = Files.readString(output, StandardCharsets.UTF_8);
      assertTrue(exited, "the node did not exit:\n" + text);
      return new Exit(process.exitValue(), text);
    } finally {
      process.destroyForcibly();
      Files.deleteIfExists(output);
    }
  }

  @Test
  @Timeout(90)
  void aMalformedConfigurationNamesTheKey() throws Exception {
    Exit exit = runMain("clearinghouse.account.default-leverage=zero");
    assertEquals(2, exit.code(), exit.output());
    assertTrue(exit.output().contains("Configuration error") && exit.output().contains("default-leverage"),
        exit.output());
  }

  @Test
  @Timeout(90)
  void aBadTokenHashNamesTheKey() throws Exception {
    Exit exit = runMain("clearinghouse.auth.tokens.0.name=ops", "clearinghouse.auth.tokens.0.role=operator",
        "clearinghouse.auth.tokens.0.sha256=not-a-hash");
    assertEquals(2, exit.code(), exit.output());
    assertTrue(exit.output().contains("clearinghouse.auth.tokens[0].sha256"), exit.output());
  }

  @Test
  @Timeout(90)
  void anUnreachableCassandraNamesTheAddress() throws Exception {
    Exit exit = runMain("datastax-java-driver.basic.contact-points.0=127.0.0.1:1",
        "clearinghouse.persistence.create-schema=false");
    assertEquals(3, exit.code(), exit.output());
    assertTrue(exit.output().contains("Cassandra does not answer at 127.0.0.1:1"), exit.output());
  }
}
