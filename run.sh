#!/usr/bin/env bash
# Starts a single-node clearing house on this machine: builds what it needs, starts a local
# Cassandra (data in ./data/cassandra, kept across restarts), forms a one-node cluster and serves
# gRPC on 127.0.0.1:8080 and management HTTP on 127.0.0.1:8558. Ctrl-C stops both.
# Needs only Java 17 and Maven. Environment overrides: see README.md, "Configuration".
# With --demo it then runs ./demo.sh (accounts, trades and a falling price for the console).
set -euo pipefail
cd "$(dirname "$0")"
demo=false
if [ "${1:-}" = "--demo" ]; then
  demo=true
fi

echo "Building (mvn -DskipTests install)..."
mvn -B -q -DskipTests install

classpath="clearing-node/target/clearing-node.jar:$(cat clearing-node/target/node.classpath)"
node=(java ${JAVA_OPTS:-} \
  -Dconfig.resource=local.conf \
  -Dclearinghouse.cassandra.classpath-file="$PWD/persistence/cassandra-server/target/cassandra.classpath" \
  -cp "$classpath" io.clearinghouse.Main)
if ! $demo; then
  exec "${node[@]}"
fi
"${node[@]}" &
pid=$!
./demo.sh &
demo_pid=$!
trap 'kill -TERM $demo_pid $pid 2>/dev/null; wait $pid' INT TERM
wait $pid
