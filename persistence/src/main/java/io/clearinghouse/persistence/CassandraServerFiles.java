package io.clearinghouse.persistence;

import java.nio.file.Path;

/** The files LocalCassandra writes into the data folder before it launches the server. */
final class CassandraServerFiles {

  /** Server log to stdout, which LocalCassandra sends to cassandra.log; INFO keeps it readable. */
  static final String LOGBACK_XML = """
      <configuration>
       <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
        <encoder>
         <pattern>%d{HH:mm:ss.SSS} %-5level [%thread] %logger{36} - %msg%n</pattern>
        </encoder>
       </appender>
       <root level="INFO">
        <appender-ref ref="STDOUT"/>
       </root>
      </configuration>
      """;

  private CassandraServerFiles() {
  }

  /**
   * A minimal single-node cassandra.yaml: one token, SimpleSnitch (datacenter1), every directory
   * under the data folder, and low concurrency settings for a two-core machine. auto_snapshot is
   * off so that tests dropping keyspaces do not leave snapshots behind.
   */
  static String cassandraYaml(LocalCassandra.Settings settings) {
    Path dir = settings.dataDir();
    return """
        cluster_name: clearinghouse-local
        num_tokens: 1
        initial_token: 0
        partitioner: org.apache.cassandra.dht.Murmur3Partitioner
        endpoint_snitch: SimpleSnitch
        seed_provider:
          - class_name: org.apache.cassandra.locator.SimpleSeedProvider
            parameters:
              - seeds: "%1$s:%3$d"
        listen_address: %1$s
        rpc_address: %1$s
        storage_port: %3$d
        native_transport_port: %2$d
        start_native_transport: true
        commitlog_sync: periodic
        commitlog_sync_period: 10000ms
        data_file_directories:
          - %4$s
        commitlog_directory: %5$s
        saved_caches_directory: %6$s
        hints_directory: %7$s
        cdc_raw_directory: %8$s
        concurrent_reads: 4
        concurrent_writes: 4
        concurrent_counter_writes: 2
        concurrent_materialized_view_writes: 2
        concurrent_compactors: 1
        auto_snapshot: false
        """.formatted(
        settings.host(),
        settings.nativePort(),
        settings.storagePort(),
        quoted(dir.resolve("data")),
        quoted(dir.resolve("commitlog")),
        quoted(dir.resolve("saved_caches")),
        quoted(dir.resolve("hints")),
        quoted(dir.resolve("cdc_raw")));
  }

  /** A YAML scalar in quotes ("..."), so that paths with spaces or colons survive. */
  private static String quoted(Path path) {
    return '"' + path.toString().replace("\\", "\\\\").replace("\"", "\\\"") + '"';
  }
}
