"""Devices are named by type ("Android phone (Samsung)", "iPhone"), not shown by MAC address:
name the devices registered before, from the user agent stored with them, else "Device" and
the end of their MAC address (isp.device._isp_fill_names)."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["isp.device"].with_context(active_test=False).search(
        ["|", ("name", "=", False), ("name", "=", "")]
    )._isp_fill_names()
