"""Headless Chromium at 360x640 for the browser tests: a person's phone, measured.

Needs Debian's `chromium` (`.ci/run` installs it); a module that imports this skips without it.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not shutil.which("chromium"):
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)

from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from playwright.sync_api import Error as PlaywrightError  # noqa: E402
from playwright.sync_api import Page  # noqa: E402

VIEWPORT = {"width": 360, "height": 640}
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
        "resultTypes": ["violations"]}
# axe is loaded by the browser with each page (an init script), not sent by Python for each
# check, and only violations come back: 68 ms a check instead of 181 (the review page,
# medians of 8), some 480 checks a run.
AXE_SCRIPT = Axe().axe_script
AXE_RUN = f"axe.run({json.dumps(WCAG)}).then(found => found.violations.map(v => v.id))"
SCREENS_PER_PAGE = 2.1  # "about two phone screens" for a person page
PAGE_BUDGET = 30 * 1024  # bytes transferred per page, everything included
# `make screenshots`: where each page state is saved, at 360x640 (unset: nowhere).
SCREENSHOTS = Path(os.environ["INTAKE_SCREENSHOTS"]) if os.environ.get("INTAKE_SCREENSHOTS") else None


class Visit:
    """Drives one person's phone: records bytes per page, axe findings per page, and taps.

    A tap, as a thumb counts them: one to focus a text field (typing is not counted), one
    for a radio button, a checkbox, a button or a link, two for a drop-down (open, choose).
    """

    def __init__(self, page: Page, check_accessibility: bool, label: str = "") -> None:
        self.page = page
        self.check = check_accessibility
        self.label = label  # the screenshots' file name prefix (make screenshots)
        self.names: list[str] = []
        self.loads: list[list[Any]] = []  # requests per page load, redirects included
        self.violations: dict[str, list[str]] = {}
        self.measured: dict[str, int] = {}
        self.taps = 0
        page.on("request", self._track)
        if check_accessibility:
            page.context.add_init_script(AXE_SCRIPT)

    def _track(self, request: Any) -> None:
        if request.is_navigation_request() and request.redirected_from is None:
            self.loads.append([])
        self.loads[-1].append(request)

    def weights(self) -> dict[str, int]:
        """Bytes transferred per page (headers and encoded bodies of every request)."""
        totals: dict[str, int] = {}
        for name, requests in zip(self.names, self.loads, strict=True):
            # A photo's preview is a data: URL: nothing transferred.
            sizes = [request.sizes() for request in requests if not request.url.startswith("data:")]
            total = sum(size["responseBodySize"] + size["responseHeadersSize"] for size in sizes)
            totals[name] = max(totals.get(name, 0), total)
        return totals

    def settled(self, name: str) -> None:
        """The page has loaded: name it, then check it."""
        self.page.wait_for_load_state("load")
        self.names.append(name)
        if SCREENSHOTS and self.label:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(
                SCREENSHOTS / f"{self.label}-{len(self.names):02d}-{name}.jpg"), quality=70)
        if self.check:
            if self.page.evaluate("typeof axe === 'undefined'"):  # loaded before the Visit
                self.page.evaluate(AXE_SCRIPT)
            found = self.page.evaluate(AXE_RUN)
            if found:
                self.violations[name] = found

    def person(self, values: dict[str, Any], then: str, add_next: bool = False) -> None:
        """The person step's pages (personal details, origin, document), each answered and
        sent, each no taller than two phone screens (issue #26); `add_next`: the last page's
        "add another family member" leads on (to `then`)."""
        for page in ("person-origin", "person-document", then):
            self.fill(values)
            height = self.page.evaluate("document.documentElement.scrollHeight")
            assert height <= SCREENS_PER_PAGE * VIEWPORT["height"], (self.names[-1], height)
            if add_next and page == then:
                self.click("main form button[name=then][value=add]", then)
            else:
                self.submit(page)

    def submit(self, name: str) -> None:
        self.click("main form button[type=submit]:not(.secondary)", name, last=True)

    def click(self, selector: str, name: str | None = None, last: bool = False) -> None:
        """Tap a button, link, radio button or checkbox; `name` the page it leads to."""
        found = self.page.locator(selector)
        target = found.last if last else found.first
        if target.get_attribute("type") in ("radio", "checkbox"):
            target.check()
        else:
            uploading = bool(target.evaluate(
                "b => !!(b.form && b.form.dataset.sending && [...b.form.querySelectorAll("
                "'input[type=file]')].some(i => i.files.length))"))
            before = (len(self.loads), len(self.loads[-1]) if self.loads else 0)
            target.click()
            if uploading:
                self._sent(*before)
        self.taps += 1
        if name:
            self.settled(name)

    def _sent(self, loads_before: int, requests_before: int) -> None:
        """Files sent by the page's script (enhance.js), with a progress bar: done when the
        answer replaced the page or led to the next one (no progress bar any more). An
        answer shown in place is a page of its own, made of the script's requests."""
        for _attempt in range(20):
            try:
                self.page.wait_for_function(
                    "() => document.readyState === 'complete' && !document.querySelector('progress')")
                if len(self.loads) == loads_before:  # no page load: the answer shown in place
                    self.loads.append(self.loads[-1][requests_before:])
                    del self.loads[-2][requests_before:]
                return
            except PlaywrightError as error:  # the page went on meanwhile: ask the next one
                if "context was destroyed" not in str(error):
                    raise
        raise AssertionError("the files were never sent")

    def fill(self, values: dict[str, Any]) -> None:
        """Answer what this page asks of `values` (a person's answers span three pages)."""
        for key, value in values.items():
            if not isinstance(value, str):  # a file, or files: chosen in the file input
                if self.page.locator(f"#{key}").count():
                    self.page.locator(f"#{key}").set_input_files(value)
                    self.taps += 1
                continue
            choice = self.page.locator(f'input[type=radio][name="{key}"][value="{value}"]')
            if choice.count():
                choice.check()
                self.taps += 1
                continue
            field = self.page.locator(f"#{key}")
            if not field.count():
                continue
            if field.get_attribute("type") == "checkbox":
                field.check()
                self.taps += 1
            elif field.evaluate("e => e.tagName") == "SELECT":
                field.select_option(value)
                self.taps += 2
            else:
                field.fill(value)
                self.taps += 1


