"""Mutations of real files: the damage a file can come to, and the damage a hostile one is
built with.

Each mutation is ``(kind, number)``: the number seeds where and how it strikes, so a case is
a short list of such pairs and reads back the same bytes forever. Byte-level kinds damage
any file; the structural ones (JSON values, XML nesting, CSV lines, zip members) reach past
the first parser to the code that reads fields.
"""

from __future__ import annotations

import io
import json
import random
import re
import struct
import warnings
import zipfile
from typing import Any

BYTE_KINDS = (
    "flip",
    "set_byte",
    "truncate",
    "delete_line",
    "duplicate_line",
    "swap_lines",
    "nul",
    "bad_utf8",
    "utf16_bom",
    "cr_line_ends",
    "huge_number",
    "negative_number",
    "zero_number",
    "long_text",
    "splice_digits",
)
JSON_KINDS = (
    "retype_json",
    "delete_key",
    "duplicate_key",
    "deep_json",
    "surrogate",
    "huge_json_number",
    "empty_container",
)
XML_KINDS = ("deep_xml", "entity_bomb", "external_entity", "drop_element", "retype_xml_text")
ZIP_KINDS = ("zip_member", "zip_lie_size", "zip_claim_members", "zip_bomb", "zip_garble_header")
KINDS = BYTE_KINDS + JSON_KINDS + XML_KINDS + ZIP_KINDS

_NUMBER = re.compile(rb"-?\d+(?:\.\d+)?")
_HUGE = (
    b"18446744073709551616",
    b"9223372036854775808",
    b"99999999999999999999999999999999999999",
    b"1e400",
    b"2147483648",
    b"32768",
    b"128",
    b"65536",
)
_XML_TEXT = re.compile(rb">([^<>]{1,80})<")


def mutate(data: bytes, kind: str, number: int) -> bytes:
    """``data`` after one mutation of ``kind``; a kind that does not apply (a JSON
    mutation of a CSV file) falls back to a byte-level one."""
    rng = random.Random(number)
    if kind in ZIP_KINDS:
        if data[:2] == b"PK":
            return _zip(data, kind, rng)
        kind = rng.choice(BYTE_KINDS)
    if kind in JSON_KINDS:
        mutated = _json(data, kind, rng)
        if mutated is not None:
            return mutated
        kind = rng.choice(BYTE_KINDS)
    if kind in XML_KINDS:
        mutated = _xml(data, kind, rng)
        if mutated is not None:
            return mutated
        kind = rng.choice(BYTE_KINDS)
    return _bytes(data, kind, rng)


def _bytes(data: bytes, kind: str, rng: random.Random) -> bytes:
    n = len(data)
    at = rng.randrange(n) if n else 0
    lines = data.split(b"\n")
    line = rng.randrange(len(lines))
    if kind == "flip":
        if not n:
            return b"\xff"
        out = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(n)
            out[i] ^= 1 << rng.randrange(8)
        return bytes(out)
    if kind == "set_byte":
        byte = rng.choice(b'"{}[],:<>/\\\x00\xff\n\r;&=|>-0 ')
        return data[:at] + bytes([byte]) + data[at + 1 :]
    if kind == "truncate":
        return data[:at]
    if kind == "delete_line":
        del lines[line]
        return b"\n".join(lines)
    if kind == "duplicate_line":
        lines.insert(line, lines[line])
        return b"\n".join(lines)
    if kind == "swap_lines":
        other = rng.randrange(len(lines))
        lines[line], lines[other] = lines[other], lines[line]
        return b"\n".join(lines)
    if kind == "nul":
        return data[:at] + b"\x00" * rng.randint(1, 4) + data[at:]
    if kind == "bad_utf8":
        return (
            data[:at] + rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf8\x88\x80"]) + data[at:]
        )
    if kind == "utf16_bom":
        if rng.random() < 0.5:
            return b"\xff\xfe" + data
        return b"\xff\xfe" + data.decode("utf-8", "replace").encode("utf-16-le")
    if kind == "cr_line_ends":
        return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r")
    if kind in ("huge_number", "negative_number", "zero_number", "splice_digits"):
        numbers = list(_NUMBER.finditer(data))
        if not numbers:
            return data + b"1" * 30
        m = rng.choice(numbers)
        if kind == "huge_number":
            new = rng.choice(_HUGE)
        elif kind == "negative_number":
            new = b"-" + m.group().lstrip(b"-")
        elif kind == "zero_number":
            new = b"0"
        else:
            new = m.group() * rng.randint(2, 400)
        return data[: m.start()] + new + data[m.end() :]
    if kind == "long_text":
        return data[:at] + b"x" * rng.choice([1000, 200_000, 2_000_000]) + data[at:]
    raise ValueError(kind)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:50]):
            found += _paths(v, (*path, i))
    return found


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        value = value[p]
    return value


def _json(data: bytes, kind: str, rng: random.Random) -> bytes | None:
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return None
    paths = _paths(doc)
    path = rng.choice(paths)
    parent_path, key = (path[:-1], path[-1]) if path else ((), None)
    replacement: Any
    if kind == "retype_json":
        replacement = rng.choice(
            [None, True, 0, -1, 1.5, "", "text", [], {}, [1, 2], {"a": 1}, 2**64, "\u00e9"]
        )
    elif kind == "huge_json_number":
        replacement = rng.choice([2**63, 2**64, -(2**63) - 1, 10**40, 32768, 128, 2**31])
    elif kind == "empty_container":
        replacement = rng.choice([[], {}, ""])
    elif kind == "deep_json":
        depth = rng.choice([120, 1000, 100_000])
        text = json.dumps(doc) if key is None else None
        if text is not None:
            return b"[" * depth + text.encode() + b"]" * depth
        marker = "\u0000DEEP\u0000"
        _set(doc, parent_path, key, marker)
        out = json.dumps(doc).encode()
        return out.replace(json.dumps(marker).encode(), b"[" * depth + b"1" + b"]" * depth)
    elif kind == "surrogate":
        strings = [
            p for p in paths if isinstance(_get(doc, p), str) or (p and isinstance(p[-1], str))
        ]
        if not strings:
            return None
        path = rng.choice(strings)
        value = _get(doc, path)
        marker = "\u0000SURROGATE\u0000"
        if isinstance(value, str):
            if not path:
                return b'"\\ud800"'
            _set(doc, path[:-1], path[-1], marker)
        else:  # a key
            parent = _get(doc, path[:-1])
            parent[marker] = parent.pop(path[-1])
        return json.dumps(doc).encode().replace(json.dumps(marker).encode(), b'"\\ud800x"')
    elif kind == "delete_key":
        if key is None:
            return None
        parent = _get(doc, parent_path)
        del parent[key]
        return json.dumps(doc).encode()
    elif kind == "duplicate_key":
        objects = [p for p in paths if isinstance(_get(doc, p), dict) and _get(doc, p)]
        if not objects:
            return None
        target = rng.choice(objects)
        value = _get(doc, target)
        first = next(iter(value))
        text = json.dumps(value)[1:-1]
        dup = f"{json.dumps(first)}: {json.dumps(rng.choice([None, 'x', 7, []]))}, "
        marker = "\u0000DUP\u0000"
        if target:
            _set(doc, target[:-1], target[-1], marker)
            return (
                json.dumps(doc)
                .encode()
                .replace(json.dumps(marker).encode(), ("{" + dup + text + "}").encode())
            )
        return ("{" + dup + text + "}").encode()
    else:
        return None
    if key is None:
        return json.dumps(replacement).encode()
    _set(doc, parent_path, key, replacement)
    return json.dumps(doc).encode()


def _set(doc: Any, parent_path: tuple[Any, ...], key: Any, value: Any) -> None:
    _get(doc, parent_path)[key] = value


def _xml(data: bytes, kind: str, rng: random.Random) -> bytes | None:
    start = data.find(b"<", data.find(b"?>") + 1 if data.startswith(b"<?xml") else 0)
    if start < 0 or b">" not in data:
        return None
    if kind == "deep_xml":
        close = data.rfind(b"</")
        if close < 0:
            return None
        depth = rng.choice([300, 5000])
        return data[:close] + b"<a>" * depth + b"</a>" * depth + data[close:]
    if kind == "entity_bomb":
        entities = '<!ENTITY a0 "lol">' + "".join(
            f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
        )
        body = data[start:]
        first_text = _XML_TEXT.search(body)
        if first_text:
            body = body[: first_text.start(1)] + b"&a9;" + body[first_text.end(1) :]
        return f"<!DOCTYPE r [{entities}]>".encode() + body
    if kind == "external_entity":
        body = data[start:]
        first_text = _XML_TEXT.search(body)
        if first_text:
            body = body[: first_text.start(1)] + b"&x;" + body[first_text.end(1) :]
        return b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + body
    if kind == "drop_element":
        tags = list(re.finditer(rb"<([A-Za-z][\w:.-]*)[^>]*>.*?</\1>", data, re.S))
        if not tags:
            return None
        m = rng.choice(tags)
        return data[: m.start()] + data[m.end() :]
    if kind == "retype_xml_text":
        texts = list(_XML_TEXT.finditer(data))
        if not texts:
            return None
        m = rng.choice(texts)
        new = rng.choice(
            [b"", b"-1", b"99999999999999999999999", b"yes", b"\xff", b"&#xD800;", b"1e9"]
        )
        return data[: m.start(1)] + new + data[m.end(1) :]
    return None


def _zip(data: bytes, kind: str, rng: random.Random) -> bytes:
    try:
        source = zipfile.ZipFile(io.BytesIO(data))
        members = [(i, source.read(i)) for i in source.infolist()]
    except Exception:
        return _bytes(data, rng.choice(BYTE_KINDS), rng)
    if kind == "zip_member" and members:
        k = rng.randrange(len(members))
        info, content = members[k]
        inner = rng.choice(KINDS[: len(BYTE_KINDS) + len(JSON_KINDS) + len(XML_KINDS)])
        members[k] = (info, mutate(content, inner, rng.randrange(2**31)))
        return _write(members)
    if kind == "zip_bomb":
        out = io.BytesIO()
        with warnings.catch_warnings(), zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            warnings.simplefilter("ignore")
            for info, content in members:
                z.writestr(info.filename, content)
            target = rng.choice([m[0].filename for m in members] or ["CvrExport.json"])
            name = target if rng.random() < 0.5 else target + ".bomb.json"
            with z.open(name, "w", force_zip64=True) as f:
                chunk = (
                    b"\x00" * (1 << 20)
                    if rng.random() < 0.5
                    else b'{"Sessions":[' + b" " * (1 << 20)
                )
                for _ in range(300):
                    f.write(chunk)
        return out.getvalue()
    if kind == "zip_lie_size":
        out = bytearray(_write(members))
        for m in re.finditer(rb"PK\x01\x02", out):  # central directory: uncompressed size at +24
            if rng.random() < 0.5:
                struct.pack_into("<I", out, m.start() + 24, rng.choice([0, 1, 0xFFFFFFFE]))
        return bytes(out)
    if kind == "zip_claim_members":
        out = bytearray(_write(members))
        end = out.rfind(b"PK\x05\x06")
        if end >= 0:
            struct.pack_into("<HH", out, end + 8, 0xFFFF, 0xFFFF)
        return bytes(out)
    if kind == "zip_garble_header":
        out = bytearray(_write(members))
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(out))
            out[i] = rng.randrange(256)
        return bytes(out)
    return data


def _write(members: list[tuple[zipfile.ZipInfo, bytes]]) -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        warnings.simplefilter("ignore")
        for info, content in members:
            z.writestr(info.filename, content)
    return out.getvalue()
