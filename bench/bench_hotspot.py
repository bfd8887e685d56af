"""Captive page under load: GET /hotspot and GET /api/bundles/ against a separate Odoo
server with 2 workers (prefork), next to a bare Odoo public route (POST
/web/webclient/version_info) measured in the same run and the same way, plus the page weight
of a first load (HTML + CSS + JS, gzip-compressed as a proxy would send them).

``.venv/bin/python bench/bench_hotspot.py [--db isp_bench] [--count 1000] [--clients 4]``.
isp_hotspot is installed into the database when missing (created with ``--country TZ`` when
it does not exist, then dropped). Prints figures, never fails (exit 0).
Targets: each route >= 0.8 x the bare route's throughput; first load <= 60 KB compressed.
"""

import gzip
import os
import re
import statistics
import sys
import traceback
import uuid

from common import (
    ROOT,
    drop_database,
    ensure_database,
    fire,
    parse_args,
    print_table,
    verdict,
    write_results,
)

TARGET_RATIO = 0.8
TARGET_WEIGHT_KB = 60.0


def fixture(odoo, registry):
    """Three hotspot bundles in the website's company (committed). Returns their ids."""
    tag = uuid.uuid4().hex[:6]
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        company = env["website"].search([], limit=1).company_id
        templates = env["product.template"].create(
            [
                {
                    "name": f"Bench {name} {tag}",
                    "is_isp_bundle": True,
                    "isp_service_type": "hotspot",
                    "list_price": price,
                    "isp_duration_value": days,
                    "isp_duration_unit": "days",
                    "sequence": seq,
                    "company_id": company.id,
                    "isp_marketing_description": "Unlimited internet on one device.",
                }
                for seq, (name, price, days) in enumerate(
                    [("Daily", 1000, 1), ("Weekly", 6000, 7), ("Monthly", 25000, 30)]
                )
            ]
        )
        return templates.ids


WERKZEUG_LINE = re.compile(r'"(?:GET|POST) (\S+) HTTP/[\d.]+" (\d+) - (\d+) ')


def query_counts(server, routes):
    """Median SQL queries per request of each route, from the server's werkzeug log lines
    ("... 200 - <queries> <query time> <other time>")."""
    server.log.flush()
    counts = {name: [] for name, _url in routes}
    paths = [(name, url.split(server.url, 1)[1].split("?")[0]) for name, url in routes]
    with open(server.log.name, errors="replace") as log:
        for line in log:
            match = WERKZEUG_LINE.search(line)
            if not match or match.group(2) != "200":
                continue
            path = match.group(1).split("?")[0]
            for name, route in paths:
                if path == route:
                    counts[name].append(int(match.group(3)))
    return {name: statistics.median(c) if c else None for name, c in counts.items()}


def page_weight(base_url):
    """Bytes of a first load of /hotspot: the HTML and every CSS / JS file it references,
    raw and gzip-compressed. Also the hosts it reaches."""
    import requests  # noqa: PLC0415

    html = requests.get(f"{base_url}/hotspot", timeout=30)
    parts = {"/hotspot": html.content}
    for ref in re.findall(r'(?:href|src)="([^"]+\.(?:css|js)[^"]*)"', html.text):
        url = ref if ref.startswith("http") else f"{base_url}{ref}"
        parts[ref] = requests.get(url, timeout=30).content
    raw = sum(len(content) for content in parts.values())
    compressed = sum(len(gzip.compress(content, 6)) for content in parts.values())
    hosts = set(re.findall(r'(?:href|src)="https?://([^/"]+)', html.text))
    return parts, raw, compressed, hosts


def main():
    args = parse_args(__doc__.splitlines()[0], count=1000, clients=4, workers=2)
    os.chdir(ROOT)
    import odoo  # noqa: PLC0415
    from odoo.tools import config  # noqa: PLC0415

    config.parse_config(
        ["-c", args.config, "-d", args.db, "--log-level=warn", "--db-filter=.*"],
        setup_logging=True,
    )
    created = ensure_database(args, ["isp_hotspot"], "bench_hotspot")
    from odoo.modules.registry import Registry  # noqa: PLC0415

    from odoo.addons.isp_mpesa.tests.server import OdooServer  # noqa: PLC0415

    registry = Registry(args.db)
    # info: the werkzeug line of each request gives its query count (same cost on every route)
    server = OdooServer(args.db, args.config, workers=args.workers, log_level="info")
    bundle_ids = []
    try:
        bundle_ids = fixture(odoo, registry)
        print(f"  starting Odoo with {args.workers} workers on {server.url}")
        server.start()
        server.warm_up("/hotspot")
        bare_url = f"{server.url}/web/webclient/version_info"
        bare_body = {"jsonrpc": "2.0", "method": "call", "params": {}}
        routes = [
            ("bare JSON route", "POST", bare_url, bare_body),
            ("/hotspot", "GET", f"{server.url}/hotspot?mac=02:00:00:00:00:01&ip=10.5.50.2", None),
            ("/api/bundles/", "GET", f"{server.url}/api/bundles/", None),
        ]
        for _name, method, url, body in routes:  # warm-up
            fire([(method, url, body)] * (args.workers * 4), args.clients, timeout=60)
        results = {}
        for name, method, url, body in routes:
            wall, lat, statuses, _cpu = fire(
                [(method, url, body)] * args.count, args.clients, timeout=60
            )
            results[name] = {
                "requests": len(lat),
                "ok": sum(1 for s in statuses if s == 200),
                "per_second": round(len(lat) / wall, 1),
                "p50_ms": round(statistics.median(lat), 1),
                "p95_ms": round(statistics.quantiles(lat, n=20)[-1], 1),
            }
        print_table(
            f"Captive page over loopback, {args.workers} workers, {args.clients} clients",
            ["route", "requests", "HTTP 200", "per s", "p50 ms", "p95 ms"],
            [
                [n, r["requests"], r["ok"], r["per_second"], r["p50_ms"], r["p95_ms"]]
                for n, r in results.items()
            ],
        )
        bare = results["bare JSON route"]["per_second"]
        ratios = {
            name: round(results[name]["per_second"] / bare, 3)
            for name in ("/hotspot", "/api/bundles/")
        }
        for name, ratio in ratios.items():
            print(
                f"  {name} / bare route throughput: {ratio} "
                f"(target >= {TARGET_RATIO}): {verdict(ratio >= TARGET_RATIO)}"
            )
        queries = query_counts(server, [(n, url) for n, _m, url, _b in routes])
        print(
            "  SQL queries per request (median): "
            + ", ".join(f"{name} {count}" for name, count in queries.items())
        )
        parts, raw, compressed, hosts = page_weight(server.url)
        kb = round(compressed / 1024, 1)
        print(
            f"  first load: {len(parts)} files, {round(raw / 1024, 1)} KB raw, {kb} KB "
            f"gzip (target <= {TARGET_WEIGHT_KB} KB): {verdict(kb <= TARGET_WEIGHT_KB)}; "
            f"third-party hosts: {sorted(hosts) or 'none'}"
        )
        write_results(
            "hotspot",
            {
                "count": args.count,
                "clients": args.clients,
                "workers": args.workers,
                "results": results,
                "ratios": ratios,
                "queries_per_request": queries,
                "page_weight": {
                    "files": list(parts),
                    "raw_bytes": raw,
                    "gzip_bytes": compressed,
                    "third_party_hosts": sorted(hosts),
                },
                "targets": {"ratio": TARGET_RATIO, "weight_kb": TARGET_WEIGHT_KB},
            },
        )
    except Exception:  # noqa: BLE001 - a benchmark prints, never fails the build
        traceback.print_exc()
        print("  bench_hotspot stopped with an error: no figures")
        if server.process:
            print(server.tail())
    finally:
        server.stop()
        if bundle_ids:
            with registry.cursor() as cr:
                env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
                env["product.template"].browse(bundle_ids).active = False
        if created:
            drop_database(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
