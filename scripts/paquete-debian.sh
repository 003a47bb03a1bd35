#!/usr/bin/env bash
# A tool the tests or the benchmarks need, from Debian's package when the machine lacks it:
#   scripts/paquete-debian.sh <command> <package> <what it is for>
# (make chromium: the browser of the tests; make wrk: the load generator of make bench).
set -euo pipefail
comando="$1" paquete="$2" para="$3"
if command -v "$comando" >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "falta $comando ($para): ejecute como root 'apt-get install -y $paquete' (paquete de Debian)" >&2
  exit 1
fi
echo "instalando el paquete $paquete de Debian ($para)..."
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$paquete" >/dev/null
command -v "$comando"
