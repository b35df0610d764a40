"""Fixtures of the browser tests (tests/helpers/browser.py has the phone they drive)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server


@pytest.fixture
def live_url(app, settings) -> Iterator[str]:  # type: ignore[no-untyped-def]
    if settings.database_url.startswith("postgresql"):
        pytest.skip("the browser flow runs once, on the embedded defaults")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    from tests.helpers.browser import CHROMIUM

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-background-networking",
                  "--disable-component-update"],
        )
        yield chromium
        chromium.close()
