"""The provider records are ``noupdate``: an update does not rename them. The Daraja providers
still named "M-Pesa" (the former default) are renamed "M-Pesa (Safaricom Daraja, KES)", and the
ClickPesa providers still showing the former default picture (another network's logo) get the
ClickPesa logo. A name or a picture an operator chose is kept."""

import base64

from odoo import SUPERUSER_ID, api
from odoo.tools.misc import file_open

OLD_DARAJA_NAME = "M-Pesa"
NEW_DARAJA_NAME = "M-Pesa (Safaricom Daraja, KES)"
# SHA-1 of the former default ClickPesa picture: as installed (image_128, resized by Odoo)
# and as shipped
OLD_CLICKPESA_IMAGES = {
    "775a43822c2f1c867e23ca9ff899a4efcd4d1eea",
    "8907c4acc7e5ebbe4e02018c3667a002591b0274",
}


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    rename_daraja(env)
    replace_clickpesa_logo(env)


def rename_daraja(env):
    """Every company's Daraja provider (Odoo copies the providers for each company) still
    named as shipped."""
    providers = (
        env["payment.provider"]
        .with_context(lang="en_US", active_test=False)
        .search([("code", "=", "daraja")])
    )
    providers.filtered(lambda provider: provider.name == OLD_DARAJA_NAME).name = NEW_DARAJA_NAME


def replace_clickpesa_logo(env):
    """Every company's ClickPesa provider still showing the picture shipped before."""
    providers = (
        env["payment.provider"].with_context(active_test=False).search([("code", "=", "clickpesa")])
    )
    if not providers:
        return
    attachments = (
        env["ir.attachment"]
        .sudo()
        .search(
            [
                ("res_model", "=", "payment.provider"),
                ("res_id", "in", providers.ids),
                ("res_field", "=", "image_128"),
                ("checksum", "in", list(OLD_CLICKPESA_IMAGES)),
            ]
        )
    )
    old = providers.browse(attachments.mapped("res_id"))
    if old:
        with file_open("isp_mpesa/static/description/clickpesa.png", "rb") as logo:
            old.image_128 = base64.b64encode(logo.read())
