#!/usr/bin/env bash
# wrk from Debian's package: the load generator of `make bench` (compiled, pinned to its own core, so that the
# ceiling a benchmark measures is the server's and not the generator's).
set -euo pipefail
if command -v wrk >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "wrk.sh: falta wrk: ejecute como root 'apt-get install -y wrk' (paquete de Debian)" >&2
  exit 1
fi
echo "wrk.sh: instalando el paquete wrk de Debian..."
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
command -v wrk
