from odoo import models
from odoo.exceptions import AccessDenied

# the credential type of a sign-in with a code received by SMS (isp.portal.login.code)
CREDENTIAL_PHONE_CODE = "isp_phone_code"


class ResUsers(models.Model):
    _inherit = "res.users"

    def _check_credentials(self, credential, env):
        """Override of base: the credential ``{"type": "isp_phone_code", "login", "isp_code"}``
        signs a portal user in with the one-time code sent to their phone (the phone
        sign-in page, isp_sms's controller). The code is used up when right, counts a try
        when wrong. Internal users never sign in this way. The second factor (auth_totp),
        when the user has one, still applies (``mfa: default``)."""
        if credential.get("type") != CREDENTIAL_PHONE_CODE:
            return super()._check_credentials(credential, env)
        user = self.env.user
        code = credential.get("isp_code")
        if (
            not isinstance(code, str)
            or not user.share
            or not user._is_portal()
            or not self.env["isp.portal.login.code"]._verify(user, code)
        ):
            raise AccessDenied()
        return {"uid": user.id, "auth_method": CREDENTIAL_PHONE_CODE, "mfa": "default"}
