"""Shared helpers of the benchmarks: open the registry in-process, time, count queries, clone
rows with SQL, print a compact table and write the figures as JSON.

The scripts run from the repository root (bench/run.sh does it) with the venv's interpreter:
``.venv/bin/python bench/bench_expiry.py --db isp_bench``.
"""

import argparse
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def parse_args(description, **defaults):
    """Common options (--db, --repeat) plus the benchmark's own sizes (``defaults``: name ->
    default int; each also read from the environment as BENCH_<NAME>)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--db", default=os.environ.get("BENCH_DB", "isp_bench"))
    parser.add_argument("--config", default=str(ROOT / "odoo.conf"))
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", 3)))
    parser.add_argument(
        "--profile",
        action="store_true",
        default=os.environ.get("BENCH_PROFILE") == "1",
        help="also write a cProfile of one measured run to bench/results/",
    )
    for name, value in defaults.items():
        parser.add_argument(
            "--" + name.replace("_", "-"),
            type=int,
            default=int(os.environ.get("BENCH_" + name.upper(), value)),
        )
    return parser.parse_args()


def open_registry(args):
    """Parse odoo.conf (logging at warn: fulfilments log one INFO line each) and load the
    registry of ``args.db``."""
    os.chdir(ROOT)  # odoo.conf's paths are relative to the repository root
    import odoo  # noqa: PLC0415
    from odoo.tools import config  # noqa: PLC0415

    config.parse_config(
        ["-c", args.config, "-d", args.db, "--log-level=warn", "--db-filter=.*"],
        setup_logging=True,
    )
    from odoo.modules.registry import Registry  # noqa: PLC0415

    return odoo, Registry(args.db)


def new_env(odoo, cr):
    return odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})


def autocommit_sql(db, *queries):
    """Run statements that cannot run in a transaction (VACUUM) on a connection of their own."""
    import psycopg2  # noqa: PLC0415

    from odoo.sql_db import connection_info_for  # noqa: PLC0415

    _name, params = connection_info_for(db)
    cnx = psycopg2.connect(**params)
    try:
        cnx.autocommit = True
        with cnx.cursor() as cur:
            for query in queries:
                cur.execute(query)
    finally:
        cnx.close()


def make_template_subscription(env, name, phone):
    """A hotspot bundle, one ISP customer and one draft subscription made through the ORM in
    the current company: the rows the benchmarks' SQL inserts copy."""
    company = env.company
    bundle = (
        env["product.template"]
        .create(
            {
                "name": name,
                "is_isp_bundle": True,
                "isp_service_type": "hotspot",
                "list_price": 1000,
                "isp_duration_value": 1,
                "isp_duration_unit": "days",
                "company_id": company.id,
            }
        )
        .product_variant_id
    )
    partner = env["res.partner"].create(
        {
            "name": f"{name} customer",
            "phone": phone,
            "is_isp_customer": True,
            "company_id": company.id,
        }
    )
    subscription = env["isp.subscription"].create(
        {"partner_id": partner.id, "bundle_id": bundle.id, "company_id": company.id}
    )
    return bundle, partner, subscription


def table_columns(cr, table):
    cr.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
        [table],
    )
    return [row[0] for row in cr.fetchall()]


def clone_rows(cr, table, template_id, source, overrides, template_table=None):
    """INSERT copies of row ``template_id`` of ``table``, one per row of ``source`` (an SQL
    FROM item, e.g. ``generate_series(1, 1000) AS g``), with ``overrides`` (column -> SQL
    expression over ``source``) replacing the template's values. Every other column keeps the
    template's value, so required columns and ORM defaults stay filled. The template row may be
    read from ``template_table`` (a copy of ``table``'s rows, same columns) instead. Returns the
    new ids in the order of ``source``."""
    from odoo.tools import SQL  # noqa: PLC0415

    columns = [c for c in table_columns(cr, table) if c != "id"]
    unknown = set(overrides) - set(columns)
    assert not unknown, f"{table} has no column(s) {unknown}"
    values = [overrides[c] if c in overrides else SQL("t.%s", SQL.identifier(c)) for c in columns]
    cr.execute(
        SQL(
            "INSERT INTO %(table)s (%(columns)s) SELECT %(values)s"
            " FROM %(template_table)s t, %(source)s WHERE t.id = %(template)s RETURNING id",
            table=SQL.identifier(table),
            template_table=SQL.identifier(template_table or table),
            columns=SQL(", ").join(SQL.identifier(c) for c in columns),
            values=SQL(", ").join(values),
            source=source,
            template=template_id,
        )
    )
    return [row[0] for row in cr.fetchall()]


class Clock:
    """Wall time and number of SQL queries of a block: ``with Clock(cr) as clock: ...``."""

    def __init__(self, cr):
        self.cr = cr
        self.seconds = self.queries = None

    def __enter__(self):
        self._queries = self.cr.sql_log_count
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._start
        self.queries = self.cr.sql_log_count - self._queries
        return False


_NORMALIZE = [
    (re.compile(r"'(?:[^']|'')*'"), "'?'"),
    (re.compile(r"\b\d+(\.\d+)?\b"), "N"),
    (re.compile(r"(N|'\?')(\s*,\s*(N|'\?'))+"), r"\1, ..."),
    (re.compile(r"\s+"), " "),
]


def normalize_query(text):
    for pattern, repl in _NORMALIZE:
        text = pattern.sub(repl, text)
    return text.strip()


@contextlib.contextmanager
def record_queries():
    """Record every SQL statement executed meanwhile (in this process), normalized: literals
    replaced by N / '?'. Yields a Counter (normalized query -> count)."""
    from odoo import sql_db  # noqa: PLC0415

    counter = Counter()
    original = sql_db.Cursor.execute

    def execute(self, query, params=None, log_exceptions=True):
        try:
            counter[normalize_query(self._format(query, params))] += 1
        except Exception:  # noqa: BLE001 - recording must never break the measured code
            counter[str(query)[:200]] += 1
        return original(self, query, params, log_exceptions)

    sql_db.Cursor.execute = execute
    try:
        yield counter
    finally:
        sql_db.Cursor.execute = original


def top_queries(counter, limit=15, width=160):
    return [{"count": count, "query": query[:width]} for query, count in counter.most_common(limit)]


@contextlib.contextmanager
def maybe_profile(enabled, name):
    if not enabled:
        yield
        return
    import cProfile  # noqa: PLC0415
    import pstats  # noqa: PLC0415

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{name}.prof"
        profiler.dump_stats(path)
        with open(RESULTS / f"{name}.prof.txt", "w") as out:
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
        print(f"  profile: {path.relative_to(ROOT)} (+ .txt)")


def median(values):
    return statistics.median(values)


def print_table(title, headers, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    print(f"\n{title}")
    line = "  ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True))
    print("  " + line)
    print("  " + "  ".join("-" * w for w in widths))
    for row in rows:
        print(
            "  "
            + "  ".join(
                str(c).rjust(w) if isinstance(c, int | float) else str(c).ljust(w)
                for c, w in zip(row, widths, strict=True)
            )
        )


def verdict(ok):
    return "target met" if ok else "target MISSED"


def write_results(name, data):
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = dict(
        data,
        benchmark=name,
        measured_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        python=sys.version.split()[0],
        cpus=os.cpu_count(),
    )
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    print(f"  figures: {path.relative_to(ROOT)}")
    return path


def run(cmd, log):
    """Run ``cmd`` from the repository root, appending its output to ``log``; its exit code."""
    with open(log, "a") as out:
        return subprocess.run(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT).returncode  # noqa: S603


def ensure_database(args, modules, name):
    """Create ``args.db`` (odoo db init) when missing and install whichever of ``modules`` it
    lacks, logging to bench/results/<name>_install.log. Returns True if it was created."""
    import psycopg2  # noqa: PLC0415

    from odoo.sql_db import connection_info_for  # noqa: PLC0415

    odoo = [sys.executable, "-m", "odoo"]
    log = RESULTS / f"{name}_install.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    _name, params = connection_info_for("postgres")
    cnx = psycopg2.connect(**params)
    try:
        with cnx.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.db])
            exists = bool(cur.fetchone())
    finally:
        cnx.close()
    created = False
    if not exists:
        print(f"  creating database {args.db}")
        if run([*odoo, "db", "-c", args.config, "init", args.db, "--country", "TZ"], log):
            raise RuntimeError(f"could not create {args.db} (see {log})")
        created = True
    cnx = psycopg2.connect(**dict(params, database=args.db))
    try:
        with cnx.cursor() as cur:
            cur.execute(
                "SELECT name FROM ir_module_module WHERE name IN %s AND state = 'installed'",
                [tuple(modules)],
            )
            missing = sorted(set(modules) - {row[0] for row in cur.fetchall()})
    finally:
        cnx.close()
    if missing:
        print(f"  installing {', '.join(missing)} into {args.db}")
        names = ",".join(missing)
        cmd = [*odoo, "-c", args.config, "-d", args.db, "-i", names, "--stop-after-init"]
        if run([*cmd, "--log-level=warn"], log):
            raise RuntimeError(f"could not install {names} (see {log})")
    return created


def drop_database(args):
    """In-process (``odoo db drop`` only sees the databases odoo.conf's dbfilter allows)."""
    from odoo.service import db  # noqa: PLC0415
    from odoo.tools import config  # noqa: PLC0415

    config["list_db"] = True  # database management is off in odoo.conf (list_db = False)
    if db.exp_drop(args.db):
        print(f"  dropped database {args.db}")


def fire(requests_list, clients, timeout=120):
    """Send each ``(method, url, json body or None)`` with ``clients`` threads, each with its
    own cookie session (as a browser or a provider keeps its connection). Returns (wall
    seconds, latencies ms, status codes (-1: no answer), CPU seconds the client threads used)."""
    import requests  # noqa: PLC0415

    latencies, statuses, cpu = [], [], []
    lock = threading.Lock()
    queue = list(reversed(requests_list))

    def worker():
        cpu_start = time.thread_time()
        session = requests.Session()
        while True:
            with lock:
                if not queue:
                    cpu.append(time.thread_time() - cpu_start)
                    return
                method, url, body = queue.pop()
            start = time.perf_counter()
            try:
                status = session.request(method, url, json=body, timeout=timeout).status_code
            except requests.RequestException:
                status = -1
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                latencies.append(elapsed)
                statuses.append(status)

    threads = [threading.Thread(target=worker) for _i in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, latencies, statuses, sum(cpu)
