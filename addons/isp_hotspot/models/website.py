from odoo import models

# Odoo's sample texts speak for no one: the footer (website.footer_custom: "Useful Links",
# "We are a team of passionate people...", info@yourcompany.example.com, +1 555-555-5556),
# the copyright ("Copyright © Company name") and the header's contact element
# (website.header_text_element: +1 555-555-5556). On the operator's website they are replaced
# by isp_hotspot's templates, which read the operator's name, address, phone and email from
# the website's company at each rendering. {view: (arch of its website-specific copy, the
# sample texts by which a copy the operator has not edited yet is known)}
SAMPLE_PHONE = "+1 555-555-5556"
OPERATOR_ARCHS = {
    "website.footer_custom": (
        """<data>
    <xpath expr="//div[@id='footer']" position="replace">
        <div id="footer" class="oe_structure oe_structure_solo border text-break"
             t-ignore="true" t-if="not no_footer"
             style="--box-border-left-width: 0px; --box-border-right-width: 0px;">
            <t t-call="isp_hotspot.operator_footer" />
        </div>
    </xpath>
</data>""",
        ("We are a team of passionate people", "info@yourcompany.example.com", SAMPLE_PHONE),
    ),
    "website.footer_copyright_company_name": (
        """<data>
    <xpath expr="//footer//span[hasclass('o_footer_copyright_name')]" position="replace">
        <span class="o_footer_copyright_name me-2 small">Copyright &amp;copy; <span
            t-out="res_company.name" /></span>
    </xpath>
    <xpath expr="//div[hasclass('o_footer_copyright')]//div[hasclass('col-sm')]"
           position="attributes">
        <attribute name="class" remove="col-sm text-sm-start"
                   add="col-md d-flex flex-column-reverse gap-2 text-md-start" separator=" " />
    </xpath>
</data>""",
        ("Company name</span>",),
    ),
    "website.header_text_element": (
        """<data>
    <xpath expr="." position="inside">
        <t t-call="isp_hotspot.operator_header_contact" />
    </xpath>
</data>""",
        (SAMPLE_PHONE,),
    ),
}


class Website(models.Model):
    _inherit = "website"

    def _isp_use_operator_texts(self):
        """The operator's details instead of Odoo's sample footer, copyright and header
        contact on these websites.

        Website-specific copies of those views, as the website editor makes them: other
        websites keep Odoo's, and a view the operator already edited (a specific copy
        without the sample texts) is left alone. Returns the websites changed."""
        View = self.env["ir.ui.view"].with_context(active_test=False)
        changed = self.browse()
        for xmlid, (arch, samples) in OPERATOR_ARCHS.items():
            view = self.env.ref(xmlid, raise_if_not_found=False)
            if not view:
                continue
            for website in self:
                specific = View.search(
                    [("key", "=", view.key), ("website_id", "=", website.id)], limit=1
                )
                if specific and not any(p in (specific.arch_db or "") for p in samples):
                    continue
                view.with_context(website_id=website.id).write({"arch_db": arch})
                changed |= website
        return changed
