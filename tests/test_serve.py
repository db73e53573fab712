"""``canvass serve``'s server: files over kept-alive connections, many clients at once."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from canvass.web.static import BACKLOG, BundleServer, server


@pytest.fixture
def bundle(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    (tmp_path / "results").mkdir()
    (tmp_path / "index.html").write_text("<h1>Results</h1>\n")
    (tmp_path / "results" / "president.json").write_text('{"votes": 1}\n')
    (tmp_path / "log").mkdir()
    (tmp_path / "log" / "checkpoint").write_text("origin\n1\nroot\n")
    httpd = server(tmp_path, "127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield tmp_path, int(httpd.server_address[1])
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_one_connection_serves_a_page_and_its_files(bundle: tuple[Path, int]) -> None:
    root, port = bundle
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    got = []
    for path in ("/index.html", "/results/president.json", "/log/checkpoint"):
        conn.request("GET", path)
        response = conn.getresponse()
        got.append((response.status, response.getheader("Content-Type"), response.read()))
        if path == "/index.html":
            first_socket = conn.sock
        assert conn.sock is first_socket, f"the connection was closed after {path}"
    assert got[0] == (200, "text/html", (root / "index.html").read_bytes())
    assert got[1] == (200, "application/json", (root / "results/president.json").read_bytes())
    assert got[2] == (200, "text/plain; charset=utf-8", b"origin\n1\nroot\n")
    conn.request("GET", "/nowhere.json")
    assert conn.getresponse().status == 404
    conn.close()


def test_fifty_clients_at_once_are_all_served(bundle: tuple[Path, int]) -> None:
    root, port = bundle
    want = (root / "results/president.json").read_bytes()

    def client(_: int) -> list[tuple[int, bytes]]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        out = []
        for _ in range(10):
            conn.request("GET", "/results/president.json")
            response = conn.getresponse()
            out.append((response.status, response.read()))
        conn.close()
        return out

    with ThreadPoolExecutor(50) as pool:
        answers = [a for one in pool.map(client, range(50)) for a in one]
    assert answers == [(200, want)] * 500


def test_the_server_asks_the_kernel_for_a_real_backlog() -> None:
    # The standard library's default is 5; under 50 clients at once the kernel dropped
    # connections and browsers retried for up to a minute.
    assert BundleServer.request_queue_size == BACKLOG >= 1024
