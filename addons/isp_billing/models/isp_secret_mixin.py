"""Credentials encrypted at rest (Fernet), shared by payment providers, SMS gateways and routers.

The key comes from the ``isp_credential_key`` option of the Odoo configuration file or the
``ISP_CREDENTIAL_KEY`` environment variable: one or more Fernet keys separated by commas. The
first encrypts; all decrypt. To rotate: put the new key first and keep the old one after it,
run ``env["isp.secret.mixin"]._isp_rotate_all_secrets()`` (e.g. in ``odoo shell``), commit,
then drop the old key. A missing or malformed key is an error when a secret is used, never
at start.
"""

import logging
import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import config

_logger = logging.getLogger(__name__)

KEY_OPTION = "isp_credential_key"
KEY_ENV = "ISP_CREDENTIAL_KEY"


def _load_keys():
    raw = config.get(KEY_OPTION) or os.environ.get(KEY_ENV) or ""
    return [part.strip() for part in str(raw).split(",") if part.strip()]


class IspSecretMixin(models.AbstractModel):
    """Declare ``_isp_secret_fields = {"password": "password_encrypted"}`` and define:

    - the stored ciphertext field: ``fields.Char(copy=False, groups=...)``;
    - the clear field: ``fields.Char(compute="_compute_isp_secrets",
      inverse="_inverse_isp_secrets", groups=...)`` (not stored).

    Read the clear value in code with ``record._isp_secret("password")``.
    """

    _name = "isp.secret.mixin"
    _description = "Encrypted credentials"

    _isp_secret_fields = {}

    @api.model
    def _isp_fernet(self):
        keys = _load_keys()
        if not keys:
            raise UserError(
                self.env._(
                    "Credentials cannot be stored or read: no encryption key is configured. "
                    "Set %(option)s in the Odoo configuration file or the %(env)s environment "
                    "variable to a Fernet key (python3 -c 'from cryptography.fernet import "
                    "Fernet; print(Fernet.generate_key().decode())').",
                    option=KEY_OPTION,
                    env=KEY_ENV,
                )
            )
        try:
            return MultiFernet([Fernet(key.encode()) for key in keys])
        except (ValueError, TypeError) as exc:
            raise UserError(
                self.env._(
                    "The credential encryption key (%(option)s / %(env)s) is not a valid "
                    "Fernet key: 32 url-safe base64-encoded bytes are expected.",
                    option=KEY_OPTION,
                    env=KEY_ENV,
                )
            ) from exc

    @api.model
    def _isp_encrypt(self, clear):
        if not clear:
            return False
        return self._isp_fernet().encrypt(clear.encode()).decode()

    @api.model
    def _isp_decrypt(self, token):
        if not token:
            return False
        try:
            return self._isp_fernet().decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise UserError(
                self.env._(
                    "A stored credential cannot be decrypted with the configured key: was the "
                    "key changed without keeping the old one for rotation?"
                )
            ) from exc

    def _isp_secret(self, clear_field):
        """The clear value of ``clear_field`` for this record (for code, not for display)."""
        self.ensure_one()
        token = self.sudo()[self._isp_secret_fields[clear_field]]
        return self._isp_decrypt(token)

    @api.model_create_multi
    def create(self, vals_list):
        return super().create([self._isp_encrypt_vals(vals) for vals in vals_list])

    def write(self, vals):
        return super().write(self._isp_encrypt_vals(vals))

    def _isp_encrypt_vals(self, vals):
        """Clear values given to create/write are stored encrypted in that same write.

        Done here rather than in the inverse: the clear fields share one compute, so Odoo would
        run the inverse for all of them on a write of one, with the others read as empty.
        """
        if not any(clear in vals for clear in self._isp_secret_fields):
            return vals
        vals = dict(vals)
        for clear_field, stored_field in self._isp_secret_fields.items():
            if clear_field in vals:
                clear = vals.pop(clear_field)
                vals[stored_field] = self._isp_encrypt(clear) if clear else False
        return vals

    def _compute_isp_secrets(self):
        for clear_field, stored_field in self._isp_secret_fields.items():
            for record in self:
                token = record.sudo()[stored_field]
                if not token:
                    record[clear_field] = False
                    continue
                try:
                    record[clear_field] = record._isp_decrypt(token)
                except UserError:
                    # Shown as empty rather than breaking the form; using it says why.
                    _logger.warning(
                        "%s %s: %s cannot be decrypted with the configured key",
                        record._name,
                        record.id,
                        clear_field,
                    )
                    record[clear_field] = False

    def _inverse_isp_secrets(self):
        """Writes of the clear fields are encrypted by create/write (``_isp_encrypt_vals``);
        the inverse only makes the computed clear fields editable."""

    @api.model
    def _isp_rotate_all_secrets(self):
        """Re-encrypt every stored credential with the first configured key."""
        fernet = self._isp_fernet()
        count = 0
        for model_name in self.env.registry.descendants([self._name], "_inherit"):
            Model = self.env[model_name]
            if Model._abstract or not Model._isp_secret_fields:
                continue
            stored_fields = list(Model._isp_secret_fields.values())
            records = Model.sudo().with_context(active_test=False).search([])
            for record in records:
                vals = {
                    name: fernet.rotate(record[name].encode()).decode()
                    for name in stored_fields
                    if record[name]
                }
                if vals:
                    record.write(vals)
                    count += len(vals)
        _logger.info("Rotated %s stored credentials", count)
        return count
