#!/usr/bin/env bash
# Lint the suite; every step must report nothing (zero findings), else the script exits non-zero.
#   1. ruff check            (.ruff.toml: OCA's rules, line length 100; never fixes anything)
#   2. ruff format --check   (never rewrites anything)
#   3. pylint-odoo mandatory checks (.pylintrc-mandatory) on each module in addons/
#   4. addons' README.md generated from their readme/ fragments (scripts/gen_readme.py)
#   5. docker-compose config -q on docker-compose.yml
# All steps run even when one fails, so a single run shows every finding. Tools come from .venv
# (`make setup`); docker-compose is installed from Debian (apt-get) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv/bin
failed=()

say() { printf '[lint] %s\n' "$*"; }
# step NAME CMD...: run one check (its findings print first), then one result line; remember failures.
step() {
    local name=$1
    shift
    if "$@"; then
        say "$name: OK"
    else
        say "$name: FAILED (findings above)"
        failed+=("$name")
    fi
}

for tool in ruff pylint; do
    if [ ! -x "$VENV/$tool" ]; then
        say "ERROR: $VENV/$tool not found; run 'make setup' (scripts/setup.sh) first" >&2
        exit 2
    fi
done

# --- docker-compose ----------------------------------------------------------------------------
COMPOSE=()
find_compose() {
    if command -v docker-compose >/dev/null 2>&1; then
        COMPOSE=(docker-compose)
    elif command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
        COMPOSE=(docker compose)
    fi
}
find_compose
if [ ${#COMPOSE[@]} -eq 0 ]; then
    SUDO=""
    if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    fi
    if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || [ -n "$SUDO" ]; }; then
        say "docker-compose not found: installing Debian's docker-compose package (apt-get)"
        if ! { $SUDO apt-get update -qq >/dev/null \
            && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
                docker-compose >/dev/null; }; then
            say "apt-get install docker-compose failed" >&2
        fi
        find_compose
    fi
    if [ ${#COMPOSE[@]} -eq 0 ]; then
        say "ERROR: docker-compose is missing. Install it first: 'sudo apt-get install docker-compose'" >&2
        say "       (Debian/Ubuntu), or Docker Compose v2 ('docker compose'), then run make lint again." >&2
        exit 2
    fi
fi

# --- checks ------------------------------------------------------------------------------------
step "ruff check" "$VENV/ruff" check --no-fix --output-format=concise .
step "ruff format --check" "$VENV/ruff" format --check .

addons=()
for manifest in addons/*/__manifest__.py; do
    [ -e "$manifest" ] && addons+=("$(dirname "$manifest")")
done
if [ ${#addons[@]} -eq 0 ]; then
    say "pylint-odoo: no modules found in addons/"
    failed+=("pylint-odoo")
fi
for addon in "${addons[@]}"; do
    step "pylint-odoo $(basename "$addon")" "$VENV/pylint" --rcfile=.pylintrc-mandatory "$addon"
done

step "addon READMEs up to date" .venv/bin/python scripts/gen_readme.py --check
step "${COMPOSE[*]} config" "${COMPOSE[@]}" -f docker-compose.yml config -q

# --- result ------------------------------------------------------------------------------------
if [ ${#failed[@]} -ne 0 ]; then
    summary=$(printf '%s, ' "${failed[@]}")
    say "FAILED: ${summary%, }"
    exit 1
fi
say "all checks passed"
