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

import mmap
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
import yaml

from canvass.errors import CanvassError, IngestError
from canvass.guard import limits
from canvass.guard.text import decode_text
from canvass.guard.unique import where_repeated

if TYPE_CHECKING:
    from lxml import etree

T = TypeVar("T")
Buffer = bytes | memoryview | mmap.mmap

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


def json_value(
    data: bytes, name: str, error: type[CanvassError] = IngestError, unique: bool = False
) -> Any:
    """Parse JSON bytes into plain values (dicts, lists, text, numbers), checked by
    :func:`check_tree`. ``unique``: refuse a key given twice in one object (JSON allows it;
    readers differ on which value they keep), naming where — at about twice the cost of
    decoding, so for what is not read by the million."""
    try:
        doc = msgspec.json.decode(data)
    except msgspec.DecodeError as e:
        raise error(f"{name}: expected JSON; {decode_problem(e, data)}") from None
    except RecursionError:
        raise error(too_deep(name, "document")) from None
    check_tree(doc, name, error)
    if unique:
        refuse_repeated_keys(data, name, error)
    return doc


def refuse_repeated_keys(
    data: bytes | str, name: str, error: type[CanvassError] = IngestError
) -> None:
    """Refuse a JSON document holding a key given twice in one object, naming the key and
    where its object begins."""
    repeated = where_repeated(data)
    if repeated is not None:
        where, problem = repeated
        raise error(f"{name}: {where}: {problem}; readers differ on which value they take")


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


def error_at(e: msgspec.ValidationError) -> tuple[str, str]:
    """A ``msgspec`` validation error's message and the path it names (``contests[1].id``;
    ``""`` for the whole document). A mapping's key of the wrong type, which ``msgspec``
    places "at `key` in `$.path`", is named as "a key of path"."""
    message, _, at = str(e).rpartition(" - at `")
    if not message:
        return str(e), ""
    key, _, mapping = at.rstrip("`").rpartition("` in `")
    path = (mapping if key == "key" else at.rstrip("`")).removeprefix("$").lstrip(".")
    return message, f"a key of {path or 'the document'}" if key == "key" else path


def validation_problem(e: msgspec.ValidationError) -> tuple[str, str]:
    """Where in the document a ``msgspec`` validation error is, and what it found, in the
    words of Canvass's messages: ``("CVR[3].BatchId", "expected text; found a number")``."""
    message, path = error_at(e)
    where = path or "document"
    if m := re.match(r"Expected `([^`]+)`(.*?), got `(\w+)`$", message):
        expected = " or ".join(_TYPE_WORDS.get(t, t) for t in m.group(1).split(" | "))
        found = _TYPE_WORDS.get(m.group(3), m.group(3))
        return where, f"expected {expected}{m.group(2)}; found {found}"
    if m := re.match(r"Object missing required field `(.+)`$", message):
        return f"{where}.{m.group(1)}".removeprefix("document."), "expected a value; found none"
    if m := re.match(r"Expected `(\w+)` (.+)$", message):
        return where, f"expected {_TYPE_WORDS.get(m.group(1), m.group(1))} {m.group(2)}"
    return where, message[:1].lower() + message[1:]


def _decode_problem(e: msgspec.DecodeError, data: Buffer = b"") -> str:
    surrogate = lone_surrogate_escape(data) if data else None
    if surrogate is not None:
        code, at = surrogate
        return f"found a lone surrogate \\u{code:04x} (byte {at + 1:,}), which is no character"
    message = str(e)
    return message if message[1:2].isupper() else message[:1].lower() + message[1:]


def decode_problem(e: msgspec.DecodeError, data: Buffer) -> str:
    """What a ``msgspec`` decoding error found, in words, on one line: a lone surrogate
    escape (which ``msgspec`` refuses as "truncated" or "malformed") by name and byte."""
    return one_line(_decode_problem(e, data))


_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u([dD][89a-fA-F][0-9a-fA-F]{2})")


def lone_surrogate_escape(data: Buffer) -> tuple[int, int] | None:
    """The first ``\\uD800``-``\\uDFFF`` escape in JSON bytes that is not half of a pair,
    and where it is: asked only once decoding has failed."""
    high_at = -1
    for m in _ESCAPE.finditer(data):
        code = int(m.group(1), 16)
        start = m.start(1) - 2
        if code < 0xDC00:
            if high_at >= 0:
                return int(bytes(data[high_at + 2 : high_at + 6]), 16), high_at
            high_at = start
        elif high_at >= 0 and start == high_at + 6:
            high_at = -1
        else:
            return code, start
    if high_at >= 0:
        return int(bytes(data[high_at + 2 : high_at + 6]), 16), high_at
    return None


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
                if isinstance(key, str) and not key.isascii() and _SURROGATE.search(key):
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


# --- YAML ---------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses a key given twice in one mapping instead of keeping
    the last, a key that is a list or mapping, and aliases (``*name``): a few lines of
    aliases to aliases make a document of billions of values once expanded, and nothing
    Canvass reads as YAML has need of them."""

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed", event.start_mark
            )
        return super().compose_node(parent, index)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if isinstance(key, (list, dict)):  # YAML allows "? [a, b]: c"
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be text, a number or true/false", key_node.start_mark
            )
        if key in seen:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} is given twice in one mapping", mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
# Dates stay text: the models parse them, so JSON and YAML files behave alike.
_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

_FastLoader: Any = None
if yaml.__with_libyaml__:  # pragma: no branch - PyYAML's wheels carry libyaml

    class _FastLoader(yaml.CSafeLoader):  # type: ignore[no-redef]
        """The same loader with libyaml's scanner and parser (C; several times faster on a
        large definition), used only to read again text :class:`_Loader` has accepted
        before: libyaml accepts some text PyYAML refuses (a tab after a value, ``|#``), and
        where both accept they read the same values, except for what is never given to it:
        a ``*`` (an alias), a ``!`` (a tag: libyaml reads an empty one as text, PyYAML as
        nothing), a tab, a line break beyond ASCII or a byte-order mark. It keeps the same
        constructors and resolvers, and libyaml limits nesting itself. Any text it refuses
        is read by :class:`_Loader`, whose message is the one given."""

    _FastLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _FastLoader.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers


def yaml_value(
    data: bytes | str,
    name: str,
    error: type[CanvassError] = IngestError,
    text: str | None = None,
    accepted: bool = False,
) -> Any:
    """Parse YAML into plain values, checked by :func:`check_tree`: no more than
    :data:`~canvass.guard.limits.YAML_BYTES`, UTF-8, safe tags only, keys unique, no
    aliases. ``text``: the bytes already decoded. ``accepted``: bytes this loader has
    accepted before (a definition the log recorded), read again with libyaml when it can."""
    size = len(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    allowed = limits.value(limits.YAML_BYTES)
    if size > allowed:
        raise error(limits.exceeded(limits.YAML_BYTES, size, name, "a YAML document of"))
    if text is None:
        text = data if isinstance(data, str) else decode_text(data, name, error)
    doc = _fast_yaml(text) if accepted else _REFUSED
    if doc is not _REFUSED:
        check_tree(doc, name, error)
        return doc
    try:
        doc = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "document"
        problem = one_line(getattr(e, "problem", None) or str(e))
        raise error(f"{name}: {where}: expected valid YAML; {problem}") from None
    except RecursionError:
        raise error(too_deep(name)) from None
    except (ValueError, OverflowError) as e:  # a number of more than 4,300 digits
        raise error(f"{name}: expected valid YAML; {one_line(str(e))}") from None
    check_tree(doc, name, error)
    return doc


_REFUSED = object()
_UNICODE_BREAKS = "\x85\u2028\u2029\ufeff"
"""Line breaks beyond ASCII, and the byte-order mark: libyaml and PyYAML read them apart."""


def _fast_yaml(text: str) -> Any:
    """The document as libyaml reads it, or ``_REFUSED`` when it holds an alias or libyaml
    refuses it (then the pure-Python loader reads it and says what is wrong)."""
    if _FastLoader is None or "*" in text or "!" in text or "\t" in text:
        return _REFUSED
    if not text.isascii() and any(c in text for c in _UNICODE_BREAKS):
        return _REFUSED
    try:
        return yaml.load(text, Loader=_FastLoader)
    except (yaml.YAMLError, RecursionError, ValueError, OverflowError):
        return _REFUSED


# --- XML ----------------------------------------------------------------------------------


def xml_root(
    data: bytes, name: str, what: str, huge: bool = False, error: type[CanvassError] = IngestError
) -> etree._Element:
    """Parse XML: entities are not expanded (no "billion laughs", no file read through an
    external entity), no DTD is loaded, nothing is fetched. ``huge`` lifts libxml2's own
    limits on a text node's size (a large export); the depth is still checked."""
    from lxml import etree  # here: reading a definition or a JSON export needs none of it

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
