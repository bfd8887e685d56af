"""The operator's website shows the operator, not Odoo's sample texts: its /my and its captive
page carry none of the footer's "We are a team of passionate people...", "Useful Links",
info@yourcompany.example.com or +1 555-555-5556, but the company's name, address, phone and
email. Other websites keep Odoo's footer (Odoo's own website tests see it unchanged)."""

from odoo.tests import new_test_user, tagged

from .common import HotspotCase

SAMPLE_PHRASES = (
    "We are a team of passionate people",
    "info@yourcompany.example.com",
    "+1 555-555-5556",
    "Useful Links",
    "disruptive products",
    "Your Company",
    "YourCompany",
)
# "Copyright © <name>", as Odoo's layout renders it
COPYRIGHT = r"Copyright\s*(©|&copy;|&amp;copy;)\s*(<span[^>]*>)?\s*"


@tagged("post_install", "-at_install")
class TestOperatorWebsite(HotspotCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.website = cls.env["website"].get_current_website()
        cls.company.write(
            {
                "name": "Mwanga Wi-Fi",
                "phone": "+255 754 000 222",
                "email": "care@mwanga-wifi.example.com",
                "street": "Uhuru Street 12",
                "city": "Arusha",
            }
        )
        cls.user = new_test_user(
            cls.env,
            login="mwanga_portal",
            password="mwanga_portal-pass",
            groups="base.group_portal",
            partner_id=cls.amina.id,
            company_id=cls.company.id,
        )
        # another website, of another company, on another host name (localhost)
        cls.other_company = cls.env["res.company"].create({"name": "Other Operator"})
        cls.other = cls.env["website"].create(
            {
                "name": "Other site",
                "company_id": cls.other_company.id,
                "domain": f"http://localhost:{cls.http_port()}",
            }
        )

    def assertNoSample(self, html, page):
        for phrase in SAMPLE_PHRASES:
            self.assertNotIn(phrase, html, f"{phrase!r} on {page}")
        self.assertNotRegex(html, COPYRIGHT + "Company name", page)

    def _settings_button(self):
        settings = self.env["res.config.settings"].with_company(self.company).create({})
        return settings.action_isp_use_operator_texts()

    def test_operator_footer_on_its_website_only(self):
        # before: Odoo's sample footer, as on any website
        before = self.url_open("/web/login").text
        self.assertIn("Useful Links", before)
        self.assertRegex(before, COPYRIGHT + "Company name")
        action = self._settings_button()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn(self.website.name, action["params"]["message"])

        self.authenticate("mwanga_portal", "mwanga_portal-pass")
        # (Odoo's /my/account has neither header nor footer)
        self.assertNoSample(self.url_open("/my/account").text, "/my/account")
        for path in ("/my", "/my/subscriptions", "/my/invoices", "/web/login"):
            with self.subTest(path=path):
                response = self.url_open(path)
                self.assertEqual(response.status_code, 200)
                html = response.text
                self.assertNoSample(html, path)
                self.assertIn("Mwanga Wi-Fi", html)
                self.assertIn("+255 754 000 222", html)
                self.assertIn('href="tel:+255754000222"', html)
                self.assertIn("care@mwanga-wifi.example.com", html)
                self.assertIn("Uhuru Street 12", html)
                self.assertRegex(html, COPYRIGHT + "Mwanga Wi-Fi")
        # the captive page (a document of its own, no website footer)
        html = self.url_open("/hotspot").text
        self.assertNoSample(html, "/hotspot")
        self.assertIn("Mwanga Wi-Fi", html)
        # the footer reads the company at each rendering: a new phone number shows at once
        self.company.phone = "+255 754 000 333"
        self.assertIn("+255 754 000 333", self.url_open("/my").text)

        # the other website and Odoo's own footer are unchanged
        other = self.url_open(f"http://localhost:{self.http_port()}/web/login").text
        self.assertIn("Useful Links", other)
        self.assertRegex(other, COPYRIGHT + "Company name")
        self.assertNotIn("Mwanga Wi-Fi", other)
        footer = self.env.ref("website.footer_custom")
        self.assertFalse(footer.website_id)
        self.assertIn("We are a team of passionate people", footer.arch_db)
        specific = self.env["ir.ui.view"].search(
            [("key", "=", footer.key), ("website_id", "!=", False)]
        )
        self.assertEqual(specific.website_id, self.website)

    def test_footer_written_in_the_editor_is_kept(self):
        footer = self.env.ref("website.footer_custom")
        own = (
            '<data><xpath expr="//div[@id=\'footer\']" position="replace">'
            '<div id="footer"><p>Karibu! Our own footer</p></div></xpath></data>'
        )
        footer.with_context(website_id=self.website.id).write({"arch_db": own})
        action = self._settings_button()
        # the header's sample phone is replaced, the footer the operator wrote is kept
        self.assertEqual(action["params"]["type"], "success")
        html = self.url_open("/web/login").text
        self.assertIn("Karibu! Our own footer", html)
        self.assertNotIn("+1 555-555-5556", html)
        self.assertIn("+255 754 000 222", html)
        # nothing left to replace: said so
        action = self._settings_button()
        self.assertEqual(action["params"]["type"], "warning")
        # twice is once: the operator's footer is not written again
        self.env["ir.ui.view"].search(
            [("key", "=", footer.key), ("website_id", "=", self.website.id)]
        ).unlink()
        self.assertTrue(self.website._isp_use_operator_texts())
        self.assertFalse(self.website._isp_use_operator_texts())
        self.assertEqual(
            self.env["ir.ui.view"].search_count(
                [("key", "=", footer.key), ("website_id", "=", self.website.id)]
            ),
            1,
        )
