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
