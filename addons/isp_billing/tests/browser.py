"""Headless Chromium for the suite's browser tests: the one console error of Debian's
packaging tolerated, and a screenshot of the page kept in artifacts/."""

import base64
import contextlib
import os
from pathlib import Path
from unittest.mock import patch

from odoo.tests.common import ChromeBrowser

# Debian's odoo-19 package leaves out mail's selfie_segmentation.js (video-call background
# blur, not free software), so every backend page logs that its content is missing. That
# console error, and only it, is not a failure of ours: it is logged as a warning instead.
PACKAGING_ERROR = "Could not get content for mail/static/lib/selfie_segmentation/"

# Screenshots as test artifacts (git-ignored); ISP_ARTIFACTS overrides.
ARTIFACTS = Path(
    os.environ.get("ISP_ARTIFACTS") or Path(__file__).resolve().parents[3] / "artifacts"
)


class ChromiumMixin:
    """For an ``HttpCase``: ``with self._chromium("name.png"): self.start_tour(...)``."""

    @contextlib.contextmanager
    def _chromium(self, screenshot=None):
        """Chromium that takes the known packaging error for a warning and keeps a
        screenshot of the page as it is at the end of the test (``screenshot``: a file name
        under artifacts/)."""
        original_console, original_stop = ChromeBrowser._handle_console, ChromeBrowser.stop
        shots = []

        def handle_console(browser, type, args=None, stackTrace=None, **kw):  # noqa: A002
            if type == "error" and args and PACKAGING_ERROR in str(args[0].get("value", "")):
                type = "warning"  # noqa: A001
            return original_console(browser, type, args, stackTrace, **kw)

        def stop(browser):
            if screenshot:
                future = browser._websocket_send("Page.captureScreenshot", with_future=True)
                if future:
                    shots.append(future.result(timeout=10)["data"])
            return original_stop(browser)

        try:
            with (
                patch.object(ChromeBrowser, "_handle_console", handle_console),
                patch.object(ChromeBrowser, "stop", stop),
            ):
                yield
        finally:
            if shots:  # also when the test failed: the page as it was then
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                (ARTIFACTS / screenshot).write_bytes(base64.b64decode(shots[0]))
        if screenshot:
            self.assertTrue(shots, "a screenshot was taken")
            self.assertGreater((ARTIFACTS / screenshot).stat().st_size, 10_000)
