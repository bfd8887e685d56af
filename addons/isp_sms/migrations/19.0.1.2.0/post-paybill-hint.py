"""The expiry reminder and access expired SMS name the company's M-Pesa Paybill and the
customer's account number (res.partner.isp_sms_pay_hint). The templates are noupdate: their
texts (English and Swahili) are changed here when still the ones this module gave, never
when an operator rewrote them."""

from odoo.tools import SQL

HINT = "{{ object.partner_id.isp_sms_pay_hint }}"
TEXTS = {
    "sms_template_isp_expiry_warning": {
        "en_US": "Reminder: your internet access ends on {{ object.isp_sms_expiry }}. Renew "
        "early to stay connected.",
        "sw": "Kumbusho: huduma yako ya intaneti itaisha {{ object.isp_sms_expiry }}. Lipia "
        "mapema ili uendelee kuunganishwa.",
    },
    "sms_template_isp_access_expired": {
        "en_US": "Your internet access expired on {{ object.isp_sms_expiry }}. Buy a bundle or "
        "redeem a voucher to reconnect.",
        "sw": "Huduma yako ya intaneti iliisha {{ object.isp_sms_expiry }}. Nunua kifurushi au "
        "tumia vocha ili kuunganishwa tena.",
    },
}


def migrate(cr, version):
    for xmlid, texts in TEXTS.items():
        for lang, old in texts.items():
            cr.execute(
                SQL(
                    """
                    UPDATE sms_template t
                       SET body = jsonb_set(t.body, %(path)s, to_jsonb(%(new)s::text))
                      FROM ir_model_data d
                     WHERE d.module = 'isp_sms' AND d.name = %(xmlid)s
                       AND d.model = 'sms.template' AND d.res_id = t.id
                       AND t.body ->> %(lang)s = %(old)s
                    """,
                    path=[lang],
                    new=old + HINT,
                    xmlid=xmlid,
                    lang=lang,
                    old=old,
                )
            )
