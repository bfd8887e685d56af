from odoo import api, models

from .. import routeros
from ..routeros import USER_PROPS

# What the suite keeps in line on a user it imported, while the user stays as imported: the
# rest (comment, limits, server) is the router's, as Mikhmon or the operator left it.
KEPT_PROPS = ("password", "profile", "disabled")


class IspRouterReconciler(models.AbstractModel):
    """Users imported from a router (isp.router.import) carry no comment tag: they are the
    suite's all the same, by their login and the router they were imported from. While in
    their imported period (``isp.subscription._isp_import_kept``) only their password and
    disabled flag follow the subscription, on the profile they had (the first sync after an
    import changes nothing); then the suite takes them over like its own users."""

    _inherit = "isp.router.reconciler"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _user_tags(self, router, service, rows):
        """Override: the untagged users of ``rows`` imported from ``router`` are managed too,
        by their subscription (no period: the router's counters are the imported ones)."""
        tags = super()._user_tags(router, service, rows)
        untagged = {routeros.text(row.get("name")) for row in rows} - set(tags)
        if not untagged:
            return tags
        imported = (
            self.env["isp.subscription"]
            .sudo()
            .search(
                [
                    ("isp_import_router_id", "=", router.id),
                    ("company_id", "=", router.company_id.id),
                    ("service_type", "=", service),
                    ("login", "in", list(untagged)),
                ]
            )
        )
        for subscription in imported:
            tags[subscription.login] = (subscription.id, None)
        return tags

    def _apply_user(self, client, service, menu, spec, row, foreign):
        """Override: an imported user (untagged, managed) keeps its own profile, comment and
        limits while its subscription is in the imported period; afterwards it is replaced
        by the suite's (hotspot: recreated, counters at zero) or updated to it (PPPoE)."""
        if row is None or foreign or routeros.parse_user_tag(row.get("comment")):
            return super()._apply_user(client, service, menu, spec, row, foreign)
        subscription_id = routeros.parse_user_tag(spec["comment"])[0]
        subscription = self.env["isp.subscription"].sudo().browse(subscription_id)
        if subscription._isp_import_kept():
            kept = {
                "password": spec["password"],
                "profile": subscription.isp_import_profile or routeros.text(row.get("profile")),
                "disabled": False,
            }
            changes = routeros.diff(kept, row, KEPT_PROPS)
            if changes:
                client.set(menu, row[".id"], **changes)
            return "profile" in changes
        if service == "hotspot":
            client.remove(menu, row[".id"])
            client.add(menu, **self._add_values(spec))
            return not routeros.same("profile", spec["profile"], row.get("profile"))
        changes = routeros.diff(spec, row, USER_PROPS[service])
        if changes:
            client.set(menu, row[".id"], **changes)
        return "profile" in changes
