#!/usr/bin/env bash
# Deja checkov (análisis de políticas de los manifiestos de deploy/k8s) en TARGET/bin/checkov, en un venv
# propio: su árbol de dependencias (boto3, aiohttp, packaging<24, …) choca con las versiones del proyecto,
# así que no entra en .venv. tests/deploy lo usa; `make test` llama a este script antes de pytest.
#
# Uso: scripts/checkov.sh [TARGET]      (por defecto: <raíz del repo>/.tools/checkov)
# Variables: CHECKOV_VERSION (3.3.30), PYTHON (el primer python3 >= 3.11 del PATH).
# Idempotente: si TARGET/bin/checkov --version ya es CHECKOV_VERSION, sale enseguida; si no (o si una
# instalación anterior se cortó), rehace el venv desde cero.
set -euo pipefail

CHECKOV_VERSION="${CHECKOV_VERSION:-3.3.30}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
TARGET="${1:-$REPO_ROOT/.tools/checkov}"
case "$TARGET" in /*) ;; *) TARGET="$PWD/$TARGET" ;; esac
TARGET="${TARGET%/}"

if [ -x "$TARGET/bin/checkov" ] && [ "$("$TARGET/bin/checkov" --version 2>/dev/null)" = "$CHECKOV_VERSION" ]; then
    echo "checkov: $CHECKOV_VERSION"
    exit 0
fi

PY="${PYTHON:-}"
if [ -z "$PY" ]; then
    for p in python3 python3.13 python3.12 python3.11; do
        if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
            PY="$p"; break
        fi
    done
fi
[ -n "$PY" ] || { echo "checkov.sh: error: se necesita Python >= 3.11" >&2; exit 1; }

# The venv is built where it stays (a venv's scripts carry its absolute path); an interrupted install
# fails the version check above next time and is rebuilt from scratch.
rm -rf "$TARGET"
mkdir -p "$(dirname "$TARGET")"
"$PY" -m venv "$TARGET"
"$TARGET/bin/python" -m pip install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION" >&2
v="$("$TARGET/bin/checkov" --version)"
[ "$v" = "$CHECKOV_VERSION" ] || { echo "checkov.sh: error: se esperaba $CHECKOV_VERSION y dice $v" >&2; exit 1; }
echo "checkov: $v"
