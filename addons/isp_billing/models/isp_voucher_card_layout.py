"""How voucher cards are printed: the layouts a batch (and a company's default) can choose."""

# How a batch's cards are printed: A4 sheets (cards a page, columns; the count is a parameter
# of the one A4 report) or thermal rolls (one card a page of the roll's paper format).
CARD_LAYOUT_SPECS = {
    "a4_30": {
        "paper": "a4",
        "report": "isp_billing.isp_voucher_report_cards_a4",
        "per_page": 30,
        "columns": 3,
        "qr": True,
    },
    "a4_40": {
        "paper": "a4",
        "report": "isp_billing.isp_voucher_report_cards_a4",
        "per_page": 40,
        "columns": 4,
        "qr": False,
    },
    "a4_65": {
        "paper": "a4",
        "report": "isp_billing.isp_voucher_report_cards_a4",
        "per_page": 65,
        "columns": 5,
        "qr": False,
    },
    "roll_80": {"paper": "roll_80", "report": "isp_billing.isp_voucher_report_cards_80mm"},
    "roll_58": {"paper": "roll_58", "report": "isp_billing.isp_voucher_report_cards_58mm"},
}
for _key, _spec in CARD_LAYOUT_SPECS.items():
    _spec["key"] = _key
CARD_LAYOUTS = [
    ("a4_30", "A4, 30 cards a page (with QR code)"),
    ("a4_40", "A4, 40 cards a page"),
    ("a4_65", "A4, 65 cards a page (small)"),
    ("roll_80", "80 mm roll (with QR code)"),
    ("roll_58", "58 mm roll, compact"),
]
DEFAULT_CARD_LAYOUT = "a4_30"
