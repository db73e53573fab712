"""JSON and XML documents read so that no bytes can crash or exhaust the reader.

- JSON is parsed by ``msgspec``; a document nested deeper than the limit
  (:data:`~canvass.guard.limits.NESTING`) is refused, as is text holding a lone UTF-16
  surrogate (``"\\ud800"``: valid JSON, but no character, and it cannot be stored) and a
  whole number beyond 64 bits. Typed reading (:func:`typed`) then checks every field's type
  with ``msgspec`` Structs and names the first one that is wrong by its path.
- XML is parsed by ``lxml`` with entities left unexpanded, no DTD loaded and no network,
  its depth checked against the same limit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, TypeVar

import msgspec
from lxml import etree

from canvass.errors import CanvassError, IngestError
from canvass.guard import limits

T = TypeVar("T")

_INT64 = 2**63
_SURROGATE = re.compile("[\ud800-\udfff]")
_TYPE_WORDS = {
    "int": "a whole number",
    "str": "text",
    "array": "a list",
    "object": "an object",
    "bool": "true or false",
    "null": "nothing",
    "float": "a number",
}


def json_value(data: bytes, name: str, error: type[CanvassError] = IngestError) -> Any:
    """Parse JSON bytes into plain values (dicts, lists, text, numbers), checked by
    :func:`check_tree`."""
    try:
        doc = msgspec.json.decode(data)
    except msgspec.DecodeError as e:
        raise error(f"{name}: expected JSON; {one_line(_decode_problem(e))}") from None
    except RecursionError:
        raise error(too_deep(name, "document")) from None
    check_tree(doc, name, error)
    return doc


def typed(doc: Any, kind: type[T], name: str, error: type[CanvassError] = IngestError) -> T:
    """Plain values (from :func:`json_value` or an XML document turned into them) as the
    ``msgspec`` type ``kind``; a field of the wrong type is named by its path.
    Text is converted to numbers and booleans where the type wants them (XML has no
    other)."""
    try:
        return msgspec.convert(doc, kind, strict=False)
    except msgspec.ValidationError as e:
        where, problem = validation_problem(e)
        raise error(f"{name}: {where}: {problem}") from None


def validation_problem(e: msgspec.ValidationError) -> tuple[str, str]:
    """Where in the document a ``msgspec`` validation error is, and what it found, in the
    words of Canvass's messages: ``("CVR[3].BatchId", "expected text; found a number")``."""
    message, _, at = str(e).rpartition(" - at `")
    if not message:
        message, at = str(e), "$"
    where = at.rstrip("`").removeprefix("$").lstrip(".") or "document"
    if m := re.match(r"Expected `([^`]+)`(.*?), got `(\w+)`$", message):
        expected = " or ".join(_TYPE_WORDS.get(t, t) for t in m.group(1).split(" | "))
        found = _TYPE_WORDS.get(m.group(3), m.group(3))
        return where, f"expected {expected}{m.group(2)}; found {found}"
    if m := re.match(r"Object missing required field `(.+)`$", message):
        return f"{where}.{m.group(1)}".removeprefix("document."), "expected a value; found none"
    if m := re.match(r"Expected `(\w+)` (.+)$", message):
        return where, f"expected {_TYPE_WORDS.get(m.group(1), m.group(1))} {m.group(2)}"
    return where, message[:1].lower() + message[1:]


def _decode_problem(e: msgspec.DecodeError) -> str:
    message = str(e)
    return message if message[1:2].isupper() else message[:1].lower() + message[1:]


def too_deep(name: str, where: str = "document") -> str:
    """The message refusing a document nested deeper than the limit."""
    return (
        f"{name}: {where}: expected at most {limits.value(limits.NESTING):,} levels of "
        f"nesting; found more (set {limits.NESTING.variable} to raise it)"
    )


def check_tree(doc: Any, name: str, error: type[CanvassError] = IngestError) -> None:
    """Refuse plain values nested deeper than the limit, text with a lone surrogate, and
    whole numbers beyond 64 bits; the first one found is named by its path."""
    deepest = limits.value(limits.NESTING)
    stack: list[tuple[Any, int]] = [(doc, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            if depth >= deepest:
                raise error(too_deep(name))
            for key, item in value.items():
                if not key.isascii() and _SURROGATE.search(key):
                    raise error(_bad_text(name, _path_of(doc, value), key))
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            if depth >= deepest:
                raise error(too_deep(name))
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            if not value.isascii() and _SURROGATE.search(value):
                raise error(_bad_text(name, _path_of(doc, value), value))
        elif isinstance(value, int) and not -_INT64 <= value < _INT64:
            raise error(
                f"{name}: {_path_of(doc, value) or 'document'}: expected a whole number of at "
                f"most 64 bits; found one of {len(str(abs(value)))} digits"
            )


def _bad_text(name: str, where: str, text: str) -> str:
    at = _SURROGATE.search(text)
    code = ord(at.group()) if at else 0
    return (
        f"{name}: {where or 'document'}: expected text; found a lone surrogate \\u{code:04x}, "
        "which is no character"
    )


def _path_of(doc: Any, target: Any) -> str:
    """The path (``CVR[3].BatchId``) of ``target`` in ``doc``, found by identity: asked only
    once something is wrong there."""
    for path, value in _walk(doc, ""):
        if value is target:
            return path.lstrip(".")
    return ""


def _walk(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    stack = [(path, value)]
    while stack:
        path, value = stack.pop()
        yield path, value
        if isinstance(value, dict):
            stack.extend((f"{path}.{k}", v) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", v) for i, v in reversed(list(enumerate(value))))


def one_line(text: str) -> str:
    """A library's message on one line, as every message of Canvass is."""
    if "integer string conversion" in text:  # Python's own limit on reading long numbers
        return "found a number of more than 4,300 digits"
    return " ".join(text.split())


def has_surrogate(text: str) -> bool:
    return not text.isascii() and _SURROGATE.search(text) is not None


# --- XML ----------------------------------------------------------------------------------


def xml_root(
    data: bytes, name: str, what: str, huge: bool = False, error: type[CanvassError] = IngestError
) -> etree._Element:
    """Parse XML: entities are not expanded (no "billion laughs", no file read through an
    external entity), no DTD is loaded, nothing is fetched. ``huge`` lifts libxml2's own
    limits on a text node's size (a large export); the depth is still checked."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=huge
    )
    try:
        root = etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, ValueError) as e:
        # ValueError: lxml refuses some inputs outright (e.g. text declaring an encoding).
        raise error(f"{name}: expected {what} in XML; {one_line(str(e))}") from None
    if root is None:
        raise error(f"{name}: expected {what} in XML; found no element")
    deepest = limits.value(limits.NESTING)
    depth = 0
    for event, _ in etree.iterwalk(root, events=("start", "end")):
        depth += 1 if event == "start" else -1
        if depth > deepest:
            raise error(too_deep(name))
    return root
