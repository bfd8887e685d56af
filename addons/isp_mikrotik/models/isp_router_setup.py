"""Router set-up: the set-up script, its token and the hotspot's login.html."""

import hashlib
import ipaddress
import re
import secrets
from urllib.parse import urlsplit

from markupsafe import escape

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import consteq

from .. import routeros

# Control characters (newlines included) end a RouterOS command or a script line: refused in
# every value the set-up script or login.html is made of.
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
# A host name or an IPv4 / IPv6 address (walled-garden dst-host, hotspot login address).
HOST_NAME = re.compile(r"^[A-Za-z0-9_.:-]*[A-Za-z0-9][A-Za-z0-9_.:-]*$")
# A hotspot login address's host, by the captive page's rule (isp_hotspot's LOGIN_HOST): a
# host name or IPv4 address (letters, digits, dots, hyphens), or an IPv6 address.
LOGIN_HOST_NAME = re.compile(r"^(?:[0-9A-Fa-f:.]+|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)$")


def ros_quote(value):
    """``value`` as a double-quoted RouterOS script string: ``\\``, ``"``, ``$`` (variable
    substitution) and ``?`` (the terminal's help key) escaped. A control character (a
    newline would end the command and start another) raises ValueError."""
    value = str(value or "")
    if CONTROL_CHARS.search(value):
        raise ValueError("control character in a RouterOS string")
    for char in ("\\", '"', "$", "?"):
        value = value.replace(char, "\\" + char)
    return f'"{value}"'


def local_host(host):
    """Whether ``host`` names this machine only (localhost, a loopback address): a router
    cannot reach Odoo there."""
    host = (host or "").strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# The pay page of unpaid PPPoE customers: the web proxy's port their web traffic is sent to
# (only this port's requests are redirected) and the firewall address list of the hosts they
# may reach (Odoo, the payment pages).
UNPAID_PROXY_PORT = 8089
PORTAL_LIST = "isp-portal"
UNPAID_TAG = "isp-billing:unpaid"


def hash_setup_token(token):
    return hashlib.sha256(token.encode()).hexdigest()


class IspRouter(models.Model):
    _inherit = "isp.router"  # pylint: disable=consider-merging-classes-inherited

    unpaid_redirect = fields.Boolean(
        string="Pay Page for Unpaid PPPoE",
        tracking=True,
        help="Expired or suspended PPPoE customers stay connected in the restricted PPP "
        "profile isp-unpaid (instead of being disabled or removed): they reach only DNS, "
        "this Odoo and the payment pages, and every web page they open leads to the "
        "customer portal, where they can pay. Needs the set-up script run again after "
        "turning it on: the profile, its address list, the firewall rules and the web-proxy "
        "redirect are made by the script (until then the secrets are disabled as before).",
    )
    setup_warning = fields.Char(
        compute="_compute_setup_warning",
        help="Why the set-up script would not work from this Odoo (its base URL).",
    )

    @api.constrains("name", "username", "hotspot_server", "captive_url", "hotspot_address")
    def _check_script_values(self):
        """These values go into the set-up script (RouterOS) and login.html (HTML): no
        control characters (a newline would start a new RouterOS command), a captive page
        that is an http(s) URL and a login address that is a host."""
        labels = {
            "name": self.env._("The router's name"),
            "username": self.env._("The API user name"),
            "hotspot_server": self.env._("The hotspot server"),
            "captive_url": self.env._("The captive page URL"),
            "hotspot_address": self.env._("The hotspot login address"),
        }
        for router in self:
            for field_name, label in labels.items():
                if CONTROL_CHARS.search(router[field_name] or ""):
                    raise ValidationError(
                        self.env._(
                            "%(field)s cannot contain line breaks or other control characters.",
                            field=label,
                        )
                    )
            url = router.captive_url
            if url:
                parts = urlsplit(url)
                if (
                    parts.scheme not in ("http", "https")
                    or not parts.hostname
                    or not HOST_NAME.match(parts.hostname)
                    or re.search(r"[\s\"'<>\\`]", url)
                ):
                    raise ValidationError(
                        self.env._(
                            "The captive page URL must be an http:// or https:// address, "
                            "like https://wifi.example.com/hotspot."
                        )
                    )
            if router.hotspot_address and not router._parse_hotspot_address():
                raise ValidationError(
                    self.env._(
                        "The hotspot login address must be a host name or an IP address "
                        "(10.5.50.1, login.example.net:8080) or an http(s):// origin."
                    )
                )

    def _parse_hotspot_address(self):
        """The hotspot login address's host (and port), or None when malformed."""
        self.ensure_one()
        address = (self.hotspot_address or "").strip()
        if not address or not address.isprintable() or " " in address:
            return None
        try:
            parts = urlsplit(address if "://" in address else f"//{address}")
            port = parts.port
        except ValueError:
            return None
        if "://" in address and parts.scheme not in ("http", "https"):
            return None
        if parts.path.strip("/") or parts.query or parts.fragment or parts.username:
            return None
        host = parts.hostname
        if not host or not LOGIN_HOST_NAME.match(host):
            return None
        return host, port

    def _compute_setup_warning(self):
        for router in self:
            url = router.get_base_url()
            router.setup_warning = local_host(urlsplit(url).hostname) and self.env._(
                "Odoo's base URL (%(url)s) names this machine only: a router cannot fetch the "
                "login page from it, and customers cannot reach the captive page. Set "
                "web.base.url to the address routers and customers use before making the "
                "set-up script.",
                url=url,
            )

    def action_download_setup_script(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_url",
            "url": f"/isp_mikrotik/router/{self.id}/setup.rsc",
            "target": "download",
        }

    def action_download_login_page(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_url",
            "url": f"/isp_mikrotik/router/{self.id}/login.html",
            "target": "download",
        }

    def action_regenerate_setup_token(self):
        """Revoke the set-up token: the downloaded set-up scripts no longer fetch the login
        page (a new download issues a new token)."""
        # the token's hash is readable by system administrators only: the write is done as
        # superuser, so the caller's right to change the router is checked first (any user
        # can call a public method over RPC)
        self.check_access("write")
        for router in self:
            router._issue_setup_token()
        return True

    def _issue_setup_token(self):
        """A new set-up token for this router: its hash is stored, the cleartext returned
        (for the set-up script) and kept nowhere. Any earlier token stops working."""
        self.ensure_one()
        token = secrets.token_urlsafe(24)
        self.sudo().write({"setup_token_hash": hash_setup_token(token)})
        return token

    def _check_setup_token(self, token):
        """True when ``token`` is this router's latest set-up token (constant time)."""
        self.ensure_one()
        stored = self.sudo().setup_token_hash
        if not stored or not isinstance(token, str) or not token:
            return False
        return consteq(hash_setup_token(token), stored)

    def _captive_url(self):
        self.ensure_one()
        return self.captive_url or f"{self.get_base_url().rstrip('/')}/hotspot"

    def _walled_garden_hosts(self):
        """Hosts unauthenticated clients must reach: this Odoo (captive page) and the
        payment pages of every enabled payment provider of the router's company."""
        self.ensure_one()
        hosts = []
        for url in (self.get_base_url(), self._captive_url()):
            host = urlsplit(url).hostname
            if host and host not in hosts:
                hosts.append(host)
        providers = (
            self.env["payment.provider"]
            .sudo()
            .search([("state", "in", ("enabled", "test")), ("company_id", "=", self.company_id.id)])
        )
        for host in providers._isp_walled_garden_hosts():
            if host not in hosts:
                hosts.append(host)
        return hosts

    def _login_html(self):
        """The hotspot login.html: forwards the router's variables to the captive page."""
        self.ensure_one()
        fields_html = "\n".join(
            f'      <input type="hidden" name="{name}" value="$({variable})"/>'
            for name, variable in (
                ("mac", "mac"),
                ("ip", "ip"),
                ("link-login-only", "link-login-only"),
                ("link-orig", "link-orig"),
                ("chap-id", "chap-id"),
                ("chap-challenge", "chap-challenge"),
                ("error", "error"),
                ("server-name", "server-name"),
                ("identity", "identity"),
            )
        )
        # every interpolated value HTML-escaped (the name also kept from closing the comment)
        action = escape(self._captive_url())
        name = escape(self.name or "").replace("--", "- -")
        return f"""<!DOCTYPE html>
<html>
  <head>
    <meta charset="utf-8"/>
    <meta name="viewport" content="width=device-width, initial-scale=1"/>
    <title>Internet access</title>
  </head>
  <body onload="document.forms.isp.submit()">
    <!-- ISP Billing Suite: router {int(self.id)} ({name}). The router fills in $(...). -->
    <form name="isp" action="{action}" method="get">
      <input type="hidden" name="nas" value="{int(self.id)}"/>
{fields_html}
      <noscript><button type="submit">Continue</button></noscript>
    </form>
  </body>
</html>
"""

    def _setup_script(self, with_password=False):
        """A RouterOS script creating the API user and pointing the hotspot at the captive
        page. It writes only properties routeros.md documents for each menu: the API user
        and its group are found by name, walled-garden entries by the suite's comment tag,
        walled-garden/ip entries (no comment there) by their host, added only when absent.

        Every value is a quoted RouterOS string (``ros_quote``): a router name, user name,
        hotspot server or host cannot end the command it is in. Each call issues a new
        set-up token (embedded in the script's login.html URL; its hash is stored): the
        latest script made is the one whose fetch works."""
        self.ensure_one()
        router = self.sudo()
        tag = ros_quote(routeros.TAG)
        hosts = self._walled_garden_hosts()
        for host in hosts:
            if not HOST_NAME.match(host):
                raise UserError(
                    self.env._(
                        "%(host)s is not a host name: it cannot go into the walled garden.",
                        host=repr(host)[:80],
                    )
                )
        try:
            username = ros_quote(self.username)
            server = self.hotspot_server or "all"
            server_quoted = ros_quote(server)
            comment_name = ros_quote(self.name)
            password = ros_quote((router._isp_secret("password") or "") if with_password else "")
        except ValueError as exc:
            raise UserError(
                self.env._(
                    "The router's name, API user, hotspot server or password contains a line "
                    "break or another control character: correct it before making the script."
                )
            ) from exc
        service = "api-ssl" if router.use_tls else "api"
        profiles = (
            self.env._("every hotspot server (the profiles they use)")
            if server == "all"
            else self.env._("the hotspot server %(server)s", server=server_quoted)
        )
        token = self._issue_setup_token()
        login_url = ros_quote(
            f"{self.get_base_url().rstrip('/')}/isp_mikrotik/router/{int(self.id)}/login.html"
            f"?token={token}"
        )
        warning = [f"# WARNING: {line}" for line in (self.setup_warning or "").split(". ") if line]
        if warning:
            warning.append(f":log warning {ros_quote('WARNING: ' + self.setup_warning)}")
        lines = [
            *warning,
            f"# ISP Billing Suite: set-up of router {comment_name} (id {int(self.id)}).",
            "# Paste into a RouterOS terminal, or upload and /import it. Only the latest",
            "# script downloaded from Odoo can fetch the login page (each download issues a",
            "# new token).",
            "# What it changes, and nothing else:",
            f"# - the API user {username} (added, or put in the group {tag} with the password",
            f"#   given) and the group {tag} (added when missing);",
            f"# - the {service} service: enabled, on port {int(router.port)};",
            "# - the file hotspot/login.html (fetched from Odoo);",
            f"# - the profile of {profiles}: login-by=http-chap,http-pap,cookie",
            "#   html-directory=hotspot (other login methods of that profile, such as mac or",
            "#   trial, are turned off: add them back if you use them);",
            f"# - walled-garden entries with the comment {tag} (replaced) and walled-garden/ip",
            "#   entries for the same hosts (added when missing, never removed).",
            *self._unpaid_summary(),
            "",
            "# API user for Odoo (API, read and write only)",
            f":if ([:len [/user group find name={tag}]] = 0) do={{ "
            f"/user group add name={tag} policy=read,write,api,test,!ftp,!ssh,!telnet,"
            "!winbox,!web,!local,!reboot,!policy,!password,!sniff,!sensitive,!romon }",
        ]
        if password != '""':
            lines.append(
                f":if ([:len [/user find name={username}]] = 0) do={{ /user add "
                f"name={username} group={tag} password={password} "
                f"}} else={{ /user set [find name={username}] group={tag} "
                f"password={password} }}"
            )
        else:
            lines += [
                "# Replace CHANGE-ME by the password stored on the router record in Odoo.",
                f":if ([:len [/user find name={username}]] = 0) do={{ /user add "
                f'name={username} group={tag} password="CHANGE-ME" }}',
            ]
        lines += [
            f"/ip service set {service} disabled=no port={int(router.port)}",
            "",
            "# The hotspot's login page forwards customers to the captive page",
            f'/tool fetch url={login_url} dst-path="hotspot/login.html" mode=https',
        ]
        if server != "all":
            lines.append(
                f"/ip hotspot profile set [find name=[/ip hotspot get [find name={server_quoted}] "
                "profile]] login-by=http-chap,http-pap,cookie html-directory=hotspot"
            )
        else:
            # the profiles the hotspot servers use, not every profile on the router
            lines.append(
                ":foreach s in=[/ip hotspot find] do={ /ip hotspot profile set [find name=["
                "/ip hotspot get $s profile]] login-by=http-chap,http-pap,cookie "
                "html-directory=hotspot }"
            )
        lines += [
            "",
            "# Walled garden: Odoo and the payment pages, reachable before login",
            f"/ip hotspot walled-garden remove [find comment={tag}]",
        ]
        for host in hosts:
            host = ros_quote(host)
            lines += [
                f"/ip hotspot walled-garden add dst-host={host} action=allow comment={tag}",
                f":if ([:len [/ip hotspot walled-garden ip find dst-host={host}]] = 0) do={{ "
                f"/ip hotspot walled-garden ip add dst-host={host} action=accept }}",
            ]
        lines += self._unpaid_lines(hosts)
        return "\n".join(lines) + "\n"

    def _unpaid_enabled(self):
        self.ensure_one()
        return bool(self.service_pppoe and self.unpaid_redirect)

    def _unpaid_summary(self):
        """What the pay-page part of the set-up script changes, for its header."""
        if not self._unpaid_enabled():
            return []
        unpaid, tag = ros_quote(routeros.UNPAID_PROFILE), ros_quote(UNPAID_TAG)
        return [
            f"# - the PPP profile {unpaid} (added when missing; its address-list set to",
            f"#   {unpaid}): Odoo moves unpaid PPPoE customers' secrets into it;",
            f"# - firewall address-list entries of the list {ros_quote(PORTAL_LIST)} with the "
            f"comment {tag}",
            f"#   (replaced), and firewall filter and NAT rules with the comment {tag} (replaced,",
            f"#   put first): the list {unpaid} reaches DNS and those hosts only, its web pages",
            f"#   (http) go to the web proxy on port {UNPAID_PROXY_PORT};",
            f"# - the web proxy: enabled on port {UNPAID_PROXY_PORT} when it is off (when it is "
            "on, left",
            f"#   alone: add port {UNPAID_PROXY_PORT} to its ports), and its access rules with "
            f"the comment {tag}",
            "#   (replaced): they redirect to the customer portal (RouterOS 7 syntax; on",
            "#   RouterOS 6 use action=deny redirect-to=<the same URL>).",
        ]

    def _unpaid_lines(self, hosts):
        """The pay page for unpaid PPPoE customers: the restricted PPP profile, its address
        list's firewall rules (DNS and the walled-garden hosts only) and the web-proxy
        redirect of their web pages to the customer portal. RouterOS has these menus and
        properties (profile address-list, firewall, proxy), but the suite's reference does
        not: they are written here, for the operator to run, never over the API."""
        if not self._unpaid_enabled():
            return []
        unpaid = ros_quote(routeros.UNPAID_PROFILE)
        portal = ros_quote(PORTAL_LIST)
        tag = ros_quote(UNPAID_TAG)
        port = int(UNPAID_PROXY_PORT)
        pay_url = ros_quote(f"{self.get_base_url().rstrip('/')}/my/subscriptions")

        def first(menu, rule, where=" dynamic=no"):
            # put before the first static rule (dynamic ones, e.g. the hotspot's, stay first)
            return (
                f":if ([:len [{menu} find{where}]] = 0) do={{ {menu} add {rule} }} "
                f"else={{ {menu} add {rule} place-before=[:pick [{menu} find{where}] 0] }}"
            )

        filters = [  # in their final order
            f"chain=forward src-address-list={unpaid} protocol=udp dst-port=53 action=accept "
            f"comment={tag}",
            f"chain=forward src-address-list={unpaid} protocol=tcp dst-port=53 action=accept "
            f"comment={tag}",
            f"chain=forward src-address-list={unpaid} dst-address-list={portal} action=accept "
            f"comment={tag}",
            f"chain=forward src-address-list={unpaid} action=drop comment={tag}",
            f"chain=input src-address-list={unpaid} protocol=tcp dst-port={port} "
            f"action=accept comment={tag}",
        ]
        lines = [
            "",
            "# Pay page for unpaid PPPoE customers (expired or suspended): Odoo moves their",
            f"# secrets to the PPP profile {unpaid}; they reach DNS, Odoo and the payment pages",
            "# only, and every web page (http) they open leads to the customer portal.",
            f":if ([:len [/ppp profile find name={unpaid}]] = 0) do={{ "
            f"/ppp profile add name={unpaid} }}",
            f"/ppp profile set [find name={unpaid}] address-list={unpaid}",
            f"/ip firewall address-list remove [find list={portal} comment={tag}]",
        ]
        lines += [
            f"/ip firewall address-list add list={portal} address={ros_quote(host)} comment={tag}"
            for host in hosts
        ]
        lines += [
            f"/ip firewall filter remove [find comment={tag}]",
            *(first("/ip firewall filter", rule) for rule in reversed(filters)),
            f"/ip firewall nat remove [find comment={tag}]",
            first(
                "/ip firewall nat",
                f"chain=dstnat src-address-list={unpaid} dst-address-list=!{PORTAL_LIST} "
                f"protocol=tcp dst-port=80 action=redirect to-ports={port} comment={tag}",
            ),
            f":if ([/ip proxy get enabled]) do={{ :log warning "
            f'"ISP Billing: the web proxy is in use: add port {port} to its ports for the pay '
            f'page" }} else={{ /ip proxy set enabled=yes port={port} }}',
            f"/ip proxy access remove [find comment={tag}]",
            first(
                "/ip proxy access",
                f"local-port={port} action=redirect action-data={pay_url} comment={tag}",
                where="",
            ),
        ]
        return lines
