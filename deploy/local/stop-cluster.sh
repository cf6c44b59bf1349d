#!/usr/bin/env bash
# Stops the local cluster that start-cluster.sh started.
#
# Sends SIGTERM to every node, one at a time from the highest number down: coordinated shutdown
# makes the node leave the cluster and hand its shards over to the remaining nodes before it
# exits. Waits for each (STOP_TIMEOUT seconds, default 60; a node still running then is killed,
# and said so). Then stops the local Cassandra, but only if start-cluster.sh started it
# (deploy/local/run/cassandra.pid): one that was already running is left alone
# (CASSANDRA_STOP_TIMEOUT, default 90 s). Only processes recorded in deploy/local/run/, and whose
# command line is still the expected one, are ever signalled.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

stop_timeout="${STOP_TIMEOUT:-60}"
cassandra_stop_timeout="${CASSANDRA_STOP_TIMEOUT:-90}"

# Waits for the processes $2.. to exit, for at most $1 seconds; prints those still running.
wait_for_exit() {
  local deadline=$((SECONDS + $1)) pid left
  shift
  while :; do
    left=()
    for pid in "$@"; do
      if kill -0 "$pid" 2>/dev/null; then left+=("$pid"); fi
    done
    if [ "${#left[@]}" -eq 0 ] || [ "$SECONDS" -ge "$deadline" ]; then
      echo "${left[*]:-}"
      return
    fi
    sleep 1
  done
}

started=$SECONDS
# One at a time, the highest number first: each leaving node hands its shards to nodes that stay,
# and node 1 (the oldest, which hosts the shard coordinator) goes last. Stopping all at once
# leaves the last ones waiting on phases that time out.
for i in $(known_nodes | sort -rn); do
  if pid="$(live_pid "$(node_pid_file "$i")" "$node_marker")"; then
    node_started=$SECONDS
    kill -TERM "$pid"
    stuck="$(wait_for_exit "$stop_timeout" "$pid")"
    if [ -n "$stuck" ]; then
      echo "Node $i: pid $pid still running ${stop_timeout} s after SIGTERM: killing it; see" \
        "$(node_log_file "$i")" >&2
      kill -KILL "$pid" 2>/dev/null || true
    else
      echo "Node $i: pid $pid left the cluster and exited in $((SECONDS - node_started)) s"
    fi
  else
    echo "Node $i: not running"
  fi
done
echo "Nodes stopped in $((SECONDS - started)) s."
for i in $(known_nodes); do
  rm -f "$(node_pid_file "$i")"
done

if pid="$(live_pid "$(cassandra_pid_file)" "$cassandra_marker")"; then
  echo "Cassandra: stopping pid $pid (started by start-cluster.sh)"
  # The launcher's shutdown hook stops the Cassandra server it runs (SIGTERM, then its own wait).
  kill -TERM "$pid"
  stuck="$(wait_for_exit "$cassandra_stop_timeout" "$pid")"
  if [ -n "$stuck" ]; then
    echo "Cassandra launcher (pid $pid) still running after ${cassandra_stop_timeout} s: killing it;" \
      "check the cassandra.pid in its data folder for a leftover server" >&2
    kill -KILL "$pid" 2>/dev/null || true
  else
    echo "Cassandra: stopped."
  fi
elif [ -f "$(cassandra_pid_file)" ]; then
  echo "Cassandra: not running"
else
  echo "Cassandra: not started by start-cluster.sh, left running"
fi
rm -f "$(cassandra_pid_file)"
