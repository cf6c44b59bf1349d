#!/usr/bin/env bash
# Starts a local cluster of N clearing-house nodes (default 3) on loopback, in the background.
#
#   deploy/local/start-cluster.sh [N]      N from 1 to 9
#
# Builds the project if it was never built, starts the shared local Cassandra (data in
# ./data/cassandra, the same as ./run.sh) unless one already answers on 127.0.0.1:9042, starts
# node 1 (which creates the schema), then nodes 2..N, all joining through the seed nodes, and
# waits until every node's /ready answers 200. Node i serves gRPC on 8080+i-1, management HTTP
# on 8558+i-1 and remoting on 25520+i-1. Logs and pid files: deploy/local/run/.
# Stop with deploy/local/stop-cluster.sh; look with deploy/local/status.sh.
#
# Environment: READY_TIMEOUT (seconds, default 240), CASSANDRA_TIMEOUT (default 180),
# JAVA_OPTS (extra JVM options for every node, default -Xmx512m); for the Cassandra:
# CASSANDRA_PORT (CQL, default 9042), CASSANDRA_STORAGE_PORT (default 7000),
# CASSANDRA_DATA_DIR (default data/cassandra).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

nodes="${1:-3}"
if ! [[ "$nodes" =~ ^[0-9]+$ ]] || [ "$nodes" -lt 1 ] || [ "$nodes" -gt "$max_nodes" ]; then
  echo "usage: $0 [N]   (N nodes, 1 to $max_nodes; default 3)" >&2
  exit 64
fi
ready_timeout="${READY_TIMEOUT:-240}"
cassandra_timeout="${CASSANDRA_TIMEOUT:-180}"
java_opts="${JAVA_OPTS:--Xmx512m}"

mkdir -p "$run_dir"
cd "$repo_root"

# Refuse to start over a running cluster or onto busy ports.
for i in $(known_nodes); do
  if pid="$(live_pid "$(node_pid_file "$i")" "$node_marker")"; then
    echo "Node $i is already running (pid $pid): run deploy/local/stop-cluster.sh first." >&2
    exit 1
  fi
  rm -f "$(node_pid_file "$i")"
done
for i in $(seq 1 "$nodes"); do
  for port in "$(grpc_port "$i")" "$(management_port "$i")" "$(remote_port "$i")"; do
    if port_open "$port"; then
      echo "Port $host:$port (node $i) is already in use: is ./run.sh or another node running?" >&2
      exit 1
    fi
  done
done

node_jar="clearing-node/target/clearing-node.jar"
node_classpath_file="clearing-node/target/node.classpath"
cassandra_classpath_file="persistence/cassandra-server/target/cassandra.classpath"
if [ ! -f "$node_classpath_file" ] || [ ! -f "$node_jar" ]; then
  echo "Building (mvn -q -DskipTests install)..."
  mvn -B -q -DskipTests install
fi
node_classpath="$node_jar:$(cat "$node_classpath_file")"

started=$SECONDS

# The shared local Cassandra: reused when something answers CQL, otherwise started here and
# remembered in run/cassandra.pid, so that stop-cluster.sh stops only what this script started.
if port_open "$cassandra_port"; then
  echo "Cassandra: reusing the one answering on $host:$cassandra_port."
else
  if [ ! -f "$cassandra_classpath_file" ]; then
    mvn -B -q -pl persistence/cassandra-server generate-resources
  fi
  cassandra_log="$(cassandra_log_file)"
  cassandra_data="${CASSANDRA_DATA_DIR:-data/cassandra}"
  echo "Cassandra: starting on $host:$cassandra_port (data in $cassandra_data, log $cassandra_log)..."
  # The node classpath holds the persistence jar (LocalCassandra), the driver and logback;
  # the server itself runs in a child JVM from cassandra.classpath.
  setsid nohup java \
    -Dclearinghouse.cassandra.classpath-file="$repo_root/$cassandra_classpath_file" \
    -Dclearinghouse.cassandra.native-port="$cassandra_port" \
    -Dclearinghouse.cassandra.storage-port="$cassandra_storage_port" \
    -cp "$(cat "$node_classpath_file")" \
    "$cassandra_marker" "$cassandra_data" >"$cassandra_log" 2>&1 </dev/null &
  echo $! >"$(cassandra_pid_file)"
  deadline=$((SECONDS + cassandra_timeout))
  until grep -q "Cassandra answers CQL on" "$cassandra_log" 2>/dev/null; do
    if ! live_pid "$(cassandra_pid_file)" "$cassandra_marker" >/dev/null; then
      echo "Cassandra failed to start; the end of $cassandra_log:" >&2
      tail -n 30 "$cassandra_log" >&2
      rm -f "$(cassandra_pid_file)"
      exit 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "Cassandra did not answer within ${cassandra_timeout} s; see $cassandra_log" \
        "(and $cassandra_data/cassandra.log). It is left running: stop-cluster.sh stops it." >&2
      exit 1
    fi
    sleep 1
  done
  echo "Cassandra: up after $((SECONDS - started)) s."
fi

seeds=()
for i in $(seq 1 "$nodes"); do
  seeds+=("-Dpekko.cluster.seed-nodes.$((i - 1))=pekko://ClearingHouse@$host:$(remote_port "$i")")
done

start_node() {
  local i="$1" create_schema="$2" log
  log="$(node_log_file "$i")"
  # shellcheck disable=SC2086 # JAVA_OPTS is a list of options
  CLEARINGHOUSE_GRPC_HOST="$host" CLEARINGHOUSE_GRPC_PORT="$(grpc_port "$i")" \
  CLEARINGHOUSE_MANAGEMENT_HOST="$host" CLEARINGHOUSE_MANAGEMENT_PORT="$(management_port "$i")" \
  CLEARINGHOUSE_REMOTE_HOST="$host" CLEARINGHOUSE_REMOTE_PORT="$(remote_port "$i")" \
  CLEARINGHOUSE_LOCAL_CASSANDRA=false CLEARINGHOUSE_CREATE_SCHEMA="$create_schema" \
  CASSANDRA_CONTACT_POINT="$host:$cassandra_port" \
    setsid nohup java $java_opts -Dconfig.resource=local.conf "${seeds[@]}" \
      -cp "$node_classpath" "$node_marker" >"$log" 2>&1 </dev/null &
  echo $! >"$(node_pid_file "$i")"
  echo "Node $i: pid $!, gRPC $host:$(grpc_port "$i"), management http://$host:$(management_port "$i")," \
    "remoting $host:$(remote_port "$i"), log $log"
}

# Fails with the node's log tail when node $1 has exited.
require_alive() {
  local log
  if ! live_pid "$(node_pid_file "$1")" "$node_marker" >/dev/null; then
    log="$(node_log_file "$1")"
    echo "Node $1 exited; the end of $log:" >&2
    tail -n 30 "$log" >&2
    echo "Stop the others with deploy/local/stop-cluster.sh." >&2
    exit 1
  fi
}

deadline=$((SECONDS + ready_timeout))

# Node 1 alone creates the schema (before its actor system starts, so its /alive implies it is
# done); the others start once it answers, so that no node touches a journal without tables.
start_node 1 true
until [ "$(http_code "$(management_port 1)" /alive)" = 200 ]; do
  require_alive 1
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "Node 1 did not answer /alive within ${ready_timeout} s; see $(node_log_file 1)." \
      "It is left running: deploy/local/stop-cluster.sh stops it." >&2
    exit 1
  fi
  sleep 1
done
for i in $(seq 2 "$nodes"); do
  start_node "$i" false
done

echo "Waiting for every node's /ready (at most ${ready_timeout} s in all)..."
for i in $(seq 1 "$nodes"); do
  until [ "$(http_code "$(management_port "$i")" /ready)" = 200 ]; do
    require_alive "$i"
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "Node $i is not ready after ${ready_timeout} s (GET http://$host:$(management_port "$i")/ready" \
        "answers $(http_code "$(management_port "$i")" /ready)); see $(node_log_file "$i")." >&2
      echo "The nodes are left running: deploy/local/status.sh, deploy/local/stop-cluster.sh." >&2
      exit 1
    fi
    sleep 1
  done
done

echo
echo "All $nodes nodes ready in $((SECONDS - started)) s."
echo "  gRPC:   $host:8080 .. $host:$(grpc_port "$nodes")  (CLEARINGHOUSE_GRPC=$host:8081 ./chctl ... for node 2)"
echo "  tokens: demo-operator-token, demo-client-token (owns demo-1, demo-2), demo-engine-token"
echo "  status: deploy/local/status.sh    stop: deploy/local/stop-cluster.sh"
