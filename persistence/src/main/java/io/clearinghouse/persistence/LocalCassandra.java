package io.clearinghouse.persistence;

// Over 450 lines: one launcher (start, reuse, wait, stop) with its settings; its parts only make sense together.

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DriverException;
import com.datastax.oss.driver.api.core.cql.Row;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Cassandra 5 for development and tests, run as a child JVM.
 *
 * <p>There is no Docker here and no embeddable Cassandra that runs on Java 17, so the server runs
 * from the classpath that the {@code persistence/cassandra-server} module resolves, in its own JVM
 * (its Netty, Guava and Jackson never meet the application's). If something already answers CQL on
 * the configured port, it is reused and left alone.
 */
public final class LocalCassandra implements AutoCloseable {

  /** Path of the file holding the server's runtime classpath (written by cassandra-server). */
  public static final String CLASSPATH_FILE_PROPERTY = "clearinghouse.cassandra.classpath-file";
  /** Data folder of {@link #shared()}; {@code target/cassandra-test} when unset. */
  public static final String TEST_DATA_DIR_PROPERTY = "clearinghouse.cassandra.test-data-dir";
  /** SimpleSnitch places the single node in this datacenter. */
  public static final String LOCAL_DATACENTER = "datacenter1";

  private static final Logger log = LoggerFactory.getLogger(LocalCassandra.class);

  private static final String MAIN_CLASS = "org.apache.cassandra.service.CassandraDaemon";
  private static final Duration POLL_INTERVAL = Duration.ofMillis(500);
  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration STOP_GRACE = Duration.ofSeconds(30);
  private static final int LOG_TAIL_LINES = 60;

  /**
   * The JPMS and Netty flags of Cassandra 5.0's conf/jvm17-server.options. cassandra-all does not
   * ship that file, so its flags are kept here as data.
   */
  private static final List<String> JVM17_SERVER_OPTIONS = List.of(
      "-Djdk.attach.allowAttachSelf=true",
      "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
      "--add-exports", "java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED",
      "--add-exports", "java.rmi/sun.rmi.registry=ALL-UNNAMED",
      "--add-exports", "java.rmi/sun.rmi.server=ALL-UNNAMED",
      "--add-exports", "java.sql/java.sql=ALL-UNNAMED",
      "--add-exports", "java.base/java.lang.ref=ALL-UNNAMED",
      "--add-exports", "jdk.unsupported/sun.misc=ALL-UNNAMED",
      "--add-exports", "jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
      "--add-exports", "jdk.attach/sun.tools.attach=ALL-UNNAMED",
      "--add-opens", "java.base/java.lang.module=ALL-UNNAMED",
      "--add-opens", "java.base/jdk.internal.loader=ALL-UNNAMED",
      "--add-opens", "java.base/jdk.internal.ref=ALL-UNNAMED",
      "--add-opens", "java.base/jdk.internal.reflect=ALL-UNNAMED",
      "--add-opens", "java.base/jdk.internal.math=ALL-UNNAMED",
      "--add-opens", "java.base/jdk.internal.module=ALL-UNNAMED",
      "--add-opens", "java.base/jdk.internal.util.jar=ALL-UNNAMED",
      "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED",
      "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
      "--add-opens", "java.base/java.io=ALL-UNNAMED",
      "--add-opens", "java.base/java.lang.reflect=ALL-UNNAMED",
      "--add-opens", "jdk.compiler/com.sun.tools.javac=ALL-UNNAMED",
      "--add-opens", "java.base/java.lang=ALL-UNNAMED",
      "--add-opens", "java.base/java.util=ALL-UNNAMED",
      "--add-opens", "java.base/java.nio=ALL-UNNAMED",
      "-Dio.netty.tryReflectionSetAccessible=true",
      "-Dio.netty.allocator.useCacheForAllThreads=true",
      "-Dio.netty.allocator.maxOrder=11");

  private static LocalCassandra shared;

  private final Settings settings;
  private final Process process;
  private final Thread shutdownHook;
  private boolean stopped;

  /**
   * Where and how to run the server.
   *
   * @param host          address for CQL, gossip and the seed list
   * @param nativePort    CQL port
   * @param storagePort   inter-node port (bound even on a single node)
   * @param dataDir       holds cassandra.yaml, the data directories, the log and the pid file
   * @param classpathFile file with the server's classpath, as written by cassandra-server
   * @param heapMb        -Xms and -Xmx of the child JVM
   * @param startTimeout  how long to wait for CQL to answer
   */
  public record Settings(String host, int nativePort, int storagePort, Path dataDir, Path classpathFile,
              int heapMb, Duration startTimeout) {

    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_NATIVE_PORT = 9042;
    public static final int DEFAULT_STORAGE_PORT = 7000;
    // 256 MB ran out of heap flushing memtables once a few dozen test keyspaces existed.
    public static final int DEFAULT_HEAP_MB = 1024;
    public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(120);

    public Settings {
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(dataDir, "dataDir");
      Objects.requireNonNull(classpathFile, "classpathFile");
      Objects.requireNonNull(startTimeout, "startTimeout");
      requirePort(nativePort, "nativePort");
      requirePort(storagePort, "storagePort");
      if (heapMb < 128) {
        throw new IllegalArgumentException("heapMb must be at least 128, was " + heapMb);
      }
      dataDir = dataDir.toAbsolutePath().normalize();
      classpathFile = classpathFile.toAbsolutePath().normalize();
    }

    /** Default host, ports, heap and timeout. */
    public static Settings of(Path dataDir, Path classpathFile) {
      return new Settings(DEFAULT_HOST, DEFAULT_NATIVE_PORT, DEFAULT_STORAGE_PORT, dataDir, classpathFile,
          DEFAULT_HEAP_MB, DEFAULT_START_TIMEOUT);
    }

    /**
     * Reads {@value #CLASSPATH_FILE_PROPERTY} (required, the file must exist) and the optional
     * overrides {@code clearinghouse.cassandra.host}, {@code .native-port}, {@code .storage-port},
     * {@code .data-dir}, {@code .heap-mb} and {@code .start-timeout-seconds}.
     */
    public static Settings fromSystemProperties(Path defaultDataDir) {
      String classpathFile = System.getProperty(CLASSPATH_FILE_PROPERTY);
      if (classpathFile == null || classpathFile.isBlank()) {
        throw new IllegalStateException("System property " + CLASSPATH_FILE_PROPERTY + " is not set. Point it"
            + " at persistence/cassandra-server/target/cassandra.classpath, which"
            + " `mvn -pl persistence/cassandra-server generate-resources` writes.");
      }
      Path file = Path.of(classpathFile);
      if (!Files.isRegularFile(file)) {
        throw new IllegalStateException(CLASSPATH_FILE_PROPERTY + " names " + file.toAbsolutePath()
            + ", which does not exist. Run `mvn -pl persistence/cassandra-server generate-resources`"
            + " from the project root first.");
      }
      return new Settings(
          System.getProperty("clearinghouse.cassandra.host", DEFAULT_HOST),
          Integer.getInteger("clearinghouse.cassandra.native-port", DEFAULT_NATIVE_PORT),
          Integer.getInteger("clearinghouse.cassandra.storage-port", DEFAULT_STORAGE_PORT),
          Path.of(System.getProperty("clearinghouse.cassandra.data-dir", defaultDataDir.toString())),
          file,
          Integer.getInteger("clearinghouse.cassandra.heap-mb", DEFAULT_HEAP_MB),
          Duration.ofSeconds(Long.getLong("clearinghouse.cassandra.start-timeout-seconds",
              DEFAULT_START_TIMEOUT.toSeconds())));
    }

    public Settings withDataDir(Path newDataDir) {
      return new Settings(host, nativePort, storagePort, newDataDir, classpathFile, heapMb, startTimeout);
    }

    /** "host:port" of the CQL endpoint. */
    public String contactPoint() {
      return host + ":" + nativePort;
    }

    Path logFile() {
      return dataDir.resolve("cassandra.log");
    }

    Path pidFile() {
      return dataDir.resolve("cassandra.pid");
    }

    private static void requirePort(int port, String name) {
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException(name + " out of range: " + port);
      }
    }
  }

  private LocalCassandra(Settings settings, Process process) {
    this.settings = settings;
    this.process = process;
    if (process == null) {
      this.shutdownHook = null;
    } else {
      // A Ctrl-C (or any normal exit) of this JVM must not leave the server running.
      this.shutdownHook = new Thread(this::stop, "local-cassandra-stop");
      Runtime.getRuntime().addShutdownHook(shutdownHook);
    }
  }

  /**
   * Reuses the Cassandra that answers CQL on {@code settings.contactPoint()}, or starts one and
   * waits until it answers.
   *
   * @throws IllegalStateException when the server exits or does not answer within the start
   *                               timeout; the message ends with the tail of its log
   */
  public static LocalCassandra start(Settings settings) {
    if (awaitRunningOrFreePorts(settings)) {
      return new LocalCassandra(settings, null);
    }
    Instant launchedAt = Instant.now();
    LocalCassandra cassandra = new LocalCassandra(settings, launch(settings));
    try {
      awaitCql(settings, cassandra.process, launchedAt);
      return cassandra;
    } catch (RuntimeException e) {
      cassandra.stop();
      if (releaseVersion(settings).isPresent()) {
        // Another JVM won the race for the ports while ours booted.
        log.info("Another Cassandra took {} while this one booted: reusing it", settings.contactPoint());
        return new LocalCassandra(settings, null);
      }
      throw e;
    }
  }

  /**
   * One Cassandra per JVM for tests, in {@value #TEST_DATA_DIR_PROPERTY} or
   * {@code target/cassandra-test}. The shutdown hook registered by {@link #start} stops it when
   * the test JVM exits.
   */
  public static synchronized LocalCassandra shared() {
    if (shared == null || shared.isStopped()) {
      String dataDir = System.getProperty(TEST_DATA_DIR_PROPERTY);
      Path dir = dataDir == null || dataDir.isBlank() ? Path.of("target", "cassandra-test") : Path.of(dataDir);
      shared = start(Settings.fromSystemProperties(dir));
    }
    return shared;
  }

  public Settings settings() {
    return settings;
  }

  /** "host:port" to give the driver. */
  public String contactPoint() {
    return settings.contactPoint();
  }

  /** False when an already running Cassandra was reused; {@link #stop()} then leaves it alone. */
  public boolean startedHere() {
    return process != null;
  }

  public synchronized boolean isStopped() {
    return stopped;
  }

  /**
   * Stops the server if this instance started it: SIGTERM so that Cassandra flushes and exits
   * cleanly, then a forced kill after {@code 30 s}. Idempotent.
   */
  public synchronized void stop() {
    if (stopped) {
      return;
    }
    stopped = true;
    if (process == null) {
      return;
    }
    removeShutdownHook();
    terminate();
    deleteQuietly(settings.pidFile());
  }

  @Override
  public void close() {
    stop();
  }

  /**
   * Runs Cassandra with the data folder {@code args[0]} (default {@code ./data/cassandra}) until
   * this JVM is killed, for deploy scripts. Needs {@value #CLASSPATH_FILE_PROPERTY}.
   */
  public static void main(String[] args) throws InterruptedException {
    Settings settings = Settings.fromSystemProperties(Path.of("data", "cassandra"));
    LocalCassandra cassandra = start(args.length > 0 ? settings.withDataDir(Path.of(args[0])) : settings);
    System.out.println("Cassandra answers CQL on " + cassandra.contactPoint()
        + (cassandra.startedHere() ? " (pid " + cassandra.process.pid() + ")" : " (reused, not started here)"));
    if (!cassandra.startedHere()) {
      new CountDownLatch(1).await();
    }
    int exitCode = cassandra.process.waitFor();
    if (!cassandra.isStopped()) {
      // The server died by itself: make that visible to whatever supervises this JVM.
      System.err.println("Cassandra exited with code " + exitCode + "; see " + cassandra.settings.logFile());
      System.exit(exitCode == 0 ? 1 : exitCode);
    }
  }

  private static Process launch(Settings settings) {
    try {
      Files.createDirectories(settings.dataDir());
      List<String> classpath = readClasspath(settings.classpathFile());
      Path config = settings.dataDir().resolve("cassandra.yaml");
      Files.writeString(config, CassandraServerFiles.cassandraYaml(settings));
      Path logbackConfig = settings.dataDir().resolve("logback.xml");
      Files.writeString(logbackConfig, CassandraServerFiles.LOGBACK_XML);

      List<String> command = new ArrayList<>();
      command.add(javaExecutable());
      command.add("-Xms" + settings.heapMb() + "m");
      command.add("-Xmx" + settings.heapMb() + "m");
      command.add("-javaagent:" + jammJar(classpath, settings.classpathFile()));
      command.addAll(JVM17_SERVER_OPTIONS);
      command.add("-Dcassandra-foreground=yes");
      command.add("-Dcassandra.config=" + config.toUri());
      command.add("-Dcassandra.storagedir=" + settings.dataDir());
      command.add("-Dcassandra.logdir=" + settings.dataDir());
      command.add("-Dlogback.configurationFile=" + logbackConfig);
      command.add("-Dcassandra.skip_wait_for_gossip_to_settle=0");
      command.add("-Dcassandra.ring_delay_ms=0");
      command.add("-Dcassandra.superuser_setup_delay_ms=0");
      command.add("-cp");
      command.add(String.join(java.io.File.pathSeparator, classpath));
      command.add(MAIN_CLASS);

      ProcessBuilder builder = new ProcessBuilder(command)
          .directory(settings.dataDir().toFile())
          .redirectErrorStream(true)
          .redirectOutput(settings.logFile().toFile());
      // Agents or flags meant for this JVM (coverage, debuggers) must not leak into the server.
      builder.environment().remove("JAVA_TOOL_OPTIONS");
      builder.environment().remove("JDK_JAVA_OPTIONS");
      builder.environment().remove("_JAVA_OPTIONS");
      Process process = builder.start();
      Files.writeString(settings.pidFile(), process.pid() + System.lineSeparator());
      log.info("Launched Cassandra (pid {}) in {}, heap {} MB, log {}", process.pid(), settings.dataDir(),
          settings.heapMb(), settings.logFile());
      return process;
    } catch (IOException e) {
      throw new UncheckedIOException("Could not launch Cassandra in " + settings.dataDir(), e);
    }
  }

  /**
   * True when a Cassandra answers CQL on the endpoint (reuse it), false when its ports are free
   * (launch one). While the ports are taken without CQL answering, a server (another JVM's) is
   * booting or shutting down: wait for one or the other.
   */
  private static boolean awaitRunningOrFreePorts(Settings settings) {
    Instant deadline = Instant.now().plus(settings.startTimeout());
    boolean waitLogged = false;
    while (true) {
      Optional<String> running = releaseVersion(settings);
      if (running.isPresent()) {
        log.info("Cassandra {} already answers CQL on {}: reusing it", running.get(), settings.contactPoint());
        return true;
      }
      if (!portOpen(settings.host(), settings.nativePort()) && !portOpen(settings.host(), settings.storagePort())) {
        return false;
      }
      if (Instant.now().isAfter(deadline)) {
        throw new IllegalStateException("Ports " + settings.nativePort() + "/" + settings.storagePort()
            + " on " + settings.host() + " stayed in use for " + settings.startTimeout().toSeconds()
            + " s without CQL answering on " + settings.contactPoint());
      }
      if (!waitLogged) {
        log.info("Ports {}/{} are taken but CQL does not answer: waiting for that server to come up or go",
            settings.nativePort(), settings.storagePort());
        waitLogged = true;
      }
      pause(null);
    }
  }

  /** Polls with the real driver until CQL answers; the child must stay alive meanwhile. */
  private static void awaitCql(Settings settings, Process child, Instant since) {
    Instant deadline = since.plus(settings.startTimeout());
    while (true) {
      Optional<String> version = releaseVersion(settings);
      if (version.isPresent()) {
        log.info("Cassandra {} answers CQL on {}, {} ms after launch", version.get(), settings.contactPoint(),
            Duration.between(since, Instant.now()).toMillis());
        return;
      }
      if (!child.isAlive()) {
        throw new IllegalStateException("Cassandra exited with code " + child.exitValue()
            + " before CQL answered on " + settings.contactPoint() + logTail(settings));
      }
      if (Instant.now().isAfter(deadline)) {
        throw new IllegalStateException("CQL did not answer on " + settings.contactPoint() + " within "
            + settings.startTimeout().toSeconds() + " s" + logTail(settings));
      }
      pause(child);
    }
  }

  /** The pace of the probes: returns early when the child exits. */
  private static void pause(Process child) {
    try {
      if (child != null) {
        child.waitFor(POLL_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
      } else {
        LockSupport.parkNanos(POLL_INTERVAL.toNanos());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while waiting for Cassandra", e);
    }
  }

  /** The server's version if CQL answers on the endpoint now, else empty. */
  private static Optional<String> releaseVersion(Settings settings) {
    // A plain connect first: cheaper and quieter than a driver session to a closed port.
    if (!portOpen(settings.host(), settings.nativePort())) {
      return Optional.empty();
    }
    try (CqlSession session = CqlSessions.open(settings.contactPoint(), LOCAL_DATACENTER, PROBE_TIMEOUT)) {
      Row row = session.execute("SELECT release_version FROM system.local").one();
      return row == null ? Optional.empty() : Optional.ofNullable(row.getString("release_version"));
    } catch (DriverException e) {
      log.debug("CQL probe of {} failed: {}", settings.contactPoint(), e.toString());
      return Optional.empty();
    }
  }

  private static boolean portOpen(String host, int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(host, port), (int) Duration.ofSeconds(1).toMillis());
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private void terminate() {
    if (!process.isAlive()) {
      return;
    }
    log.info("Stopping Cassandra (pid {})", process.pid());
    Instant begun = Instant.now();
    process.destroy();
    try {
      if (!process.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
        log.warn("Cassandra (pid {}) still running after {} s: killing it", process.pid(),
            STOP_GRACE.toSeconds());
        process.destroyForcibly().waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
      }
      log.info("Cassandra (pid {}) stopped in {} ms", process.pid(),
          Duration.between(begun, Instant.now()).toMillis());
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private void removeShutdownHook() {
    if (Thread.currentThread() == shutdownHook) {
      return;
    }
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException shutdownInProgress) {
      log.debug("JVM is shutting down; its hooks run anyway");
    }
  }

  private static List<String> readClasspath(Path classpathFile) throws IOException {
    String content = Files.readString(classpathFile).trim();
    if (content.isEmpty()) {
      throw new IllegalStateException(classpathFile + " is empty: rerun"
          + " `mvn -pl persistence/cassandra-server generate-resources`");
    }
    return Arrays.asList(content.split(java.io.File.pathSeparator));
  }

  private static String jammJar(List<String> classpath, Path classpathFile) {
    return classpath.stream()
        .filter(entry -> Path.of(entry).getFileName().toString().matches("jamm-.*\\.jar"))
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("No jamm jar in " + classpathFile
            + ": Cassandra needs it as its -javaagent"));
  }

  private static String javaExecutable() {
    Path fromJavaHome = Path.of(System.getProperty("java.home"), "bin", "java");
    if (Files.isExecutable(fromJavaHome)) {
      return fromJavaHome.toString();
    }
    return ProcessHandle.current().info().command()
        .orElseThrow(() -> new IllegalStateException("Cannot find the java executable of this JVM"));
  }

  private static String logTail(Settings settings) {
    Path logFile = settings.logFile();
    try {
      List<String> lines = new String(Files.readAllBytes(logFile), StandardCharsets.UTF_8).lines().toList();
      List<String> tail = lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size());
      return "\n--- last " + tail.size() + " lines of " + logFile + " ---\n" + String.join("\n", tail);
    } catch (IOException e) {
      return " (no log at " + logFile + ")";
    }
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      log.debug("Could not delete {}: {}", file, e.toString());
    }
  }
}
