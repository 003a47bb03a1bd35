#!/usr/bin/env bash
# Headless Chromium from Debian's package, for the browser tests (Playwright drives it; no browser download).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "chromium.sh: falta Chromium: ejecute como root 'apt-get install -y chromium' (paquete de Debian)" >&2
  exit 1
fi
echo "chromium.sh: instalando el paquete chromium de Debian..."
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
chromium --version
