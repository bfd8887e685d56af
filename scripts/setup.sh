#!/usr/bin/env bash
# Sets up everything the suite needs on a fresh Debian 12 machine, idempotently:
#   1. system packages when missing: build tools (gcc, libpq-dev), wkhtmltopdf (PDF reports),
#      chromium (browser tests), FreeRADIUS (freeradius, freeradius-postgresql, freeradius-utils:
#      isp_radius's tests),
#   2. a reachable PostgreSQL (never a silent fallback), its role odoo with CREATEDB and, when
#      the admin user can give it, CREATEROLE (isp_radius),
#   3. Odoo 19 (Debian's odoo-19 package, signature-checked through apt, cached outside git;
#      or an existing Odoo 19 tree named by ODOO_SRC),
#   4. .venv with pinned requirements and a .pth file, so `.venv/bin/python -m odoo -c odoo.conf`
#      runs with no extra environment.
# Environment:
#   ODOO_SRC        an existing Odoo 19 tree (the folder holding the `odoo` package); skips the download
#   ISP_CACHE_DIR   where the Odoo package and its unpacked tree are cached
#                   (default: ${XDG_CACHE_HOME:-~/.cache}/isp-billing-suite)
#   ISP_ODOO_REFRESH=1  resolve the odoo-19 version through apt again (a newer upload replaces the cache)
#   PYTHON          the interpreter for the venv (default: python3.11, else python3)
#   PGHOST / PGPORT PostgreSQL address checked (default 127.0.0.1:5432, as in odoo.conf)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CACHE=${ISP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/isp-billing-suite}
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; fi

apt_install() {
    # apt_install PKG...: install Debian packages, or say exactly what to install.
    if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || $SUDO true 2>/dev/null; }; then
        say "installing system packages: $*"
        $SUDO apt-get update -qq >/dev/null || die "apt-get update failed; install manually: apt-get install $*"
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
            || die "apt-get install failed; install manually: apt-get install $*"
    else
        die "missing system packages; install them first: sudo apt-get install $*"
    fi
}

# --- 1. system packages -------------------------------------------------------------------
missing=()
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
command -v pg_config >/dev/null 2>&1 || missing+=(libpq-dev)
command -v pg_isready >/dev/null 2>&1 || missing+=(postgresql-client)
if [ ! -e /usr/lib/x86_64-linux-gnu/libmagic.so.1 ] && ! ldconfig -p 2>/dev/null | grep -q libmagic.so.1; then
    missing+=(libmagic1)
fi
# PDF reports (voucher cards, invoices) and the browser tests of the pages people use.
command -v wkhtmltopdf >/dev/null 2>&1 || missing+=(wkhtmltopdf)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# isp_radius: its tests (and benchmark) run a real FreeRADIUS 3.2 from the generated configuration.
command -v freeradius >/dev/null 2>&1 || missing+=(freeradius)
[ -e /usr/lib/freeradius/rlm_sql_postgresql.so ] || missing+=(freeradius-postgresql)
command -v radclient >/dev/null 2>&1 || missing+=(freeradius-utils)
if [ -z "${PYTHON:-}" ]; then
    if command -v python3.11 >/dev/null 2>&1; then PYTHON=python3.11; else PYTHON=python3; fi
fi
"$PYTHON" -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
"$PYTHON" -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
    || missing+=(python3-dev)
if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi

pyver=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
case "$pyver" in
    3.10|3.11|3.12) ;;
    *) die "Odoo 19 needs Python 3.10 to 3.12 (found $pyver at $(command -v "$PYTHON")); set PYTHON=..." ;;
esac

# --- 2. PostgreSQL ------------------------------------------------------------------------
if ! pg_isready -q -h "$PGHOST" -p "$PGPORT" -t 5; then
    die "no PostgreSQL answers on $PGHOST:$PGPORT. Install and start one (Debian: apt-get install postgresql; \
pg_ctlcluster 15 main start) or point PGHOST/PGPORT and odoo.conf's db_host/db_port at yours."
fi
# Odoo refuses to run as the postgres superuser: it uses its own role, as odoo.conf says.
if ! psql -h "$PGHOST" -p "$PGPORT" -U odoo -d postgres -tAc 'select 1' >/dev/null 2>&1; then
    say "creating the PostgreSQL role odoo (CREATEDB)"
    psql -h "$PGHOST" -p "$PGPORT" -U "${PGADMINUSER:-postgres}" -d postgres -qc \
        "CREATE ROLE odoo LOGIN CREATEDB PASSWORD 'odoo'" >/dev/null 2>&1 \
        || die "PostgreSQL on $PGHOST:$PGPORT has no role 'odoo' and it could not be created; as a superuser run: \
CREATE ROLE odoo LOGIN CREATEDB PASSWORD 'odoo';"
fi

# isp_radius creates the read-only role FreeRADIUS connects as (one per database): odoo needs
# CREATEROLE for it. Never fatal: without it only that step (and the RADIUS tests) fail.
createrole=$(psql -h "$PGHOST" -p "$PGPORT" -U odoo -d postgres -tAc \
    "SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user" 2>/dev/null || true)
if [ "$createrole" != t ]; then
    if psql -h "$PGHOST" -p "$PGPORT" -U "${PGADMINUSER:-postgres}" -d postgres -qc \
        "ALTER ROLE odoo CREATEROLE" >/dev/null 2>&1; then
        say "gave the PostgreSQL role odoo CREATEROLE (for FreeRADIUS's read-only role, isp_radius)"
    else
        say "WARNING: the PostgreSQL role odoo lacks CREATEROLE, needed by isp_radius to create the \
read-only role FreeRADIUS connects as (and by its tests); as a PostgreSQL superuser run: ALTER ROLE odoo CREATEROLE;"
    fi
fi

# --- 3. Odoo 19 ---------------------------------------------------------------------------
odoo_from_deb() {
    local aptdir="$CACHE/apt" debdir="$CACHE/debs" mirror sources
    mkdir -p "$aptdir/lists/partial" "$aptdir/archives/partial" "$debdir"
    # The machine's own Debian mirror (deb822 or one-line format); never a hard-coded host.
    mirror=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | awk '{for (i = 2; i <= NF; i++) print $i}' | grep -E '/debian/?$' | head -n 1 || true)
    if [ -z "$mirror" ]; then
        mirror=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
            | sed -E 's/\[[^]]*\]//' | awk '{print $2}' | grep -E '/debian/?$' | head -n 1 || true)
    fi
    [ -n "$mirror" ] || die "no Debian mirror found in /etc/apt/sources.list*; set ODOO_SRC to an Odoo 19 tree instead"
    [ -r /usr/share/keyrings/debian-archive-keyring.gpg ] || apt_install debian-archive-keyring
    sources="$aptdir/sources.list"
    {
        echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm main"
        echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror sid main"
    } >"$sources"
    local apt_opts=(-o "Dir::Etc::sourcelist=$sources" -o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$aptdir/lists"
        -o "Dir::Cache=$aptdir" -o Debug::NoLocking=1 -o APT::Sandbox::User=root -q)
    say "resolving odoo-19 through apt ($mirror, sid)"
    apt-get "${apt_opts[@]}" update >/dev/null || die "apt-get update of the private Odoo sources failed"
    local version
    version=$(apt-cache "${apt_opts[@]}" policy odoo-19 | awk '/Candidate:/ {print $2}')
    [ -n "$version" ] && [ "$version" != "(none)" ] || die "the Debian archive offers no odoo-19 package"
    local prefix="$CACHE/odoo-$version"
    if [ ! -f "$prefix/.complete" ]; then
        rm -rf "$prefix"
        (
            cd "$debdir"
            # Signature-checked: apt verifies the Release file against Debian's keyring and each .deb's hash.
            apt-get "${apt_opts[@]}" download "odoo-19=$version" fonts-montserrat/sid \
                fonts-font-awesome/bookworm fonts-inconsolata/bookworm fonts-roboto-unhinted/bookworm \
                fonts-ocr-b/bookworm libjs-jquery/bookworm libjs-jquery-form/bookworm \
                libjs-underscore/bookworm >/dev/null
        ) || die "downloading odoo-19 $version failed"
        mkdir -p "$prefix.tmp"
        local deb
        for deb in "$debdir"/odoo-19_"${version//:/%3a}"_all.deb "$debdir"/fonts-*.deb "$debdir"/libjs-*.deb; do
            dpkg -x "$deb" "$prefix.tmp"
        done
        local dangling
        dangling=$(find "$prefix.tmp" -xtype l | head -n 5)
        [ -z "$dangling" ] || die "unpacked Odoo has dangling symlinks, e.g.: $dangling"
        mv "$prefix.tmp" "$prefix"
        touch "$prefix/.complete"
    fi
    echo "$version" >"$CACHE/odoo-version"
    ODOO_ROOT="$prefix/usr/lib/python3/dist-packages"
}

if [ -n "${ODOO_SRC:-}" ]; then
    ODOO_ROOT=$(cd "$ODOO_SRC" && pwd)
    [ -f "$ODOO_ROOT/odoo/release.py" ] || die "ODOO_SRC=$ODOO_SRC holds no odoo/release.py"
    say "using the Odoo tree in ODOO_SRC=$ODOO_ROOT"
else
    cached=""
    if [ -z "${ISP_ODOO_REFRESH:-}" ] && [ -f "$CACHE/odoo-version" ]; then
        cached="$CACHE/odoo-$(cat "$CACHE/odoo-version")"
    fi
    if [ -n "$cached" ] && [ -f "$cached/.complete" ]; then
        ODOO_ROOT="$cached/usr/lib/python3/dist-packages"
    else
        odoo_from_deb
    fi
fi
grep -qE "^version_info = \(19, " "$ODOO_ROOT/odoo/release.py" \
    || die "the Odoo tree at $ODOO_ROOT is not Odoo 19"
# .odoo points at the Odoo tree so that odoo.conf names Odoo's addons without a machine path.
ln -sfn "$ODOO_ROOT" "$ROOT/.odoo"

# --- 4. Python environment -----------------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
    say "creating .venv with $PYTHON"
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.requirements.sha
want=$(cat requirements*.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing Python requirements"
    .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade "pip>=23" wheel \
        2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
    .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt -r requirements-dev.txt \
        2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
    echo "$want" >"$stamp"
fi
site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$ODOO_ROOT" >"$site/isp_odoo.pth"
.venv/bin/python -c 'import odoo.release as r; assert r.version_info[0] == 19' \
    || die ".venv cannot import Odoo 19 from $ODOO_ROOT"

# --- 5. Local credential key -----------------------------------------------------------------
# Payment, SMS and router credentials are encrypted at rest with a Fernet key (isp_billing's
# isp.secret.mixin). A development machine gets its own key, made once and kept across runs in
# .data/ (git-ignored, beside the filestore it belongs with); scripts/run.sh hands it to Odoo.
# Production sets its own: isp_credential_key in the Odoo configuration file or the
# ISP_CREDENTIAL_KEY environment variable (see README.md).
KEY_FILE="$ROOT/.data/isp_credential.key"
if [ ! -s "$KEY_FILE" ]; then
    mkdir -p "$ROOT/.data"
    (umask 077 && .venv/bin/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())' >"$KEY_FILE.tmp")
    mv "$KEY_FILE.tmp" "$KEY_FILE"
    say "made a local credential key in .data/isp_credential.key (keep it: stored credentials need it)"
fi

say "ready: Odoo $(.venv/bin/python -c 'import odoo.release as r; print(r.version)') from $ODOO_ROOT"
