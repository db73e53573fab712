"""Driving Debian's Chromium from the tests, with Playwright.

Browser tests skip, saying why, where Chromium or Playwright is absent; with
CANVASS_REQUIRE_BROWSER=1 (set by .ci/run, which installs Chromium) such a skip fails the
run. Pages are served from http://127.0.0.1: WebCrypto needs a secure context.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("CANVASS_CHROMIUM", "/usr/bin/chromium"))
NEEDS_BROWSER = "[browser]"
"""Begins the reason of every skip for want of a browser, so the run can count them."""
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STATIC = Path(__file__).resolve().parent.parent / "canvass" / "publish" / "static"


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


@contextmanager
def launched() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


class _Quiet(SimpleHTTPRequestHandler):
    extensions_map = {  # noqa: RUF012 (the base class declares it a plain dict)
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".json": "application/json",
        ".svg": "image/svg+xml",
        "": "application/octet-stream",
    }

    def send_head(self) -> Any:
        # Tests rewrite files within a second; Last-Modified has one-second steps, so a
        # revalidation could wrongly get a 304. Serve every file afresh, never cached.
        del self.headers["If-Modified-Since"]
        return super().send_head()

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serving(root: Path) -> Iterator[str]:
    """Serve ``root`` over HTTP on a free loopback port; yield its address."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def install_checker(root: Path) -> None:
    """Put the in-browser checker where pages of ``root`` load it."""
    shutil.copy(STATIC / "check.js", root / "check.js")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # One Playwright at a time in a process: a module's browser closes before the next
    # module's tests (which may start their own) run.
    why = browser_absent()
    if why:
        pytest.skip(why)
    with launched() as b:
        yield b


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser profile (its own localStorage), collecting console errors."""
    ctx = browser.new_context()
    ctx.console_errors = []  # type: ignore[attr-defined]

    def on_page(page: Any) -> None:
        page.on(
            "console",
            lambda m: ctx.console_errors.append(m.text) if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: ctx.console_errors.append(str(e)))

    ctx.on("page", on_page)
    try:
        yield ctx
    finally:
        ctx.close()


AXE = Path(__file__).resolve().parent / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on ``page``, each with the elements it
    names; axe is injected by the test, never loaded by the site."""
    if not AXE.is_file():
        pytest.skip(
            f"{NEEDS_BROWSER} axe-core is not installed at {AXE}: make test installs it "
            "with npm (npm ci in tests/a11y)"
        )
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
          .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.map((n) => n.target.join(' '))}))"""
    )
    return [v for v in found if v["impact"] in SERIOUS]


def sideways_scroll(page: Any) -> int:
    """How many pixels the page scrolls sideways (0 when it fits its width)."""
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )


NGINX = Path(os.environ.get("CANVASS_NGINX", "/usr/sbin/nginx"))
NEEDS_NGINX = "[nginx]"
"""Begins the reason of every skip for want of nginx."""
SHIPPED_NGINX = Path(__file__).resolve().parent.parent / "deploy" / "nginx-results.conf"


def nginx_config(root: Path, port: int, work: Path) -> str:
    """The shipped server block serving ``root`` on 127.0.0.1:``port``, in a main
    configuration of its own (pid, logs and temporary files in ``work``)."""
    server = SHIPPED_NGINX.read_text()
    server = re.sub(r"^\s*listen \[::\]:80;\n", "", server, flags=re.M)
    server = re.sub(r"listen 80;", f"listen 127.0.0.1:{port};", server)
    server = re.sub(r"root [^;]+;", f"root {root};", server)
    temps = "".join(
        f"{kind}_temp_path {work / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}worker_processes 1;\npid {work / 'nginx.pid'};\nerror_log {work / 'error.log'};\n"
        "events { worker_connections 1024; }\n"
        f"http {{\naccess_log off;\n{temps}{server}\n}}\n"
    )


@contextmanager
def nginx_serving(root: Path, work: Path) -> Iterator[str]:
    """Serve ``root`` with nginx and the shipped configuration; yield its address."""
    if not NGINX.is_file():
        pytest.skip(f"{NEEDS_NGINX} {NGINX} is absent: apt-get install -y nginx")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    work.mkdir(parents=True, exist_ok=True)
    conf = work / "nginx.conf"
    conf.write_text(nginx_config(root, port, work))
    base = [str(NGINX), "-p", str(work), "-e", str(work / "error.log"), "-c", str(conf)]
    subprocess.run([*base, "-t", "-q"], check=True, capture_output=True)
    server = subprocess.Popen([*base, "-g", "daemon off;"], stderr=subprocess.PIPE)
    try:
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                    break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.terminate()
        server.wait(timeout=30)
