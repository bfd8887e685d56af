"""Secrets carried in URLs kept out of the HTTP request log.

Odoo's HTTP server writes every request line to the ``werkzeug`` logger ("POST /path?query
HTTP/1.1" 200 -), so a secret in a URL lands in every log file and log collector of the
installation: M-Pesa's per-transaction callback token, a voucher code in a card's QR link, the
captive page's waiting-view token. A module whose routes carry one declares it at import:

- ``mask_path_secret(regex)``: the named group ``secret`` of ``regex`` matched in a request's
  path is shown as ``***``;
- ``mask_query_params(prefix, names)``: the values of the query parameters ``names`` of the
  requests whose path starts with ``prefix`` are shown as ``***``, also inside a URL-encoded
  link in another parameter (MikroTik's ``link-orig``).

Only what a log line shows changes: the request is served as it came.
"""

import logging
import re

# "<method> <target> HTTP/x" as werkzeug logs it, the target being what is masked
_REQUEST_TARGET = re.compile(r"(?<=[A-Z] )/[^\s\"]*")

_path_secrets = []  # compiled regexes with a group "secret"
_query_secrets = []  # (path prefix, compiled regex of their values, plain and URL-encoded)


def _value_pattern(names):
    names = "|".join(re.escape(name) for name in sorted(names))
    # ?voucher=VALUE, and inside a link in another parameter, where werkzeug's log shows
    # some of the link's separators decoded and others not (…hotspot?voucher%3DVALUE…)
    return re.compile(
        rf"(?P<name>(?:[?&]|%3F|%26)(?:{names})(?:=|%3D))(?:(?!%26|%23)[^&#\s\"])*",
        re.IGNORECASE,
    )


def _mask_query(match):
    return match.group("name") + "***"


def mask_target(target):
    """``target`` (a request's path and query) with the declared secrets masked."""
    for regex in _path_secrets:
        target = regex.sub(
            lambda m: m.string[m.start() : m.start("secret")]
            + "***"
            + m.string[m.end("secret") : m.end()],
            target,
        )
    for prefix, regex in _query_secrets:
        if target.startswith(prefix):
            target = regex.sub(_mask_query, target)
    return target


def mask_text(text):
    """``text`` (a log message or argument) with the request targets in it masked."""
    if "/" not in text:
        return text
    return _REQUEST_TARGET.sub(lambda m: mask_target(m.group()), text)


class RequestLogFilter(logging.Filter):
    """Masks the declared URL secrets in the records of the ``werkzeug`` logger (the request
    log and werkzeug's request errors)."""

    def filter(self, record):
        if isinstance(record.msg, str):
            record.msg = mask_text(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                mask_text(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


_FILTER = RequestLogFilter()


def _install():
    logger = logging.getLogger("werkzeug")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)


def mask_path_secret(regex):
    """Mask the group ``secret`` of ``regex`` (a string) in the request log's paths."""
    compiled = re.compile(regex)
    if "secret" not in compiled.groupindex:
        raise ValueError(f"{regex!r} has no group named 'secret'")
    if all(known.pattern != compiled.pattern for known in _path_secrets):
        _path_secrets.append(compiled)
    _install()


def mask_query_params(prefix, names):
    """Mask the values of the query parameters ``names`` of the requests under ``prefix``."""
    entry = (prefix, _value_pattern(names))
    if all((p, r.pattern) != (entry[0], entry[1].pattern) for p, r in _query_secrets):
        _query_secrets.append(entry)
    _install()
