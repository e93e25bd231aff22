#!/usr/bin/env bash
# A 3-node binraft cluster on this machine: loopback ports, a data directory each under
# ./binraft-cluster/. Extra arguments go to every node (e.g. --primary HOST:PORT
# --primary-user U --primary-password P). Ctrl-C stops the three.
#
#   node 1: MySQL 127.0.0.1:3311, Raft 127.0.0.1:4311, HTTP 127.0.0.1:8311
#   node 2: MySQL 127.0.0.1:3312, Raft 127.0.0.1:4312, HTTP 127.0.0.1:8312
#   node 3: MySQL 127.0.0.1:3313, Raft 127.0.0.1:4313, HTTP 127.0.0.1:8313
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -p binraft
dir=${BINRAFT_CLUSTER_DIR:-binraft-cluster}
secret=${BINRAFT_CLUSTER_SECRET:-local-cluster-secret}
mkdir -p "$dir"
peers="1=127.0.0.1:4311,2=127.0.0.1:4312,3=127.0.0.1:4313"
trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT INT TERM
for i in 1 2 3; do
  target/release/binraft run --node-id "$i" --peers "$peers" --cluster-secret "$secret" \
    --server-id "$((100 + i))" --data-dir "$dir/node$i" --listen "127.0.0.1:331$i" \
    --http-listen "127.0.0.1:831$i" "$@" 2>"$dir/node$i.log" &
done
echo "3 nodes started; logs in $dir/node{1,2,3}.log"
echo "status: curl -s -u admin:admin http://127.0.0.1:8311/v1/status"
wait
