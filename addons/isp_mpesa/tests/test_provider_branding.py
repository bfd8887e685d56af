import base64
import importlib.util
import io
from pathlib import Path

from PIL import Image

from odoo.tests import TransactionCase, tagged
from odoo.tools.misc import file_open

MIGRATION = Path(__file__).parents[1] / "migrations" / "19.0.1.3.0" / "post-migrate.py"
DARAJA_NAME = "M-Pesa (Safaricom Daraja, KES)"


def _png(colour):
    buffer = io.BytesIO()
    Image.new("RGB", (240, 160), colour).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue())


@tagged("post_install", "-at_install")
class TestProviderBranding(TransactionCase):
    """The providers say what they are: "M-Pesa (Safaricom Daraja, KES)" for Daraja, and
    ClickPesa shows the ClickPesa logo (it showed another network's logo); installs made
    before get both on upgrade, unless the operator chose their own."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.daraja = cls.env.ref("isp_mpesa.payment_provider_daraja")
        cls.clickpesa = cls.env.ref("isp_mpesa.payment_provider_clickpesa")
        with file_open("isp_mpesa/static/description/clickpesa.png", "rb") as logo:
            cls.logo = base64.b64encode(logo.read())

    def _checksum(self, provider):
        return (
            self.env["ir.attachment"]
            .sudo()
            .search(
                [
                    ("res_model", "=", "payment.provider"),
                    ("res_id", "=", provider.id),
                    ("res_field", "=", "image_128"),
                ]
            )
            .checksum
        )

    def _logo_checksum(self):
        """The checksum of the ClickPesa logo as Odoo stores it (resized to 128 px)."""
        probe = self.env["payment.provider"].create({"name": "Logo probe", "image_128": self.logo})
        return self._checksum(probe)

    def _migrate(self, old_images=()):
        spec = importlib.util.spec_from_file_location("isp_mpesa_post_migrate_1_3", MIGRATION)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        migration.OLD_CLICKPESA_IMAGES = migration.OLD_CLICKPESA_IMAGES | set(old_images)
        migration.migrate(self.env.cr, "19.0.1.2.0")
        self.env.invalidate_all()
        return migration

    def test_names_and_logo(self):
        self.assertEqual(self.daraja.with_context(lang="en_US").name, DARAJA_NAME)
        self.assertEqual(self.clickpesa.name, "ClickPesa")
        self.assertEqual(self._checksum(self.clickpesa), self._logo_checksum())
        # a company created now gets them as well (Odoo copies the providers)
        company = self.env["res.company"].create({"name": "Kisumu WiFi"})
        copies = self.env["payment.provider"].search(
            [("company_id", "=", company.id), ("code", "in", ("daraja", "clickpesa"))]
        )
        self.assertEqual(sorted(copies.mapped("name")), sorted(["ClickPesa", DARAJA_NAME]))
        self.assertEqual(
            self._checksum(copies.filtered(lambda p: p.code == "clickpesa")),
            self._logo_checksum(),
        )

    def test_the_logo_is_clickpesas(self):
        """The picture is the drawn ClickPesa wordmark (blue and navy on white), not the
        yellow logo shipped before."""
        image = Image.open(io.BytesIO(base64.b64decode(self.clickpesa.image_128))).convert("RGBA")
        opaque = [pixel for pixel in image.getdata() if pixel[3] > 200]
        yellow = [p for p in opaque if p[0] > 200 and p[1] > 180 and p[2] < 80]
        blue = [p for p in opaque if p[2] > 150 and p[0] < 60]
        self.assertFalse(yellow)
        self.assertGreater(len(blue), 200)

    def test_upgrade_renames_and_replaces_only_the_former_defaults(self):
        """A database installed before: the Daraja providers still named "M-Pesa" are
        renamed, the ClickPesa providers still showing the former picture get the logo; a
        name or a picture the operator chose stays."""
        Provider = self.env["payment.provider"]
        old_picture, own_picture = _png((255, 204, 0)), _png((200, 30, 30))
        company = self.env["res.company"].create({"name": "Eldoret WiFi"})
        copies = Provider.search([("company_id", "=", company.id)])
        daraja_2 = copies.filtered(lambda p: p.code == "daraja")
        clickpesa_2 = copies.filtered(lambda p: p.code == "clickpesa")
        self.daraja.with_context(lang="en_US").name = "M-Pesa"
        daraja_2.with_context(lang="en_US").name = "M-Pesa Eldoret"
        self.clickpesa.image_128 = old_picture
        clickpesa_2.image_128 = own_picture
        old_checksum, own_checksum = self._checksum(self.clickpesa), self._checksum(clickpesa_2)
        self._migrate(old_images={old_checksum})
        self.assertEqual(self.daraja.with_context(lang="en_US").name, DARAJA_NAME)
        self.assertEqual(daraja_2.with_context(lang="en_US").name, "M-Pesa Eldoret")
        self.assertEqual(self._checksum(self.clickpesa), self._logo_checksum())
        self.assertEqual(self._checksum(clickpesa_2), own_checksum)
        # run again: nothing changes
        self._migrate(old_images={old_checksum})
        self.assertEqual(self.daraja.with_context(lang="en_US").name, DARAJA_NAME)
        self.assertEqual(self._checksum(clickpesa_2), own_checksum)

    def test_the_former_picture_is_known(self):
        """The checksums the upgrade looks for are the former picture's, as shipped and as
        stored: not the new logo's (which would be replaced by itself every upgrade)."""
        migration = self._migrate()
        self.assertEqual(len(migration.OLD_CLICKPESA_IMAGES), 2)
        self.assertNotIn(self._logo_checksum(), migration.OLD_CLICKPESA_IMAGES)
