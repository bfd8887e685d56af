"""Downloads of the NAS form: the FreeRADIUS configuration and the RouterOS lines.

Both hold secrets (NAS shared secrets, the database role's password): system administrators
only, and only the NAS of the companies they belong to (isp.radius.nas checks both). Anyone
else gets a 404, as if the route did not exist. Never cached."""

from werkzeug.exceptions import NotFound

from odoo import http
from odoo.exceptions import AccessError, UserError
from odoo.http import request


class IspRadiusDownloads(http.Controller):
    def _private(self, data, filename, mimetype):
        return request.make_response(
            data,
            headers=[
                ("Content-Type", mimetype),
                ("Content-Disposition", http.content_disposition(filename)),
                ("Cache-Control", "no-store"),
                ("X-Content-Type-Options", "nosniff"),
            ],
        )

    def _refused(self, error):
        return request.make_response(
            str(error.args[0] if error.args else error),
            headers=[("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store")],
            status=409,
        )

    @http.route("/isp_radius/freeradius.zip", type="http", auth="user", methods=["GET"])
    def freeradius_config(self):
        if not request.env.user.has_group("base.group_system"):
            raise NotFound()
        try:
            data, filename = request.env["isp.radius.nas"]._freeradius_archive()
        except AccessError as exc:
            raise NotFound() from exc
        except UserError as exc:
            return self._refused(exc)
        return self._private(data, filename, "application/zip")

    @http.route(
        "/isp_radius/nas/<int:nas_id>/routeros.rsc", type="http", auth="user", methods=["GET"]
    )
    def routeros_lines(self, nas_id):
        if not request.env.user.has_group("base.group_system"):
            raise NotFound()
        nas = request.env["isp.radius.nas"]._visible_nas().filtered(lambda n: n.id == nas_id)
        if not nas:
            raise NotFound()
        try:
            script = nas._routeros_script()
        except UserError as exc:
            return self._refused(exc)
        return self._private(script.encode(), f"radius-{nas.id}.rsc", "text/plain; charset=utf-8")
