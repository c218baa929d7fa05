#!/usr/bin/env bash
# Installs what k8ts and its tests need on Debian 12 (root): system packages from Debian,
# then the npm dependencies, then builds. Safe to run again: it skips what is present.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
# The container runtime's test images and layer store (issue 6): busybox-static builds the
# test images offline, attr's setfattr marks opaque directories for overlayfs, and
# docker-registry serves images on loopback for pull tests.
[ -x /bin/busybox ] || need+=(busybox-static)
command -v setfattr >/dev/null 2>&1 || need+=(attr)
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
# Containers (issue 6): runc runs them, conmon monitors each one, the CNI reference plugins
# network pods (/usr/lib/cni), lxcfs gives them a /proc of their own, socat bridges conmon's
# attach socket and port-forwards, iptables backs the portmap plugin.
command -v runc >/dev/null 2>&1 || need+=(runc)
command -v conmon >/dev/null 2>&1 || need+=(conmon)
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
command -v lxcfs >/dev/null 2>&1 || need+=(lxcfs)
command -v socat >/dev/null 2>&1 || need+=(socat)
command -v iptables >/dev/null 2>&1 || need+=(iptables)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # Debian starts etcd and the registry as services on install; k8ts and its tests start
  # their own on loopback ports.
  systemctl disable --now etcd docker-registry >/dev/null 2>&1 || true
  pkill -x etcd >/dev/null 2>&1 || true
  pkill -x docker-registry >/dev/null 2>&1 || true
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi

echo "building"
npx tsc -p tsconfig.json
node scripts/bundle.mjs
