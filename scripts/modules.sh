# Sourced by the scripts: the suite's modules, in dependency order. The bridges
# isp_hotspot_mikrotik and isp_hotspot_sms are not listed: they are auto_install, so `-i` of
# these five installs them, and an update (-u) of an older database installs them through
# isp_hotspot's migration 19.0.1.0.2.
ISP_MODULES="isp_billing,isp_mpesa,isp_sms,isp_mikrotik,isp_hotspot,isp_radius,isp_platform"
ODOO=(.venv/bin/python -m odoo)

db_exists() {
    psql -h "${PGHOST:-127.0.0.1}" -p "${PGPORT:-5432}" -U odoo -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$1'" | grep -q 1
}

# Modules of ISP_MODULES not installed in database $1, comma-separated.
missing_modules() {
    local installed
    installed=$(psql -h "${PGHOST:-127.0.0.1}" -p "${PGPORT:-5432}" -U odoo -d "$1" -tAc \
        "SELECT name FROM ir_module_module WHERE state = 'installed'" 2>/dev/null || true)
    local missing=() module
    for module in ${ISP_MODULES//,/ }; do
        grep -qx "$module" <<<"$installed" || missing+=("$module")
    done
    (IFS=,; echo "${missing[*]}")
}

# drop_db DB: drop a database and its filestore (odoo's `db drop` refuses while list_db = False).
drop_db() {
    dropdb -h "${PGHOST:-127.0.0.1}" -p "${PGPORT:-5432}" -U odoo --if-exists --force "$1" >/dev/null 2>&1 || true
    rm -rf ".data/filestore/$1"
}

# export_credential_key: stored credentials need a Fernet key. Keep the one in the environment
# or in odoo.conf; else export the local key that make setup made (.data/isp_credential.key).
export_credential_key() {
    if [ -z "${ISP_CREDENTIAL_KEY:-}" ] && ! grep -qE '^\s*isp_credential_key\s*=' odoo.conf; then
        ISP_CREDENTIAL_KEY=$(cat .data/isp_credential.key)
        export ISP_CREDENTIAL_KEY
    fi
}
