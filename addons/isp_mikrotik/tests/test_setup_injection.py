"""What staff type (router name, API user, hotspot server, captive page URL) and the walled
garden's hosts cannot inject RouterOS commands into the set-up script or markup into the
router's login.html: values are quoted / escaped for their language, control characters and
malformed URLs are refused."""

from html.parser import HTMLParser
from unittest.mock import patch

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from ..models.isp_router_setup import IspRouter, ros_quote
from .common import MikrotikCase

ROS_PAYLOAD = 'x" ; /system reset-configuration ; :put "'
HTML_PAYLOAD = "--><script>alert(1)</script><!--"


def ros_split(line):
    """(bare text, [strings]) of a RouterOS script line: the text outside double quotes,
    and each quoted string's value with RouterOS' escapes undone. An unterminated string
    fails the test's assertion through ``None``."""
    bare, strings, current, escaped = [], [], None, False
    for char in line:
        if current is None:
            if char == '"':
                current = []
            else:
                bare.append(char)
        elif escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            strings.append("".join(current))
            current = None
        else:
            current.append(char)
    if current is not None or escaped:
        return None
    return "".join(bare), strings


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []
        self.comments = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_comment(self, data):
        self.comments.append(data)


@tagged("post_install", "-at_install")
class TestSetupInjection(MikrotikCase):
    def test_ros_quote(self):
        self.assertEqual(ros_quote('a"b\\c$d?e'), '"a\\"b\\\\c\\$d\\?e"')
        for bad in ("a\nb", "a\rb", "a\x00b", "a\x1bb"):
            with self.subTest(value=bad), self.assertRaises(ValueError):
                ros_quote(bad)

    def test_script_values_stay_inside_their_quotes(self):
        self.router.write(
            {"name": ROS_PAYLOAD, "username": ROS_PAYLOAD, "hotspot_server": ROS_PAYLOAD}
        )
        # (no payment provider's hosts: the walled garden is tested below)
        with patch.object(
            type(self.env["payment.provider"]),
            "_isp_walled_garden_hosts",
            lambda providers: [],
        ):
            script = self.router._setup_script(with_password=True)
        commands = [line for line in script.splitlines() if line and not line.startswith("#")]
        self.assertTrue(commands)
        seen = 0
        for line in commands:
            with self.subTest(line=line):
                parsed = ros_split(line)
                self.assertIsNotNone(parsed, "every string is terminated")
                bare, strings = parsed
                self.assertNotIn("reset-configuration", bare)
                self.assertNotIn(":put", bare)
                self.assertNotIn("$", bare)
                seen += strings.count(ROS_PAYLOAD)
        # the user name 3 times, the hotspot server once: each one whole, as a value
        self.assertEqual(seen, 4)
        for line in script.splitlines():
            if line.startswith("#"):
                self.assertNotIn("\n", line)

    def test_walled_garden_host_that_is_no_host_is_refused(self):
        with patch.object(
            IspRouter, "_walled_garden_hosts", lambda router: ["pay.example", ROS_PAYLOAD]
        ):
            with self.assertRaises(UserError) as caught:
                self.router._setup_script()
        self.assertIn("is not a host name", str(caught.exception))

    def test_login_html_has_no_injected_markup(self):
        self.router.write(
            {
                "name": HTML_PAYLOAD + '"<img src=x onerror=alert(2)>',
                "captive_url": "https://wifi.example.com/hotspot?a=1&b=2",
            }
        )
        page = self.router._login_html()
        parser = Tags()
        parser.feed(page)
        tags = [tag for tag, _attrs in parser.tags]
        self.assertNotIn("script", tags)
        self.assertNotIn("img", tags)
        self.assertEqual(
            set(tags),
            {"html", "head", "meta", "title", "body", "form", "input", "noscript", "button"},
        )
        self.assertEqual(len(parser.comments), 1, "the comment is not closed early")
        form = next(attrs for tag, attrs in parser.tags if tag == "form")
        self.assertEqual(form["action"], "https://wifi.example.com/hotspot?a=1&b=2")
        nas = [attrs for tag, attrs in parser.tags if tag == "input" and attrs["name"] == "nas"]
        self.assertEqual(nas[0]["value"], str(self.router.id))

    def test_control_characters_and_bad_urls_refused(self):
        for field_name, value in (
            ("name", "Tower\n/system reset-configuration"),
            ("username", "api\r\n/user add name=evil"),
            ("hotspot_server", "hs1\n:put x"),
            ("captive_url", "https://wifi.example/\n/system reset-configuration"),
            ("hotspot_address", "10.5.50.1\n"),
        ):
            with self.subTest(field=field_name), self.assertRaises(ValidationError) as caught:
                self.router.write({field_name: value})
            self.assertIn("line breaks", str(caught.exception))
        for url in (
            "javascript:alert(1)",
            'https://wifi.example/"><script>alert(1)</script>',
            "https://wifi example/hotspot",
            "ftp://wifi.example/hotspot",
        ):
            with self.subTest(url=url), self.assertRaises(ValidationError):
                self.router.write({"captive_url": url})
        # "wifi_login.lan": a host the captive page's matching would never accept, so the
        # customers of a router saved with it would be told the router is unknown
        for address in (
            "http://10.5.50.1/login",
            "evil.example/x",
            "a b",
            "javascript:x",
            "wifi_login.lan",
        ):
            with self.subTest(address=address), self.assertRaises(ValidationError):
                self.router.write({"hotspot_address": address})
        self.router.write({"hotspot_address": "login.example.net:8080"})
        self.router.write({"hotspot_address": "https://login.example.net"})
        self.router.write({"hotspot_address": "[fd00::1]:8080"})
