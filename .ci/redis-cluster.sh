#!/usr/bin/env bash
# A local Redis Cluster from Debian's redis-server: three primaries and three replicas on six
# consecutive ports, in-memory only. Used by CI and by anyone running the cluster tests locally:
#   .ci/redis-cluster.sh start [FIRST_PORT] [DIR]   → prints TEST_REDIS_CLUSTER_NODES=127.0.0.1:P,…
#   .ci/redis-cluster.sh stop  [FIRST_PORT] [DIR]
# A short cluster-node-timeout makes a killed primary fail over in about a second (tests do that);
# cluster-require-full-coverage no keeps the other shards serving meanwhile (docs/protocol.md).
set -euo pipefail
ACTION=${1:-start}
FIRST=${2:-7100}
DIR=${3:-${TMPDIR:-/tmp}/rapt-redis-cluster-$FIRST}
PORTS=$(seq "$FIRST" $((FIRST + 5)))

stop() {
  for p in $PORTS; do redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true; done
  rm -rf "$DIR"
}

if [ "$ACTION" = "stop" ]; then stop; exit 0; fi
[ "$ACTION" = "start" ] || { echo "usage: $0 start|stop [FIRST_PORT] [DIR]" >&2; exit 2; }

stop
mkdir -p "$DIR"
for p in $PORTS; do
  redis-server --port "$p" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file "nodes-$p.conf" \
    --cluster-node-timeout 1000 --cluster-require-full-coverage no --save '' --appendonly no --daemonize yes --dir "$DIR" \
    --logfile "$DIR/redis-$p.log" >/dev/null
done
for p in $PORTS; do
  for _ in $(seq 1 50); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
done
NODES=$(for p in $PORTS; do printf '127.0.0.1:%s ' "$p"; done)
# shellcheck disable=SC2086 # one argument per node
redis-cli --cluster create $NODES --cluster-replicas 1 --cluster-yes >"$DIR/create.log" 2>&1 || { cat "$DIR/create.log" >&2; exit 1; }
for _ in $(seq 1 100); do
  ok=1
  for p in $PORTS; do redis-cli -p "$p" cluster info 2>/dev/null | grep -q 'cluster_state:ok' || ok=0; done
  [ "$ok" = 1 ] && break
  sleep 0.1
done
[ "$ok" = 1 ] || { echo "cluster did not reach cluster_state:ok" >&2; exit 1; }
echo "TEST_REDIS_CLUSTER_NODES=$(echo "$NODES" | xargs | tr ' ' ',')"
