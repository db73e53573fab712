"""Debian's Chromium, driven by Playwright, for the officials' application's browser tests.

They skip, saying why, where Chromium or Playwright is absent; with
CANVASS_REQUIRE_BROWSER=1 (set by .ci/run, which installs Chromium) they fail instead.
Pages come from http://127.0.0.1: WebCrypto needs a secure context.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("CANVASS_CHROMIUM", "/usr/bin/chromium"))
NEEDS_BROWSER = "[browser]"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}


def browser_absent() -> str | None:
    """Why browser tests cannot run here, or None when they can."""
    if not CHROMIUM.is_file():
        return (
            f"{NEEDS_BROWSER} {CHROMIUM} is absent: browser tests need Debian's chromium "
            "(apt-get install -y chromium)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return f"{NEEDS_BROWSER} playwright is not installed: run make install"
    return None


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    why = browser_absent()
    if why:
        if os.environ.get("CANVASS_REQUIRE_BROWSER") == "1":
            pytest.fail(f"CANVASS_REQUIRE_BROWSER=1, but {why}")
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical accessibility violations on the page, in words."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page).response
    return [
        f"{page.url}: {v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(n["target"][0] if n["target"] else "?" for n in v["nodes"][:3])
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
