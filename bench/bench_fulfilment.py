"""Fulfilment with invoice: fulfilments per second in one process, against plain invoices.

Each operation is its own transaction (committed, then the environment's cache dropped), as a
payment callback or a request would be, for a customer never served before:

- ``invoice``: create and post a customer invoice for the bundle (what ``_create_invoice``
  does), the baseline;
- ``invoice+payment``: the same invoice, then paid in full through the bank journal with
  ``account.payment.register`` (what ``_register_payment`` adds), for the breakdown;
- ``fulfil``: ``isp.purchase._fulfil(partner, bundle, 'payment', ref, journal=bank)``:
  purchase, subscription, invoice, payment, reconciliation, chatter message;
- ``fulfil deferred``: what a payment callback does (``payment.transaction._isp_fulfil_paid``):
  the amount paid checked against the invoice to be, ``_fulfil(..., invoice=False)``:
  purchase ("To Invoice"), subscription, chatter message, Odoo's post-processing cron
  triggered (the invoice itself is left to the transaction's post-processing).

COUNT fulfilments and COUNT invoices in all, split over the repetitions (the kinds' order
rotating between repetitions); ``invoice+payment`` runs a quarter as many. The figure is the
median over the repetitions. A few operations of each kind run first, not
measured (first posting of the year creates the journal sequences, caches fill).
"""

import sys
from collections import Counter

from common import (
    Clock,
    maybe_profile,
    median,
    new_env,
    open_registry,
    parse_args,
    print_table,
    record_queries,
    top_queries,
    write_results,
)

WARMUP = 5
KINDS = ("invoice", "invoice+payment", "fulfil", "fulfil deferred")


def setup(env, customers):
    """A bundle (the company's default sales tax applies), a bank journal and ``customers``
    new ISP customers."""
    company = env.company
    bundle = (
        env["product.template"]
        .create(
            {
                "name": "Bench Weekly",
                "is_isp_bundle": True,
                "isp_service_type": "hotspot",
                "list_price": 6000,
                "isp_duration_value": 7,
                "isp_duration_unit": "days",
                "company_id": company.id,
            }
        )
        .product_variant_id
    )
    journal = env["account.journal"].create(
        {"name": "Bench Mobile Money", "code": "BMM", "type": "bank", "company_id": company.id}
    )
    partners = env["res.partner"].create(
        [
            {
                "name": f"Bench customer {n}",
                "phone": f"+25571{n:07d}",
                "is_isp_customer": True,
                "company_id": company.id,
            }
            for n in range(1, customers + 1)
        ]
    )
    env.flush_all()
    return bundle, journal, partners


def make_ops(env, bundle, journal):
    from odoo import Command, fields  # noqa: PLC0415

    def invoice(partner, reference):
        move = (
            env["account.move"]
            .with_company(partner.company_id)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "company_id": partner.company_id.id,
                    "invoice_origin": reference,
                    "ref": reference,
                    "invoice_line_ids": [
                        Command.create(
                            {"product_id": bundle.id, "quantity": 1, "price_unit": bundle.lst_price}
                        )
                    ],
                }
            )
        )
        move.action_post()
        return move

    def invoice_payment(partner, reference):
        move = invoice(partner, reference)
        env["account.payment.register"].with_context(
            active_model="account.move", active_ids=move.ids
        ).create(
            {
                "journal_id": journal.id,
                "payment_date": fields.Date.context_today(move),
                "communication": reference,
            }
        )._create_payments()
        assert move.payment_state in ("paid", "in_payment"), move.payment_state
        return move

    def fulfil(partner, reference):
        purchase = env["isp.purchase"]._fulfil(
            partner, bundle, "payment", reference, journal=journal
        )
        assert purchase.invoice_id.payment_state in ("paid", "in_payment"), (
            purchase.invoice_id.payment_state
        )
        return purchase

    paid = {}  # what a customer pays (taxes included), computed once, as on the payment page

    def fulfil_deferred(partner, reference):
        if "amount" not in paid:
            paid["amount"] = env["isp.purchase"]._invoice_total(
                partner, bundle, partner.company_id
            )[0]
        purchase = env["isp.purchase"]._fulfil(
            partner, bundle, "payment", reference, amount=paid["amount"], invoice=False
        )
        purchase.invoice_status = "to_invoice"
        env["payment.transaction"]._isp_trigger_post_processing()
        return purchase

    return {
        "invoice": invoice,
        "invoice+payment": invoice_payment,
        "fulfil": fulfil,
        "fulfil deferred": fulfil_deferred,
    }


def run_kind(env, op, partners, tag, profile=False):
    """One operation per partner, each committed; returns (seconds, queries, Counter)."""
    cr = env.cr
    with (
        record_queries() as queries,
        maybe_profile(profile, f"fulfilment_{tag}"),
        Clock(cr) as clock,
    ):
        for partner in partners:
            op(env["res.partner"].browse(partner), f"BENCH-{tag}-{partner}")
            cr.commit()
            env.invalidate_all()
    return clock.seconds, clock.queries, queries


def main():
    args = parse_args(__doc__.splitlines()[0], count=200)
    odoo, registry = open_registry(args)
    chunk_size = {kind: -(-args.count // args.repeat) for kind in KINDS}
    chunk_size["invoice+payment"] = max(5, chunk_size["invoice+payment"] // 4)
    per_kind = WARMUP + max(chunk_size.values()) * args.repeat
    with registry.cursor() as cr:
        env = new_env(odoo, cr)
        with Clock(cr) as clock:
            bundle, journal, partners = setup(env, per_kind * len(KINDS))
        cr.commit()
        print(f"  setup: {len(partners)} customers in {clock.seconds:.1f} s", flush=True)
        ops = make_ops(env, bundle, journal)
        ids = partners.ids
        pools = {kind: ids[i * per_kind : (i + 1) * per_kind] for i, kind in enumerate(KINDS)}
        for kind in KINDS:
            seconds, _queries, _counter = run_kind(
                env, ops[kind], pools[kind][:WARMUP], f"warmup-{kind}"
            )
            print(f"  warm-up {kind}: {WARMUP} in {seconds:.2f} s", flush=True)

        runs = {kind: [] for kind in KINDS}
        totals = {kind: Counter() for kind in KINDS}
        done = dict.fromkeys(KINDS, 0)
        for rep in range(args.repeat):
            order = KINDS[rep % len(KINDS) :] + KINDS[: rep % len(KINDS)]
            for kind in order:
                size = chunk_size[kind]
                if kind != "invoice+payment":  # COUNT in all, the last run takes the rest
                    left = args.count - done[kind]
                    size = left if rep == args.repeat - 1 else min(size, left)
                lo = WARMUP + done[kind]
                chunk = pools[kind][lo : lo + size]
                done[kind] += len(chunk)
                profile = args.profile and rep == args.repeat - 1 and kind == "fulfil"
                seconds, queries, counter = run_kind(
                    env, ops[kind], chunk, f"{kind}-{rep}", profile=profile
                )
                totals[kind].update(counter)
                runs[kind].append(
                    {
                        "operations": len(chunk),
                        "seconds": round(seconds, 3),
                        "per_second": round(len(chunk) / seconds, 2),
                        "ms_per_op": round(1000 * seconds / len(chunk), 1),
                        "queries_per_op": round(queries / len(chunk), 1),
                        "top_queries_per_op": [
                            dict(q, count=round(q["count"] / len(chunk), 2))
                            for q in top_queries(counter, limit=12)
                        ],
                    }
                )
                print(
                    f"  {kind:<15} run {rep + 1}/{args.repeat}: {len(chunk)} in {seconds:6.2f} s"
                    f" ({len(chunk) / seconds:5.1f}/s, {queries / len(chunk):.0f} queries each)",
                    flush=True,
                )
        cr.execute(
            "SELECT count(*) FROM isp_purchase p JOIN account_move m ON m.id = p.invoice_id"
            " WHERE m.state = 'posted' AND m.payment_state IN ('paid', 'in_payment')"
        )
        paid_purchases = cr.fetchone()[0]

    rates = {kind: median(r["per_second"] for r in runs[kind]) for kind in KINDS}
    ms = {kind: median(r["ms_per_op"] for r in runs[kind]) for kind in KINDS}
    queries = {kind: median(r["queries_per_op"] for r in runs[kind]) for kind in KINDS}
    base = rates["invoice"]
    print_table(
        f"Fulfilment with invoice: {done['fulfil']} fulfilments and {done['invoice']} invoices"
        f" in {args.repeat} runs each, median",
        ["operation", "per second", "ms each", "queries each", "vs invoice", "runs (/s)"],
        [
            (
                kind,
                f"{rates[kind]:.1f}",
                f"{ms[kind]:.1f}",
                f"{queries[kind]:.0f}",
                f"{rates[kind] / base:.2f}",
                " ".join(f"{r['per_second']:.1f}" for r in runs[kind]),
            )
            for kind in KINDS
        ],
    )
    ratio = rates["fulfil"] / base
    print(
        f"  ratio fulfilments/s : invoices/s = {ratio:.2f} (a fulfilment costs"
        f" {base / rates['fulfil']:.2f} plain invoices; no target set, figure only)"
    )
    print(
        f"  a payment's fulfilment (access now, invoice by the post-processing) runs"
        f" {rates['fulfil deferred'] / rates['fulfil']:.1f} times as fast as one with its paid"
        f" invoice ({queries['fulfil deferred']:.0f} queries against {queries['fulfil']:.0f})"
    )
    # what a fulfilment runs beyond an invoice paid through the journal, per fulfilment
    extra = Counter()
    for query, count in totals["fulfil"].items():
        delta = count / done["fulfil"] - totals["invoice+payment"][query] / done["invoice+payment"]
        if abs(delta) >= 0.5:
            extra[query] = round(delta, 2)
    print(
        f"  a fulfilment runs {queries['fulfil'] - queries['invoice+payment']:+.0f} queries"
        " beyond an invoice paid through the journal; the largest differences:"
    )
    for query, delta in sorted(extra.items(), key=lambda item: -abs(item[1]))[:8]:
        print(f"    {delta:+6.2f}  {query[:110]}")
    write_results(
        "fulfilment",
        {
            "count": args.count,
            "operations": done,
            "repeat": args.repeat,
            "per_second": rates,
            "ms_per_op": ms,
            "queries_per_op": queries,
            "ratio_fulfil_vs_invoice": round(ratio, 3),
            "ratio_fulfil_vs_invoice_payment": round(rates["fulfil"] / rates["invoice+payment"], 3),
            "ratio_deferred_vs_fulfil": round(rates["fulfil deferred"] / rates["fulfil"], 3),
            "paid_purchases": paid_purchases,
            "runs": runs,
            "extra_queries_per_fulfilment_vs_invoice_payment": [
                {"count": delta, "query": query[:200]}
                for query, delta in sorted(extra.items(), key=lambda item: -abs(item[1]))[:20]
            ],
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
