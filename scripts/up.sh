#!/usr/bin/env bash
# Quick start: installs what k8ts needs, builds it, starts `k8ts server` in the background
# (SQLite datastore under /var/lib/k8ts, HTTPS on 127.0.0.1:6443, three simulated nodes
# until the node agent exists), then creates a sample Deployment, waits until its rollout
# is done (ReplicaSet, pods placed by the scheduler and running), and shows it with kubectl.
# Stop the server with: kill "$(cat /var/lib/k8ts/server.pid)"
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

DATA_DIR=${K8TS_DATA_DIR:-/var/lib/k8ts}
mkdir -p "$DATA_DIR"
if [ -f "$DATA_DIR/server.pid" ] && kill -0 "$(cat "$DATA_DIR/server.pid")" 2>/dev/null; then
  echo "k8ts server already running (pid $(cat "$DATA_DIR/server.pid"))"
else
  nohup node dist/bundle/main.js server --data-dir "$DATA_DIR" --disable-agent --sim-nodes 3 >"$DATA_DIR/server.log" 2>&1 &
  echo $! >"$DATA_DIR/server.pid"
  for _ in $(seq 1 100); do
    grep -q 'ready at' "$DATA_DIR/server.log" 2>/dev/null && break
    kill -0 "$(cat "$DATA_DIR/server.pid")" 2>/dev/null || { cat "$DATA_DIR/server.log"; exit 1; }
    sleep 0.1
  done
  cat "$DATA_DIR/server.log"
fi

export KUBECONFIG="$DATA_DIR/kubeconfig.yaml"
echo
echo "\$ export KUBECONFIG=$KUBECONFIG"
echo "\$ kubectl get namespaces"
kubectl get namespaces
kubectl get deployment hello >/dev/null 2>&1 || kubectl create deployment hello --image=busybox:1.36 --replicas=3 -- sleep 3600 >/dev/null
kubectl rollout status deployment/hello --timeout=60s >/dev/null
echo
echo "\$ kubectl get nodes"
kubectl get nodes
echo
echo "\$ kubectl get deployments,replicasets,pods -o wide"
kubectl get deployments,replicasets,pods -o wide
