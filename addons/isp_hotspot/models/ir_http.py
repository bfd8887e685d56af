from werkzeug.exceptions import abort

from odoo import models
from odoo.http import request


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _pre_dispatch(cls, rule, args):
        """Override of base to refuse an API body past the route's cap with a JSON 413."""
        # before Odoo parses it: a form post would get werkzeug's HTML 413 from the form parser
        super()._pre_dispatch(rule, args)
        routing = rule.endpoint.routing
        if not routing.get("isp_api"):
            return
        httprequest = request.httprequest
        limit = routing.get("max_content_length")
        if limit and (httprequest.content_length or 0) > limit:
            abort(
                request.make_json_response(
                    {
                        "error": {
                            "code": "too_large",
                            "message": request.env._("The request body is too large."),
                        }
                    },
                    status=413,
                    headers=[("Cache-Control", "no-store")],
                )
            )
