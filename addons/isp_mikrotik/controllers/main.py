from werkzeug.exceptions import NotFound

from odoo import http
from odoo.exceptions import AccessError
from odoo.http import request


class IspMikrotikController(http.Controller):
    def _manager_router(self, router_id):
        """The router, for an ISP manager who may read it (else 404)."""
        user = request.env.user
        if user._is_public() or not user.has_group("isp_billing.group_isp_manager"):
            raise NotFound()
        router = request.env["isp.router"].browse(router_id).exists()
        if not router or not router.has_access("read"):
            raise NotFound()
        return router

    @http.route(
        "/isp_mikrotik/router/<int:router_id>/setup.rsc",
        type="http",
        auth="user",
        methods=["GET"],
        # not read-only: each download issues a new set-up token (its hash is stored)
    )
    def setup_script(self, router_id, **kwargs):
        router = self._manager_router(router_id)
        # the download rotates the set-up token (a write on the router): only for those who
        # may edit this router (an ISP user only reads routers)
        try:
            router.check_access("write")
        except AccessError:
            raise NotFound() from None
        with_password = request.env.user.has_group("base.group_system")
        script = router._setup_script(with_password=with_password)
        return request.make_response(
            script,
            headers=[
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Disposition", f'attachment; filename="isp-setup-{router.id}.rsc"'),
                ("Cache-Control", "no-store"),
            ],
        )

    @http.route(
        "/isp_mikrotik/router/<int:router_id>/login.html",
        type="http",
        auth="public",
        methods=["GET"],
        readonly=True,
        sitemap=False,
        # a GET: no body is read; any body bigger than this is refused (413) unread
        max_content_length=1024,
    )
    def login_page(self, router_id, token=None, **kwargs):
        """The router's hotspot login.html: for the router itself (with its set-up token, as
        the set-up script fetches it) or for an ISP manager."""
        if token:
            router_sudo = request.env["isp.router"].sudo().browse(router_id).exists()
            if not router_sudo or not router_sudo._check_setup_token(token):
                raise NotFound()
            router = router_sudo
            disposition = "inline"
        else:
            router = self._manager_router(router_id)
            disposition = 'attachment; filename="login.html"'
        return request.make_response(
            router._login_html(),
            headers=[
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Disposition", disposition),
                ("Cache-Control", "no-store"),
            ],
        )
