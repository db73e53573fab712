"""The verifier reading a bundle over HTTP cannot be held for ever by a server that sends
a byte at a time, or nothing (canvass/verify/fetch.py). The servers here are threads on
this machine's loopback; none of them ever finishes, so what is asserted does not depend
on how fast the machine is."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable, Iterator

import pytest
from typer.testing import CliRunner

from canvass.cli import app
from canvass.errors import VerificationError
from canvass.verify.source import Web

Serve = Callable[[socket.socket, threading.Event], None]


def _read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return
        data += chunk


def _trickle(conn: socket.socket, stop: threading.Event, head: bytes, drip: bytes) -> None:
    conn.sendall(head)
    while not stop.wait(0.05):
        conn.sendall(drip)


def body_trickle(conn: socket.socket, stop: threading.Event) -> None:
    _trickle(conn, stop, b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n{", b" ")


def header_trickle(conn: socket.socket, stop: threading.Event) -> None:
    _trickle(conn, stop, b"HTTP/1.1 200 OK\r\nX-Slow: ", b"a")


def silent(conn: socket.socket, stop: threading.Event) -> None:
    stop.wait()


@pytest.fixture
def slow_server(request: pytest.FixtureRequest) -> Iterator[Callable[[Serve], str]]:
    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)  # so that the thread sees the test end
    threads: list[threading.Thread] = []

    def start(serve: Serve) -> str:
        def run() -> None:
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    return
                with conn:
                    try:
                        _read_request(conn)
                        serve(conn, stop)
                    except OSError:  # the verifier hung up
                        pass

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        threads.append(thread)
        return f"http://127.0.0.1:{listener.getsockname()[1]}/bundle/"

    yield start
    stop.set()
    listener.close()
    for thread in threads:
        thread.join(timeout=5)


@pytest.fixture(autouse=True)
def impatient(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANVASS_MAX_FETCH_SECONDS", "1")
    monkeypatch.setenv("CANVASS_MIN_FETCH_RATE", "1000")


TOO_SLOW = re.compile(
    r"(?P<url>\S+): the server is too slow: expected the file within 1 seconds and one more "
    r"for every 1,000 bytes; found [\d,]+ bytes had come when the time was up \(set "
    r"CANVASS_MAX_FETCH_SECONDS or CANVASS_MIN_FETCH_RATE to allow a slower server\)"
)


@pytest.mark.parametrize("serve", [body_trickle, header_trickle, silent])
def test_a_server_sending_a_byte_at_a_time_is_named(
    slow_server: Callable[[Serve], str], serve: Serve
) -> None:
    url = slow_server(serve)
    with pytest.raises(VerificationError) as e:
        Web(url).read("manifest.json")
    m = TOO_SLOW.fullmatch(str(e.value))
    assert m, str(e.value)
    assert m["url"] == url + "manifest.json"


def test_canvass_verify_from_a_trickling_server_ends_in_one_line(
    slow_server: Callable[[Serve], str],
) -> None:
    url = slow_server(body_trickle)
    result = CliRunner().invoke(app, ["verify", url, "--no-trust-store"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert TOO_SLOW.fullmatch(lines[0].removeprefix("error: "))


def test_a_server_that_answers_garbage_is_named(slow_server: Callable[[Serve], str]) -> None:
    def garbage(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(b"\x00\xffnot http at all\r\n\r\n")

    url = slow_server(garbage)
    with pytest.raises(VerificationError) as e:
        Web(url).read("manifest.json")
    assert str(e.value).startswith(f"{url}manifest.json: cannot fetch (")


def test_a_file_cut_short_of_its_content_length_is_named(
    slow_server: Callable[[Serve], str],
) -> None:
    def short(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")

    url = slow_server(short)
    with pytest.raises(VerificationError) as e:
        Web(url).read("manifest.json")
    assert str(e.value) == (
        f"{url}manifest.json: cannot fetch (IncompleteRead(3 bytes read, 7 more expected))"
    )


def test_a_name_lookup_that_never_ends_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    # The system's resolver takes no deadline: here it never answers (until the test ends).
    release = threading.Event()
    looked_up = socket.getaddrinfo

    def stuck(host: str, *args: object, **kwargs: object) -> object:
        if host == "stuck.example":
            release.wait()
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return looked_up(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", stuck)
    try:
        with pytest.raises(VerificationError) as e:
            Web("http://stuck.example/bundle/").read("manifest.json")
    finally:
        release.set()
    assert str(e.value) == (
        "http://stuck.example/bundle/manifest.json: cannot fetch (<urlopen error looking up "
        "stuck.example took more than 1 seconds>)"
    )


@pytest.mark.parametrize("host", ["a..b", "a" * 300])
def test_a_name_no_resolver_takes_is_named(host: str) -> None:
    result = CliRunner().invoke(app, ["verify", f"http://{host}/b/", "--no-trust-store"])
    assert result.exit_code == 1
    assert result.output.startswith(f"error: http://{host}/b/manifest.json: cannot fetch (")
    assert "not a name to look up" in result.output
    assert len(result.output.splitlines()) == 1
