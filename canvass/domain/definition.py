"""Read and check an election definition file (YAML or JSON).

Every problem is reported as ``FILE: PATH: expected X; found Y``, where PATH points into
the document (``contests[2].type``), so a clerk can find and fix it by hand. The checks
run in two passes: the shape of the document (types, required fields, allowed values,
via the ``msgspec`` model), then the election's own rules (unique ids, references that
resolve, a jurisdiction tree, every candidate in some contest).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from enum import StrEnum
from typing import Any

import msgspec

from canvass.domain.geometry import geometry_problems
from canvass.domain.model import (
    ContestType,
    ElectionDefinition,
    JurisdictionKind,
    VoteType,
)
from canvass.errors import DefinitionError
from canvass.guard.documents import (
    check_tree,
    error_at,
    one_line,
    refuse_repeated_keys,
    too_deep,
    yaml_value,
)
from canvass.guard.text import decode_text

_ENUMS: dict[str, type[StrEnum]] = {
    "type": ContestType,
    "kind": JurisdictionKind,
    "vote_type": VoteType,
    "vote_types": VoteType,
}
_TYPE_WORDS = {
    "int": "a whole number",
    "str": "text",
    "array": "a list",
    "object": "a mapping of fields",
    "bool": "true or false",
    "null": "nothing",
    "float": "a number",
    "date": "a date (YYYY-MM-DD)",
}


def _found(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return repr(value) if isinstance(value, str) else f"{value!r} ({type(value).__name__})"


def _lookup(doc: Any, path: str) -> Any:
    value = doc
    for key, index in re.findall(r"\.([A-Za-z_]+)|\[(\d+)\]", path):
        try:
            value = value[key] if key else value[int(index)]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def parse_document(data: bytes, name: str, accepted: bool = False) -> Any:
    """Parse the bytes of a definition file as JSON or YAML (``accepted``: bytes read and
    accepted before, see :func:`~canvass.guard.documents.yaml_value`)."""
    text = decode_text(data, name, DefinitionError)
    doc: Any
    if name.lower().endswith(".json") or text.lstrip().startswith("{"):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            raise DefinitionError(
                f"{name}: line {e.lineno}, column {e.colno}: expected valid JSON; {e.msg}"
            ) from None
        except RecursionError:
            raise DefinitionError(too_deep(name)) from None
        except ValueError as e:  # a number of more than 4,300 digits
            raise DefinitionError(f"{name}: expected valid JSON; {one_line(str(e))}") from None
        if not accepted:  # what the log recorded was checked when it was accepted
            refuse_repeated_keys(text, name, DefinitionError)
    else:
        doc = yaml_value(data, name, DefinitionError, text, accepted)
    check_tree(doc, name, DefinitionError)
    return doc


def _shape_error(name: str, doc: Any, err: msgspec.ValidationError) -> DefinitionError:
    message, path = error_at(err)
    if m := re.match(r"Object missing required field `(\w+)`", message):
        field = m.group(1)
        full = f"{path}.{field}" if path else field
        return DefinitionError(f"{name}: {full}: expected a value; found the field missing")
    if m := re.match(r"Object contains unknown field `(.+)`$", message):
        full = f"{path}.{m.group(1)}" if path else m.group(1)
        return DefinitionError(f"{name}: {full}: expected a known field; found an unknown one")
    if path.startswith("a key of "):
        mapping = _lookup(doc, "." + path.removeprefix("a key of ").replace("the document", ""))
        keys = [k for k in mapping if not isinstance(k, str)] if isinstance(mapping, dict) else []
        found = _found(keys[0]) if keys else "a key of another kind"
        return DefinitionError(f"{name}: {path}: expected text; found {found}")
    value = _lookup(doc, "." + path)
    if message.startswith(("Invalid enum value", "Invalid value")):
        enum = _ENUMS.get(re.sub(r"\[\d+\]$", "", path).rpartition(".")[2])
        allowed = ", ".join(e.value for e in enum) if enum else "an allowed value"
        if path.endswith("geometry.type"):
            allowed = "Polygon, MultiPolygon"
        return DefinitionError(f"{name}: {path}: expected one of {allowed}; found {_found(value)}")
    if m := re.match(r"Expected `(\w+)(?: \| null)?`(.*)", message):  # optional or not
        expected = _TYPE_WORDS.get(m.group(1), m.group(1)) + m.group(2).split(", got")[0]
        expected = expected.replace(" matching regex", " matching")
        return DefinitionError(f"{name}: {path}: expected {expected}; found {_found(value)}")
    if "date" in message:
        return DefinitionError(
            f"{name}: {path}: expected a date (YYYY-MM-DD); found {_found(value)}"
        )
    return DefinitionError(f"{name}: {path or 'document'}: {message}")


def load_definition(data: bytes, name: str, accepted: bool = False) -> ElectionDefinition:
    """Parse and check a definition file's bytes; ``name`` is used in messages."""
    doc = parse_document(data, name, accepted)
    if not isinstance(doc, dict):
        raise DefinitionError(
            f"{name}: document: expected a mapping of fields; found {_found(doc)}"
        )
    try:
        definition = msgspec.convert(doc, ElectionDefinition)
    except msgspec.ValidationError as e:
        raise _shape_error(name, doc, e) from None
    _Rules(name, definition).check()
    return definition


class _Rules:
    """The election's own rules, checked after the document has the right shape."""

    def __init__(self, name: str, definition: ElectionDefinition) -> None:
        self.name = name
        self.d = definition
        self.parties: set[str] = set()

    def fail(self, path: str, expected: str, found: str) -> DefinitionError:
        return DefinitionError(f"{self.name}: {path}: expected {expected}; found {found}")

    def unique(self, items: Iterable[tuple[str, str]], what: str) -> set[str]:
        first: dict[str, str] = {}
        for path, ident in items:
            if ident in first:
                raise self.fail(
                    path, f"a {what} id not used before", f"{ident!r}, already at {first[ident]}"
                )
            first[ident] = path
        return set(first)

    def known(self, path: str, ident: str | None, ids: set[str], what: str) -> None:
        if ident is None or ident in ids:
            return
        near = difflib.get_close_matches(ident, sorted(ids), n=3)
        hint = f" (nearest: {', '.join(repr(n) for n in near)})" if near else ""
        raise self.fail(path, f"the id of a {what}", f"{ident!r}, which is not one{hint}")

    def check(self) -> None:
        d = self.d
        jur_items = [(f"jurisdictions[{i}].id", j.id) for i, j in enumerate(d.jurisdictions)]
        portion_items = [
            (f"jurisdictions[{i}].portions[{k}].id", p.id)
            for i, j in enumerate(d.jurisdictions)
            for k, p in enumerate(j.portions)
        ]
        places = self.unique(jur_items + portion_items, "jurisdiction or precinct portion")
        jurisdictions = {j.id: j for j in d.jurisdictions}
        parties = self.parties = self.unique(
            ((f"parties[{i}].id", p.id) for i, p in enumerate(d.parties)), "party"
        )
        candidates = self.unique(
            ((f"candidates[{i}].id", c.id) for i, c in enumerate(d.candidates)), "candidate"
        )
        contests = self.unique(
            ((f"contests[{i}].id", c.id) for i, c in enumerate(d.contests)), "contest"
        )
        self.unique(
            ((f"ballot_styles[{i}].id", b.id) for i, b in enumerate(d.ballot_styles)),
            "ballot style",
        )
        groups = self.unique(
            ((f"counting_groups[{i}].id", g.id) for i, g in enumerate(d.counting_groups)),
            "counting group",
        )
        self.unique(
            ((f"tabulators[{i}].id", t.id) for i, t in enumerate(d.tabulators)), "tabulator"
        )
        self.check_tree(jurisdictions)
        for i, j in enumerate(d.jurisdictions):
            for at, expected, found in geometry_problems(j.geometry) if j.geometry else ():
                raise self.fail(f"jurisdictions[{i}].geometry.{at}", expected, found)
        counties = {j.id for j in d.jurisdictions if j.kind == JurisdictionKind.COUNTY}
        precincts = {j.id for j in d.jurisdictions if j.kind == JurisdictionKind.PRECINCT}
        precincts |= {p.id for j in d.jurisdictions for p in j.portions}
        for i, c in enumerate(d.candidates):
            self.known(f"candidates[{i}].party", c.party, parties, "party")
        for i, g in enumerate(d.counting_groups):
            self.known(f"counting_groups[{i}].county", g.county, counties, "county")
        for i, t in enumerate(d.tabulators):
            self.known(f"tabulators[{i}].county", t.county, counties, "county")
            self.known(
                f"tabulators[{i}].counting_group", t.counting_group, groups, "counting group"
            )
        used: set[str] = set()
        for i, contest in enumerate(d.contests):
            self.check_contest(i, contest, places, candidates, used)
        for i, c in enumerate(d.candidates):
            if c.id not in used:
                raise self.fail(
                    f"candidates[{i}]",
                    "every candidate to be in a contest",
                    f"{c.id!r} in none",
                )
        for i, b in enumerate(d.ballot_styles):
            for k, p in enumerate(b.precincts):
                self.known(
                    f"ballot_styles[{i}].precincts[{k}]",
                    p,
                    precincts,
                    "precinct or precinct portion",
                )
            for k, c_id in enumerate(b.contests):
                self.known(f"ballot_styles[{i}].contests[{k}]", c_id, contests, "contest")

    def check_tree(self, jurisdictions: dict[str, Any]) -> None:
        roots = [j for j in self.d.jurisdictions if j.parent is None]
        if len(roots) != 1:
            raise self.fail(
                "jurisdictions",
                "exactly one jurisdiction without a parent (the state)",
                f"{len(roots)}: {', '.join(repr(r.id) for r in roots) or 'none'}",
            )
        ids = set(jurisdictions)
        for i, j in enumerate(self.d.jurisdictions):
            self.known(f"jurisdictions[{i}].parent", j.parent, ids, "jurisdiction")
            seen, at = {j.id}, j
            while at.parent is not None:
                at = jurisdictions[at.parent]
                if at.id in seen:
                    raise self.fail(
                        f"jurisdictions[{i}].parent",
                        "a tree of jurisdictions",
                        f"a cycle through {at.id!r}",
                    )
                seen.add(at.id)
            if j.portions and j.kind != JurisdictionKind.PRECINCT:
                raise self.fail(
                    f"jurisdictions[{i}].portions",
                    "portions only on precincts",
                    f"portions on a {j.kind.value}",
                )

    def check_contest(
        self, i: int, c: Any, places: set[str], candidates: set[str], used: set[str]
    ) -> None:
        at = f"contests[{i}]"
        self.known(f"{at}.jurisdiction", c.jurisdiction, places, "jurisdiction")
        self.known(f"{at}.primary_party", c.primary_party, self.parties, "party")
        for k, cand in enumerate(c.candidates):
            self.known(f"{at}.candidates[{k}]", cand, candidates, "candidate")
            if cand in c.candidates[:k]:
                raise self.fail(
                    f"{at}.candidates[{k}]", "each candidate once", f"{cand!r} a second time"
                )
        used.update(c.candidates)
        if c.type in (ContestType.CANDIDATE, ContestType.RANKED_CHOICE):
            lines = len(c.candidates) + c.write_ins
            if not c.candidates:
                raise self.fail(
                    f"{at}.candidates", f"candidates for a {c.type.value} contest", "none"
                )
            if c.type == ContestType.CANDIDATE and c.votes_allowed > lines:
                raise self.fail(
                    f"{at}.votes_allowed",
                    f"at most {lines}, the number of candidates and write-in lines",
                    str(c.votes_allowed),
                )
            if c.seats > len(c.candidates):
                raise self.fail(f"{at}.seats", f"at most {len(c.candidates)} seats", str(c.seats))
        if c.type == ContestType.RANKED_CHOICE and c.ranks is None:
            raise self.fail(
                f"{at}.ranks",
                "the number of rankings a ranked-choice ballot has",
                "the field missing",
            )
        if c.type != ContestType.RANKED_CHOICE and c.rules is not None:
            raise self.fail(
                f"{at}.rules",
                "rules only on ranked-choice contests",
                f"rules on a {c.type.value} contest",
            )
        if (
            c.rules is not None
            and c.rules.tiebreak_mode
            in (
                "random",
                "previousRoundCountsThenRandom",
                "generatePermutation",
            )
            and c.rules.random_seed is None
        ):
            raise self.fail(
                f"{at}.rules.random_seed",
                f"a seed for tiebreak_mode {c.rules.tiebreak_mode}",
                "none",
            )
        if c.type != ContestType.RANKED_CHOICE and c.ranks is not None:
            raise self.fail(
                f"{at}.ranks",
                "ranks only on ranked-choice contests",
                f"ranks on a {c.type.value} contest",
            )
        if c.type in (ContestType.MEASURE, ContestType.RETENTION):
            if c.candidates:
                raise self.fail(
                    f"{at}.candidates", f"no candidates on a {c.type.value}", f"{len(c.candidates)}"
                )
            if c.choices and len(c.choices) < 2:
                raise self.fail(f"{at}.choices", "at least two choices", str(len(c.choices)))
            self.unique(
                ((f"{at}.choices[{k}].id", o.id) for k, o in enumerate(c.choices)), "choice"
            )
        if c.type == ContestType.RETENTION:
            if c.candidate is None:
                raise self.fail(
                    f"{at}.candidate", "the official whose retention is asked", "the field missing"
                )
            self.known(f"{at}.candidate", c.candidate, candidates, "candidate")
            used.add(c.candidate)
        elif c.candidate is not None:
            raise self.fail(
                f"{at}.candidate",
                "a candidate field only on retention contests",
                f"one on a {c.type.value} contest",
            )
