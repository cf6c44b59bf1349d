#!/usr/bin/env bash
# Shows the local cluster of start-cluster.sh: for every node whether its process is alive and
# what /ready and /alive answer (000: nothing answered), then the cluster members as seen by the
# first node that answers. Exits 0 when every node is alive and ready, 1 otherwise.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

nodes=()
while read -r i; do nodes+=("$i"); done < <(known_nodes)
if [ "${#nodes[@]}" -eq 0 ]; then
  echo "No nodes in $run_dir: start them with deploy/local/start-cluster.sh."
  exit 1
fi

all_ready=true
first_live=""
printf '%-5s %-8s %-6s %-6s %-6s %-6s %s\n' node pid alive ready /alive grpc management
for i in "${nodes[@]}"; do
  mport="$(management_port "$i")"
  if pid="$(live_pid "$(node_pid_file "$i")" "$node_marker")"; then
    alive=yes
  else
    pid="$(cat "$(node_pid_file "$i")" 2>/dev/null || echo -)"
    alive=no
  fi
  ready="$(http_code "$mport" /ready)"
  liveness="$(http_code "$mport" /alive)"
  printf '%-5s %-8s %-6s %-6s %-6s %-6s %s\n' "$i" "$pid" "$alive" "$ready" "$liveness" \
    "$(grpc_port "$i")" "http://$host:$mport"
  if [ "$alive" != yes ] || [ "$ready" != 200 ]; then all_ready=false; fi
  if [ -z "$first_live" ] && [ "$liveness" = 200 ]; then first_live="$i"; fi
done

if pid="$(live_pid "$(cassandra_pid_file)" "$cassandra_marker")"; then
  echo "Cassandra: started by start-cluster.sh (pid $pid)"
elif port_open "$cassandra_port"; then
  echo "Cassandra: answering on $host:$cassandra_port (not started by start-cluster.sh)"
else
  echo "Cassandra: nothing answers on $host:$cassandra_port"
fi

echo
if [ -z "$first_live" ]; then
  echo "No node answers: no member list."
  exit 1
fi
members_url="http://$host:$(management_port "$first_live")/cluster/members"
echo "Members, as node $first_live sees them ($members_url):"
members="$(curl -s --max-time 5 "$members_url" || true)"
if command -v python3 >/dev/null 2>&1; then
  printf '%s' "$members" | python3 -c '
import json, sys
try:
    view = json.load(sys.stdin)
except ValueError:
    sys.exit("  (not JSON)")
for m in view.get("members", []):
    print("  %-45s %-8s %s" % (m.get("node"), m.get("status"), ",".join(m.get("roles", []))))
print("  leader: %s   oldest: %s   unreachable: %d" % (
    view.get("leader"), view.get("oldest"), len(view.get("unreachable", []))))
' || echo "  $members"
else
  echo "  $members"
fi

[ "$all_ready" = true ]
