#!/usr/bin/env bash
# Starts a Liber cluster on this machine: PostgreSQL (build/cluster-db.sh: Debian's package, Orleans' and Liber's
# schemas), then N `liber serve --cluster` silos on loopback ports (default 3): silo ports 11111.., gateway ports
# 30000.., HTTP 5081.. . Every flag after `--` goes to each `liber serve` (give at least --dataset and --path: the catalog
# every silo shares). Needs LIBER_API_KEY (or pass --insecure-no-auth after --).
#
#   export LIBER_API_KEY=...
#   bash build/cluster-up.sh 3 -- --dataset movielens-100k --path ../shared/datasets/ml-100k
#   bash build/cluster-up.sh stop
#
# Logs, pids and the cluster file go to $LIBER_CLUSTER_DIR (default ./liber-cluster). The silos keep running after the
# script ends; `stop` sends them SIGTERM (a graceful silo shutdown) and waits. LIBER_CLUSTER_STATISTICS=false writes
# "statistics": false into the cluster file (no shared point-in-time statistics: serves only --stats off checkpoints;
# needed for a database whose events were ingested without them, docs/cluster.md).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${LIBER_CLUSTER_DIR:-$PWD/liber-cluster}"

if [ "${1:-}" = "stop" ]; then
  shopt -s nullglob
  for f in "$dir"/silo-*.pid; do
    pid=$(cat "$f")
    if kill "$pid" 2>/dev/null; then
      while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
      echo "cluster-up: stopped silo $(basename "$f" .pid) (pid $pid)"
    fi
    rm -f "$f"
  done
  exit 0
fi

n="${1:-3}"
shift || true
[ "${1:-}" = "--" ] && shift
case "$n" in ''|*[!0-9]*) echo "cluster-up: the silo count must be a number, got '$n'" >&2; exit 1;; esac
if [ "$n" -lt 1 ] || [ "$n" -gt 9 ]; then echo "cluster-up: give 1 to 9 silos, got $n" >&2; exit 1; fi

export LIBER_CLUSTER_PG="$(bash "$root/build/cluster-db.sh" | tail -n 1)"
liber="$root/src/Liber.Cli/bin/Release/net10.0/liber.dll"
if [ ! -f "$liber" ]; then
  dotnet build "$root/src/Liber.Cli" -c Release -v q >/dev/null
fi

mkdir -p "$dir"
# The cluster file names no password: the silos read the database from LIBER_CLUSTER_PG.
stats="${LIBER_CLUSTER_STATISTICS:-true}"
case "$stats" in true|false) ;; *) echo "cluster-up: LIBER_CLUSTER_STATISTICS must be true or false, got '$stats'" >&2; exit 1;; esac
printf '{ "cluster_id": "liber", "service_id": "liber", "advertised_address": "127.0.0.1", "statistics": %s }\n' "$stats" > "$dir/cluster.json"
for i in $(seq 1 "$n"); do
  if [ -f "$dir/silo-$i.pid" ] && kill -0 "$(cat "$dir/silo-$i.pid")" 2>/dev/null; then
    echo "cluster-up: silo $i already runs (pid $(cat "$dir/silo-$i.pid")); 'bash build/cluster-up.sh stop' first" >&2
    exit 1
  fi
  nohup dotnet "$liber" serve --cluster "$dir/cluster.json" --silo-port $((11110 + i)) --gateway-port $((29999 + i)) \
    --store "$dir/silo-$i" --urls "http://127.0.0.1:$((5080 + i))" "$@" > "$dir/silo-$i.log" 2>&1 &
  echo $! > "$dir/silo-$i.pid"
  # Wait until it listens (or exits): the first silo creates the membership row the others join.
  for _ in $(seq 1 600); do
    if grep -q "listening on" "$dir/silo-$i.log"; then break; fi
    if ! kill -0 "$(cat "$dir/silo-$i.pid")" 2>/dev/null; then
      echo "cluster-up: silo $i exited; its log:" >&2; tail -n 5 "$dir/silo-$i.log" >&2; exit 1
    fi
    sleep 0.2
  done
  grep -m1 "listening on" "$dir/silo-$i.log"
done
