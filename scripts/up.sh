#!/usr/bin/env bash
# Quick start: installs what k8ts needs, builds it, and starts `k8ts server` in the background
# (SQLite datastore under /var/lib/k8ts, HTTPS on 127.0.0.1:6443). The server runs an agent
# for this machine, which joins as a real node (join token, CSR-issued credentials, a pod
# CIDR from node IPAM). It starts a local OCI registry (docker-registry on 127.0.0.1:5000),
# pushes a busybox image built offline, runs a Deployment of busybox HTTP servers from it,
# waits for the rollout, and shows the pods with kubectl and their answers from this host.
# Stop everything with: scripts/down.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

DATA_DIR=${K8TS_DATA_DIR:-/var/lib/k8ts}
mkdir -p "$DATA_DIR/registry"
running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

if running "$DATA_DIR/registry.pid"; then
  echo "registry already running (pid $(cat "$DATA_DIR/registry.pid"))"
else
  cat >"$DATA_DIR/registry/config.yml" <<YAML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $DATA_DIR/registry/data
http:
  addr: 127.0.0.1:5000
YAML
  nohup docker-registry serve "$DATA_DIR/registry/config.yml" >"$DATA_DIR/registry.log" 2>&1 &
  echo $! >"$DATA_DIR/registry.pid"
  for _ in $(seq 1 100); do
    busybox wget -q -O /dev/null http://127.0.0.1:5000/v2/ 2>/dev/null && break
    sleep 0.1
  done
fi
node scripts/sample-image.mjs 127.0.0.1:5000

if running "$DATA_DIR/server.pid"; then
  echo "k8ts server already running (pid $(cat "$DATA_DIR/server.pid"))"
else
  nohup node dist/bundle/main.js server --data-dir "$DATA_DIR" >"$DATA_DIR/server.log" 2>&1 &
  echo $! >"$DATA_DIR/server.pid"
  for _ in $(seq 1 100); do
    grep -q 'ready at' "$DATA_DIR/server.log" 2>/dev/null && break
    kill -0 "$(cat "$DATA_DIR/server.pid")" 2>/dev/null || { cat "$DATA_DIR/server.log"; exit 1; }
    sleep 0.1
  done
  cat "$DATA_DIR/server.log"
fi

export KUBECONFIG="$DATA_DIR/kubeconfig.yaml"
node="$(hostname | tr 'A-Z' 'a-z')"
for _ in $(seq 1 300); do
  kubectl get node "$node" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -q True && break
  sleep 0.1
done
kubectl apply -f - >/dev/null <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello
spec:
  replicas: 3
  selector:
    matchLabels: {app: hello}
  template:
    metadata:
      labels: {app: hello}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: httpd
        image: 127.0.0.1:5000/k8ts/busybox:1
        command: ["sh", "-c", "mkdir -p /www && echo \"hello from $(hostname)\" > /www/index.html && exec httpd -f -p 8080 -h /www"]
        ports: [{containerPort: 8080}]
        readinessProbe:
          httpGet: {path: /, port: 8080}
          periodSeconds: 1
YAML
kubectl rollout status deployment/hello --timeout=120s >/dev/null
echo
echo "\$ export KUBECONFIG=$KUBECONFIG"
echo "\$ kubectl get nodes -o wide"
kubectl get nodes -o wide
echo
echo "\$ kubectl get pods -o wide"
kubectl get pods -o wide
echo
for ip in $(kubectl get pods -l app=hello -o jsonpath='{.items[*].status.podIP}'); do
  echo "\$ wget -qO- http://$ip:8080/"
  busybox wget -q -O - "http://$ip:8080/"
done
