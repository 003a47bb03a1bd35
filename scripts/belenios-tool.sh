#!/usr/bin/env bash
# Deja disponible la herramienta de referencia belenios-tool 3.0 (paquete de Debian 13
# "trixie" belenios-tool, versión 3.0+dfsg-2) en TARGET/bin/belenios-tool.
#
# Uso: scripts/belenios-tool.sh [TARGET]      (por defecto: <raíz del repo>/.tools/belenios)
#
# - Debian 13: instala el paquete del sistema con apt-get y TARGET/bin/belenios-tool es un
#   envoltorio que llama a /usr/bin/belenios-tool.
# - Debian 12 (y otros sistemas con apt/dpkg, amd64/arm64): sin tocar el apt del sistema,
#   descarga de trixie belenios-tool y el cierre de sus Depends en TARGET/debs, los extrae con
#   `dpkg -x` en TARGET/root, y TARGET/bin/belenios-tool lanza el binario con el cargador y
#   las bibliotecas de trixie (rutas absolutas fijadas al instalar: si se mueve el repo, se
#   vuelve a ejecutar este script).
#
# Idempotente: si TARGET/bin/belenios-tool --version ya empieza por 3.0, sale enseguida.
# Se instala en un directorio temporal junto a TARGET y luego se mueve a su sitio, así que una
# instalación interrumpida no deja un envoltorio a medias.
#
# Variables: BELENIOS_VERSION (3.0+dfsg-2), BELENIOS_MIRROR (http://deb.debian.org/debian),
#            BELENIOS_SUITE (trixie), BELENIOS_KEYRING (/usr/share/keyrings/debian-archive-keyring.gpg).
set -euo pipefail

BELENIOS_VERSION="${BELENIOS_VERSION:-3.0+dfsg-2}"
BELENIOS_MIRROR="${BELENIOS_MIRROR:-http://deb.debian.org/debian}"
BELENIOS_SUITE="${BELENIOS_SUITE:-trixie}"
BELENIOS_KEYRING="${BELENIOS_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}"
WANT_PREFIX="3.0"

log() { printf 'belenios-tool.sh: %s\n' "$*" >&2; }
die() { printf 'belenios-tool.sh: error: %s\n' "$*" >&2; exit 1; }

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
TARGET="${1:-$REPO_ROOT/.tools/belenios}"
case "$TARGET" in /*) ;; *) TARGET="$PWD/$TARGET" ;; esac
TARGET="${TARGET%/}"

# --- Camino rápido -------------------------------------------------------------------------
if [ -x "$TARGET/bin/belenios-tool" ] \
   && v="$("$TARGET/bin/belenios-tool" --version 2>/dev/null)" \
   && [[ "$v" == "$WANT_PREFIX"* ]]; then
    echo "belenios-tool: $v"
    exit 0
fi

command -v apt-get >/dev/null 2>&1 \
    || die "no hay apt-get: este script necesita un sistema Debian (o derivado) con apt/dpkg"
command -v dpkg >/dev/null 2>&1 || die "no hay dpkg: este script necesita un sistema con apt/dpkg"

OS_ID="" OS_VERSION_ID="" OS_CODENAME=""
if [ -r /etc/os-release ]; then
    OS_ID="$(. /etc/os-release && echo "${ID:-}")"
    OS_VERSION_ID="$(. /etc/os-release && echo "${VERSION_ID:-}")"
    OS_CODENAME="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
fi

mkdir -p "$(dirname "$TARGET")"
PARENT="$(cd "$(dirname "$TARGET")" && pwd -P)"
TARGET="$PARENT/$(basename "$TARGET")"

WORK="" STAGE="" OLD=""
cleanup() {
    [ -n "$WORK" ] && rm -rf "$WORK"
    [ -n "$STAGE" ] && [ -e "$STAGE" ] && rm -rf "$STAGE"
    # Si nos interrumpen entre los dos renombrados, se recupera la instalación anterior.
    if [ -n "$OLD" ] && [ -e "$OLD" ]; then
        if [ -e "$TARGET" ]; then rm -rf "$OLD"; else mv "$OLD" "$TARGET"; fi
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# El directorio de montaje va junto a TARGET (mismo sistema de ficheros: mv es un rename).
STAGE="$(mktemp -d "$PARENT/.$(basename "$TARGET").tmp.XXXXXX")"
chmod 755 "$STAGE"
mkdir -p "$STAGE/bin"

# Pone STAGE en el sitio de TARGET.
install_stage() {
    if [ -e "$TARGET" ]; then
        OLD="$PARENT/.$(basename "$TARGET").old.$$"
        mv "$TARGET" "$OLD"
    fi
    mv "$STAGE" "$TARGET"
    STAGE=""
    if [ -n "$OLD" ]; then rm -rf "$OLD"; OLD=""; fi
}

write_wrapper() { # $1 = fichero; resto = orden a ejecutar (rutas absolutas)
    local f="$1"; shift
    {
        echo '#!/bin/bash'
        echo "# Generado por scripts/belenios-tool.sh: belenios-tool $BELENIOS_VERSION ($BELENIOS_SUITE)."
        printf 'exec'; printf ' %q' "$@"; printf ' "$@"\n'
    } > "$f"
    chmod 755 "$f"
}

finish() {
    local v
    v="$("$TARGET/bin/belenios-tool" --version 2>&1)" \
        || die "el envoltorio instalado no funciona: $v"
    [[ "$v" == "$WANT_PREFIX"* ]] \
        || die "se esperaba la versión $WANT_PREFIX y belenios-tool --version dice: $v"
    echo "belenios-tool: $v"
}

# --- Debian 13: paquete del sistema --------------------------------------------------------
if [ "$OS_ID" = debian ] && { [ "$OS_VERSION_ID" = 13 ] || [ "$OS_CODENAME" = trixie ]; }; then
    installed="$(dpkg-query -W -f='${Status} ${Version}' belenios-tool 2>/dev/null || true)"
    if [ "$installed" != "install ok installed $BELENIOS_VERSION" ]; then
        SUDO=()
        if [ "$(id -u)" -ne 0 ]; then
            command -v sudo >/dev/null 2>&1 || die "hace falta ser root (o tener sudo) para apt-get install"
            SUDO=(sudo)
        fi
        log "Debian 13: instalando belenios-tool=$BELENIOS_VERSION con apt-get..."
        "${SUDO[@]}" apt-get update -q >&2 || die "falló apt-get update"
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -q --no-install-recommends "belenios-tool=$BELENIOS_VERSION" >&2 \
            || die "falló apt-get install belenios-tool=$BELENIOS_VERSION"
    fi
    [ -x /usr/bin/belenios-tool ] || die "no se encuentra /usr/bin/belenios-tool tras instalar"
    write_wrapper "$STAGE/bin/belenios-tool" /usr/bin/belenios-tool
    install_stage
    finish
    exit 0
fi

# --- Debian 12 y otros: paquetes de trixie extraídos en TARGET/root -------------------------
log "sistema: ${OS_ID:-?} ${OS_VERSION_ID:-?}; se usan los paquetes de $BELENIOS_SUITE sin tocar el apt del sistema"

ARCH="$(dpkg --print-architecture)"
case "$ARCH" in
    amd64|arm64) ;;
    *) log "aviso: arquitectura $ARCH no probada (solo amd64/arm64)" ;;
esac

MULTIARCH=""
if command -v dpkg-architecture >/dev/null 2>&1; then
    MULTIARCH="$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || true)"
fi
if [ -z "$MULTIARCH" ] && command -v gcc >/dev/null 2>&1; then
    MULTIARCH="$(gcc -print-multiarch 2>/dev/null || true)"
fi
if [ -z "$MULTIARCH" ]; then
    case "$(uname -m)" in
        x86_64) MULTIARCH=x86_64-linux-gnu ;;
        aarch64|arm64) MULTIARCH=aarch64-linux-gnu ;;
        *) die "no sé el triplete multiarch de $(uname -m)" ;;
    esac
fi

[ -r "$BELENIOS_KEYRING" ] \
    || die "falta el anillo de claves $BELENIOS_KEYRING (apt-get install debian-archive-keyring)"

# Configuración privada de apt: nada del apt del sistema (fuentes, preferencias, apt.conf.d,
# estado, caché, hooks). APT_CONFIG se lee antes que Dir::Etc::Parts y Dir::Etc::main, así que
# al redirigirlos aquí no se lee ningún fichero de /etc/apt.
WORK="$(mktemp -d)"
chmod 755 "$WORK"    # el usuario _apt (sandbox de descargas) tiene que poder entrar
mkdir -p "$WORK/etc/apt.conf.d" "$WORK/etc/sources.list.d" "$WORK/etc/preferences.d" \
         "$WORK/etc/trusted.gpg.d" "$WORK/state/lists/partial" "$WORK/cache/archives/partial" \
         "$WORK/log" "$WORK/dl"
: > "$WORK/state/status"
echo "deb [signed-by=$BELENIOS_KEYRING] $BELENIOS_MIRROR $BELENIOS_SUITE main" > "$WORK/etc/sources.list"
if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then
    chown _apt "$WORK/dl"
fi

# Se conserva el proxy de apt del sistema, si lo hay.
HOST_HTTP_PROXY="" HOST_HTTPS_PROXY=""
eval "$(apt-config shell HOST_HTTP_PROXY Acquire::http::Proxy HOST_HTTPS_PROXY Acquire::https::Proxy 2>/dev/null || true)"

cat > "$WORK/apt.conf" <<EOF
Dir::State "$WORK/state";
Dir::State::Lists "$WORK/state/lists";
Dir::State::status "$WORK/state/status";
Dir::State::extended_states "$WORK/state/extended_states";
Dir::Cache "$WORK/cache";
Dir::Cache::archives "$WORK/cache/archives";
Dir::Etc "$WORK/etc";
Dir::Etc::main "$WORK/etc/apt.conf";
Dir::Etc::Parts "$WORK/etc/apt.conf.d";
Dir::Etc::SourceList "$WORK/etc/sources.list";
Dir::Etc::SourceParts "$WORK/etc/sources.list.d";
Dir::Etc::Preferences "$WORK/etc/preferences";
Dir::Etc::PreferencesParts "$WORK/etc/preferences.d";
Dir::Etc::Trusted "$WORK/etc/trusted.gpg";
Dir::Etc::TrustedParts "$WORK/etc/trusted.gpg.d";
Dir::Log "$WORK/log";
APT::Architecture "$ARCH";
APT::Architectures { "$ARCH"; };
Acquire::Languages "none";
Debug::NoLocking "1";
EOF
[ -n "$HOST_HTTP_PROXY" ] && echo "Acquire::http::Proxy \"$HOST_HTTP_PROXY\";" >> "$WORK/apt.conf"
[ -n "$HOST_HTTPS_PROXY" ] && echo "Acquire::https::Proxy \"$HOST_HTTPS_PROXY\";" >> "$WORK/apt.conf"

papt_get() { APT_CONFIG="$WORK/apt.conf" apt-get "$@"; }
papt_cache() { APT_CONFIG="$WORK/apt.conf" apt-cache "$@"; }

log "descargando índices de $BELENIOS_SUITE ($BELENIOS_MIRROR)..."
papt_get update -q >"$WORK/update.log" 2>&1 || {
    cat "$WORK/update.log" >&2
    die "falló apt-get update contra $BELENIOS_MIRROR $BELENIOS_SUITE"
}
if grep -q -E '^(W|E):' "$WORK/update.log"; then
    grep -E '^(W|E):' "$WORK/update.log" >&2
    die "apt-get update dio avisos o errores (¿clave de $BELENIOS_SUITE ausente en $BELENIOS_KEYRING?)"
fi

papt_cache show "belenios-tool=$BELENIOS_VERSION" >/dev/null 2>&1 \
    || die "belenios-tool=$BELENIOS_VERSION no está en $BELENIOS_SUITE/$ARCH"

# Cierre recursivo de Depends/Pre-Depends (sin Recommends, Suggests...). Los paquetes
# virtuales salen como <nombre> y se saltan: sus proveedores reales también salen en la lista.
PKGS=()
while IFS= read -r p; do PKGS+=("$p"); done < <(
    papt_cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
        --no-replaces --no-enhances "belenios-tool=$BELENIOS_VERSION" \
    | grep -v -E '^[[:space:]]|^<' | sed 's/:.*$//' | sort -u
)
[ "${#PKGS[@]}" -gt 0 ] || die "no se pudo calcular las dependencias de belenios-tool"
log "paquetes (${#PKGS[@]}): ${PKGS[*]}"

DL_ARGS=()
for p in "${PKGS[@]}"; do
    if [ "$p" = belenios-tool ]; then DL_ARGS+=("belenios-tool=$BELENIOS_VERSION"); else DL_ARGS+=("$p"); fi
done
log "descargando .deb..."
(cd "$WORK/dl" && papt_get download -q "${DL_ARGS[@]}") >"$WORK/download.log" 2>&1 || {
    cat "$WORK/download.log" >&2
    die "falló apt-get download"
}

mkdir -p "$STAGE/debs" "$STAGE/root"
cp "$WORK/dl/"*.deb "$STAGE/debs/"
(
    cd "$STAGE/debs"
    sha256sum -- *.deb > SHA256SUMS
    for d in *.deb; do
        dpkg-deb --show --showformat='${Package} ${Version} ${Architecture}\n' "$d"
    done > PACKAGES
)
n_debs="$(ls "$STAGE/debs/"*.deb | wc -l)"
[ "$n_debs" -eq "${#PKGS[@]}" ] || die "se esperaban ${#PKGS[@]} .deb y hay $n_debs"
grep -q -x "belenios-tool $BELENIOS_VERSION [a-z0-9]*" "$STAGE/debs/PACKAGES" \
    || die "el .deb de belenios-tool descargado no es la versión $BELENIOS_VERSION"

log "extrayendo en $TARGET/root..."
for d in "$STAGE/debs/"*.deb; do
    dpkg -x "$d" "$STAGE/root"
done

# Comprobaciones, con las rutas del directorio de montaje.
check_root() { # $1 = raíz; imprime el cargador encontrado
    local root="$1" loaders
    loaders=("$root/usr/lib/$MULTIARCH"/ld-linux*.so.*)
    [ -e "${loaders[0]}" ] || loaders=("$root/lib/$MULTIARCH"/ld-linux*.so.*)
    [ -e "${loaders[0]}" ] || die "no hay cargador ld-linux*.so.* en $root/usr/lib/$MULTIARCH"
    [ "${#loaders[@]}" -eq 1 ] || die "hay varios cargadores: ${loaders[*]}"
    echo "${loaders[0]}"
}
S_ROOT="$STAGE/root"
S_LOADER="$(check_root "$S_ROOT")"
S_LIBPATH="$S_ROOT/usr/lib/$MULTIARCH:$S_ROOT/lib/$MULTIARCH"
[ -x "$S_ROOT/usr/bin/belenios-tool" ] || die "el paquete no trae usr/bin/belenios-tool"

ldlist="$("$S_LOADER" --list --library-path "$S_LIBPATH" "$S_ROOT/usr/bin/belenios-tool" 2>&1)" \
    || die "ld.so --list falló: $ldlist"
if grep -q 'not found' <<<"$ldlist"; then
    echo "$ldlist" >&2
    die "faltan bibliotecas"
fi
# Todas las bibliotecas tienen que venir de los paquetes de trixie, no del sistema.
foreign="$(grep '=>' <<<"$ldlist" | awk '{print $3}' | grep -v -F "$S_ROOT/" || true)"
if [ -n "$foreign" ]; then
    echo "$ldlist" >&2
    die "bibliotecas tomadas del sistema y no de $BELENIOS_SUITE: $foreign"
fi

v="$("$S_LOADER" --library-path "$S_LIBPATH" "$S_ROOT/usr/bin/belenios-tool" --version 2>&1)" \
    || die "belenios-tool --version falló: $v"
[[ "$v" == "$WANT_PREFIX"* ]] || die "se esperaba la versión $WANT_PREFIX y dice: $v"

# Envoltorio con las rutas definitivas (las de TARGET, no las del montaje).
ROOT="$TARGET/root"
LOADER="$ROOT${S_LOADER#"$S_ROOT"}"
write_wrapper "$STAGE/bin/belenios-tool" \
    "$LOADER" --library-path "$ROOT/usr/lib/$MULTIARCH:$ROOT/lib/$MULTIARCH" "$ROOT/usr/bin/belenios-tool"

install_stage
finish
