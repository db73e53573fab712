"""Keys given twice in one JSON object, and names shown safely in a message.

JSON allows ``{"votes": 10, "votes": 11790}``; most readers keep the last value, some the
first, so two readers of the same bytes can read different numbers. Nothing Canvass writes
repeats a key, so a document that does is named wherever what it says must be trusted.

A file's name comes from whoever made the bundle: a name with a line break, a terminal
escape or a letter from another alphabet that looks like a Latin one could forge a line of
a report or pass for another file. :func:`shown` writes such characters as escapes; and
:func:`printable` does the same, in any text a person reads, for the characters that are
not letters, marks, digits, punctuation, symbols or spaces (line breaks, terminal escapes,
the marks that turn text right to left), leaving names in other alphabets as they are.
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner
import unicodedata
from typing import Any


class _Repeated(Exception):
    def __init__(self, key: str, at: int = -1) -> None:
        super().__init__(key)
        self.key = key
        self.at = at


def _unique(items: list[tuple[str, Any]]) -> None:
    # Nothing is kept: the document is only checked here (its values come from msgspec).
    if len(items) > 1 and len(dict(items)) != len(items):
        seen: set[str] = set()
        for key, _ in items:
            if key in seen:
                raise _Repeated(key)
            seen.add(key)


def _first_repeated(data: bytes | str) -> str | None:
    try:
        json.loads(data, object_pairs_hook=_unique)
    except _Repeated as e:
        return e.key
    except (ValueError, RecursionError):
        return None
    return None


def repeated_key(data: bytes | str) -> str | None:
    """What is wrong when a key is given twice in one object of the JSON document ``data``
    (``the key 'dem' is given twice in one object``); ``None`` when no key repeats, or when
    ``data`` is not JSON the standard library reads (the caller's own decoding names what
    is wrong with it)."""
    key = _first_repeated(data)
    return None if key is None else f"the key '{shown(key)}' is given twice in one object"


def where_repeated(data: bytes | str) -> tuple[str, str] | None:
    """Where the first key given twice in one object of ``data`` is, and what is wrong:
    ``("line 3, column 9", "expected each key once in an object; found 'dem' twice")``
    (the place is that of the object's opening brace); ``None`` when no key repeats. Only
    a document that holds one is read a second time, by the standard library's scanner
    written in Python, which can say where an object begins."""
    if _first_repeated(data) is None:
        return None
    text = data if isinstance(data, str) else data.decode("utf-8", "surrogatepass")
    try:
        _Locating().decode(text)
    except _Repeated as e:
        line = text.count("\n", 0, e.at) + 1
        column = e.at - (text.rfind("\n", 0, e.at) + 1) + 1
        return (
            f"line {line:,}, column {column:,}",
            f"expected each key once in an object; found '{shown(e.key)}' twice",
        )
    except (ValueError, RecursionError):
        pass
    return None


def _located_object(
    s_and_end: tuple[str, int],
    strict: bool,
    scan_once: Any,
    object_hook: Any,
    object_pairs_hook: Any,
    memo: Any = None,
    *rest: Any,
) -> tuple[Any, int]:
    opened = s_and_end[1] - 1

    def unique(items: list[tuple[str, Any]]) -> None:
        try:
            _unique(items)
        except _Repeated as e:
            raise _Repeated(e.key, opened) from None

    return json.decoder.JSONObject(  # type: ignore[attr-defined,no-any-return]
        s_and_end, strict, scan_once, object_hook, unique, memo, *rest
    )


class _Locating(json.JSONDecoder):
    def __init__(self) -> None:
        super().__init__()
        self.parse_object = _located_object
        self.scan_once = json.scanner.py_make_scanner(self)  # type: ignore[attr-defined]


def shown(name: str) -> str:
    """``name`` as it can safely appear in a message: printable ASCII as it is, anything
    else (control characters, other alphabets, bytes that were not UTF-8, and the
    backslash itself) escaped as ``\\n``, ``\\u0430``, ``\\udcff``, ``\\\\``."""
    if name.isascii() and name.isprintable() and "\\" not in name:
        return name
    return "".join(
        c if c.isascii() and c.isprintable() and c != "\\" else ascii(c)[1:-1] for c in name
    )


_HIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def printable(text: str) -> str:
    """``text`` as one line a person can read as it is: control and format characters
    (``\\n``, ``\\x1b``, ``\\u202e``), lone surrogates and unassigned code points
    escaped; letters of every alphabet left alone."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(ascii(c)[1:-1] if unicodedata.category(c) in _HIDDEN else c for c in text)
