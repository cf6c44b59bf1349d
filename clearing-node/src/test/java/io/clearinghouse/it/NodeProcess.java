package io.clearinghouse.it;

import io.clearinghouse.Main;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A clearing-house node in a JVM of its own ({@code java -cp <the test classpath>
 * io.clearinghouse.Main}), on loopback ports of its own, configured by a HOCON file that includes
 * the node's {@code application.conf} and then overrides ports, keyspaces, seed nodes, tokens and
 * whatever else the test passes. Its stdout and stderr go to a log file. A JVM shutdown hook
 * kills it if the test JVM exits without stopping it.
 */
final class NodeProcess implements AutoCloseable {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  final String name;
  final int grpcPort;
  final int managementPort;
  final int remotePort;
  final Path config;
  final Path log;
  private Process process;
  private final Thread killOnExit;

  private NodeProcess(String name, Path dir) {
    this.name = name;
    this.grpcPort = TestNodes.freePort();
    this.managementPort = TestNodes.freePort();
    this.remotePort = TestNodes.freePort();
    this.config = dir.resolve(name + ".conf");
    this.log = dir.resolve(name + ".log");
    this.killOnExit = new Thread(() -> {
      if (process != null) {
        process.destroyForcibly();
      }
    }, name + "-kill-on-exit");
  }

  /** Ports are chosen now; the process starts with {@link #start}. */
  static NodeProcess prepare(String name, Path dir) {
    return new NodeProcess(name, dir);
  }

  /** The node's cluster address, as seed nodes and /cluster/members name it. */
  String clusterAddress() {
    return "pekko://" + Main.SYSTEM_NAME + "@127.0.0.1:" + remotePort;
  }

  /**
   * Writes the configuration file ({@code application.conf}, then {@code overrides}, then the
   * node's own ports) and starts the JVM.
   */
  void start(String overrides, List<String> jvmOptions) {
    String hocon = String.join("\n",
        "include classpath(\"application.conf\")",
        // The kill test trades without a feeder.
        "clearinghouse.require-mark = off",
        // The tests' accounts trade above the beginner profile's 3x; its own test turns it on.
        "clearinghouse.account.beginner-leverage = 0",
        overrides,
        "clearinghouse.grpc.host = \"127.0.0.1\"",
        "clearinghouse.grpc.port = " + grpcPort,
        "pekko.management.http.hostname = \"127.0.0.1\"",
        "pekko.management.http.port = " + managementPort,
        "pekko.remote.artery.canonical.hostname = \"127.0.0.1\"",
        "pekko.remote.artery.canonical.port = " + remotePort,
        "");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.add("-Dconfig.file=" + config.toAbsolutePath());
    command.add("-Dclearinghouse.it.node=" + name);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Main.class.getName());
    try {
      Files.createDirectories(config.getParent());
      Files.writeString(config, hocon, StandardCharsets.UTF_8);
      ProcessBuilder builder = new ProcessBuilder(command)
          .redirectErrorStream(true)
          .redirectOutput(log.toFile())
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
      // The node's configuration reads CLEARINGHOUSE_* variables; none of the test's may leak in.
      builder.environment().keySet().removeIf(key -> key.startsWith("CLEARINGHOUSE_") || key.startsWith("CASSANDRA_"));
      process = builder.start();
      Runtime.getRuntime().addShutdownHook(killOnExit);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name, e);
    }
  }

  long pid() {
    return process.pid();
  }

  boolean alive() {
    return process != null && process.isAlive();
  }

  /** Fails with the end of the log when the process has exited. */
  void requireAlive() {
    if (!alive()) {
      throw new AssertionError(name + " exited with " + process.exitValue() + "; end of " + log + ":\n" + logTail(60));
    }
  }

  /** GET {@code path} on the management port: the status and body, or empty when it does not answer. */
  Optional<HttpResponse<String>> management(String path) {
    try {
      // The operator token, which /metrics needs (clearinghouse.management.metrics-token-required).
      HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + path))
          .header("Authorization", "Bearer " + TestNodes.OPERATOR_TOKEN).timeout(Duration.ofSeconds(8)).GET().build();
      return Optional.of(HTTP.send(request, HttpResponse.BodyHandlers.ofString()));
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  /**
   * SIGKILL ({@link Process#destroyForcibly} on Linux): no coordinated shutdown, no leaving the
   * cluster. Returns once the operating system reports the process gone, and checks that it died
   * of signal 9 (exit status 137).
   */
  void kill() {
    long pid = process.pid();
    process.destroyForcibly();
    try {
      int status = process.onExit().get(30, TimeUnit.SECONDS).exitValue();
      if (status != 128 + 9) {
        throw new AssertionError(name + " (pid " + pid + ") exited with " + status + ", not by SIGKILL");
      }
    } catch (Exception e) {
      throw new AssertionError(name + " (pid " + pid + ") did not die within 30 s of SIGKILL", e);
    }
    if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
      throw new AssertionError("pid " + pid + " is still alive after SIGKILL");
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited after {@code grace}. */
  void stop(Duration grace) {
    if (process == null) {
      return;
    }
    try {
      if (process.isAlive()) {
        process.destroy();
        if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
          process.destroyForcibly();
          process.waitFor(30, TimeUnit.SECONDS);
        }
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(killOnExit);
      } catch (IllegalStateException | IllegalArgumentException shuttingDownOrNotRegistered) {
        // the hook runs, or was never added
      }
    }
  }

  @Override
  public void close() {
    stop(Duration.ofSeconds(20));
  }

  String logTail(int lines) {
    try {
      List<String> all = readLog();
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException | UncheckedIOException e) {
      return "(no log: " + e + ")";
    }
  }

  /** The log lines containing any of {@code needles}. */
  List<String> logLines(String... needles) {
    try {
      return readLog().stream()
          .filter(line -> java.util.Arrays.stream(needles).anyMatch(line::contains))
          .toList();
    } catch (IOException | UncheckedIOException e) {
      return List.of("(no log: " + e + ")");
    }
  }

  private List<String> readLog() throws IOException {
    return new String(Files.readAllBytes(log), StandardCharsets.UTF_8).lines().toList();
  }

  @Override
  public String toString() {
    return name + " (pid " + (process == null ? "-" : process.pid()) + ", gRPC " + grpcPort + ", management "
        + managementPort + ", remoting " + remotePort + ")";
  }
}
