# Shared by start-cluster.sh, stop-cluster.sh and status.sh (sourced, not run).
# Node i (1-based) listens on loopback only:
#   gRPC 8080+i-1, management HTTP 8558+i-1, Pekko remoting 25520+i-1.
# shellcheck shell=bash disable=SC2034 # the variables are used by the scripts that source this

deploy_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$deploy_dir/../.." && pwd)"
run_dir="$deploy_dir/run"

readonly host="127.0.0.1"
readonly max_nodes=9
# The shared local Cassandra (overridable, e.g. to try the scripts next to another Cassandra).
readonly cassandra_port="${CASSANDRA_PORT:-9042}"
readonly cassandra_storage_port="${CASSANDRA_STORAGE_PORT:-7000}"

grpc_port() { echo $((8080 + $1 - 1)); }
management_port() { echo $((8558 + $1 - 1)); }
remote_port() { echo $((25520 + $1 - 1)); }

node_pid_file() { echo "$run_dir/node-$1.pid"; }
node_log_file() { echo "$run_dir/node-$1.log"; }
cassandra_pid_file() { echo "$run_dir/cassandra.pid"; }
cassandra_log_file() { echo "$run_dir/cassandra.log"; }

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() {
  (exec 3<>"/dev/tcp/$host/$1") 2>/dev/null
}

# The HTTP status of GET http://127.0.0.1:$1$2, or 000 when nothing answers within 2 s.
http_code() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$host:$1$2" || true
}

# Prints the pid in file $1 when that process is alive and its command line contains $2
# (so a pid reused by an unrelated process is never taken for ours); fails otherwise.
live_pid() {
  local file="$1" marker="$2" pid
  [ -f "$file" ] || return 1
  pid="$(cat "$file")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker" || return 1
  echo "$pid"
}

# Node numbers that have a pid file, in order.
known_nodes() {
  local file i
  for file in "$run_dir"/node-*.pid; do
    [ -e "$file" ] || continue
    i="${file##*/node-}"
    echo "${i%.pid}"
  done | sort -n
}

readonly node_marker="io.clearinghouse.Main"
readonly cassandra_marker="io.clearinghouse.persistence.LocalCassandra"
