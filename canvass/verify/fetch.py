"""Fetching a file of a bundle over HTTP(S), in bounded time as well as bounded size.

A timeout on each read is no bound on the whole: a server that sends one byte every
fifty-nine seconds never trips a sixty-second timeout, and can hold the verifier for
years. Every connection here carries a deadline that grows with what has arrived: the
status line, the headers and the body must come within
:data:`~canvass.guard.limits.FETCH_SECONDS` plus one second for every
:data:`~canvass.guard.limits.FETCH_RATE` bytes received. A server slower than that is
named; both are overridable, like every limit, for a slow link. Looking up the server's
name is bounded by the same :data:`~canvass.guard.limits.FETCH_SECONDS` (the system's
resolver takes no deadline from its caller, so the lookup runs in a thread of its own,
left to end by itself when it is too slow). The connection and the TLS handshake are
bounded by the socket's own timeout (CPython's handshake timeout is for the handshake as a
whole).
"""

from __future__ import annotations

import http.client
import io
import socket
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from canvass.guard import limits

PER_READ_SECONDS = 60.0
"""The longest a single read waits for the server (less once the deadline is nearer)."""
_CHUNK = 1 << 20


class TooSlow(TimeoutError):
    """The server sent too little in too long. (An ``OSError``, so that ``urllib`` passes
    it on as the reason of its ``URLError`` while the headers are read.)"""

    def __init__(self, received: int) -> None:
        super().__init__(f"too slow after {received:,} bytes")
        self.received = received


class _Deadline:
    def __init__(self) -> None:
        self.start = time.monotonic()
        self.seconds = limits.value(limits.FETCH_SECONDS)
        self.rate = limits.value(limits.FETCH_RATE)
        self.received = 0

    def remaining(self) -> float:
        allowed = self.seconds + self.received / self.rate
        return allowed - (time.monotonic() - self.start)


class _TimedReader(io.RawIOBase):
    """The socket's bytes, each read waiting no longer than the deadline allows. (Read
    through the socket's own raw file, which keeps the socket open after ``urllib`` closes
    its connection, as ``http.client`` expects.)"""

    def __init__(self, sock: socket.socket, deadline: _Deadline) -> None:
        self._sock = sock
        self._raw = sock.makefile("rb", buffering=0)
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        remaining = self._deadline.remaining()
        if remaining <= 0:
            raise TooSlow(self._deadline.received)
        self._sock.settimeout(min(PER_READ_SECONDS, remaining))
        try:
            n = self._raw.readinto(buffer) or 0
        except TimeoutError:
            if self._deadline.remaining() <= 0:
                raise TooSlow(self._deadline.received) from None
            raise
        self._deadline.received += n
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


class _TimedSocket:
    """A connected socket whose reading ``http.client`` does through :class:`_TimedReader`
    (it reads a response only through ``makefile``)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._deadline = _Deadline()

    def makefile(self, mode: str = "r", *args: Any, **kwargs: Any) -> io.BufferedReader:
        return io.BufferedReader(_TimedReader(self._sock, self._deadline))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _lookup(host: str, port: int) -> list[tuple[Any, ...]]:
    """The server's addresses, found within :data:`~canvass.guard.limits.FETCH_SECONDS`."""
    seconds = limits.value(limits.FETCH_SECONDS)
    found: list[list[tuple[Any, ...]] | OSError] = []
    done = threading.Event()

    def look_up() -> None:
        try:
            found.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as e:
            found.append(e)
        except (UnicodeError, ValueError) as e:  # a name no resolver takes
            found.append(OSError(f"{host!r:.80}: not a name to look up ({e})"))
        done.set()

    threading.Thread(target=look_up, name="canvass-lookup", daemon=True).start()
    done.wait(seconds)
    if not found:
        raise OSError(f"looking up {host} took more than {seconds:,} seconds")
    if isinstance(found[0], OSError):
        raise found[0]
    return found[0]


def _connect(
    address: tuple[str, int], timeout: Any = None, source_address: Any = None
) -> socket.socket:
    """``socket.create_connection``, its name lookup bounded (see :func:`_lookup`)."""
    host, port = address
    error: OSError | None = None
    for family, kind, protocol, _, where in _lookup(host, port):
        sock = socket.socket(family, kind, protocol)
        try:
            if isinstance(timeout, int | float):
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(where)
            return sock
        except OSError as e:
            sock.close()
            error = e
    raise error or OSError(f"{host}: no address to connect to")


class _HTTPConnection(http.client.HTTPConnection):
    def connect(self) -> None:
        self._create_connection = _connect
        super().connect()
        self.sock = _TimedSocket(self.sock)


class _HTTPSConnection(http.client.HTTPSConnection):
    def connect(self) -> None:
        self._create_connection = _connect
        super().connect()
        self.sock = _TimedSocket(self.sock)


class _HTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_HTTPConnection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_HTTPSConnection, req)


_OPENER = urllib.request.build_opener(_HTTPHandler, _HTTPSHandler)


def fetch(url: str, allowed: int) -> bytes:
    """The body at ``url``, or no more than ``allowed + 1`` bytes of it (the caller names a
    file past its limit). Raises :class:`TooSlow`, ``urllib``'s errors, or ``OSError``."""
    try:
        response = _OPENER.open(url, timeout=PER_READ_SECONDS)
    except urllib.error.URLError as e:
        if isinstance(e.reason, TooSlow):
            raise e.reason from None
        raise
    with response:
        data = bytearray()
        while len(data) <= allowed:
            chunk = response.read(min(_CHUNK, allowed + 1 - len(data)))
            if not chunk:
                # http.client ends a read short, without a word, when the connection
                # closes before the Content-Length it announced.
                if response.length:
                    raise http.client.IncompleteRead(bytes(data), response.length)
                break
            data += chunk
        return bytes(data)
