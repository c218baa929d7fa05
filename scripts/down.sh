#!/usr/bin/env bash
# Stops what scripts/up.sh started: the sample Deployment's pods, the server (and its agent),
# the local registry and lxcfs. State stays in /var/lib/k8ts (remove it for a fresh start).
set -uo pipefail
cd "$(dirname "$0")/.."
DATA_DIR=${K8TS_DATA_DIR:-/var/lib/k8ts}
export KUBECONFIG="$DATA_DIR/kubeconfig.yaml"
if [ -f "$DATA_DIR/server.pid" ] && kill -0 "$(cat "$DATA_DIR/server.pid")" 2>/dev/null; then
  kubectl delete deployment hello --ignore-not-found --wait=true --timeout=60s >/dev/null 2>&1
  kubectl wait --for=delete pod -l app=hello --timeout=60s >/dev/null 2>&1
  kill "$(cat "$DATA_DIR/server.pid")"
fi
[ -f "$DATA_DIR/registry.pid" ] && kill "$(cat "$DATA_DIR/registry.pid")" 2>/dev/null
rm -f "$DATA_DIR/server.pid" "$DATA_DIR/registry.pid"
# lxcfs, which the agent started for its containers, once no container is left
for _ in $(seq 1 50); do pgrep -x conmon >/dev/null || break; sleep 0.2; done
if ! pgrep -x conmon >/dev/null && [ -f /var/lib/lxcfs.pid ]; then
  mountpoint -q /var/lib/lxcfs && umount -l /var/lib/lxcfs
  kill "$(cat /var/lib/lxcfs.pid)" 2>/dev/null
  rm -f /var/lib/lxcfs.pid
fi
echo "stopped"
