"""Hostile requests to the officials' application: whatever the body, the path or the
uploaded file, the answer is one line naming what was wrong (400 or 422), never a server
error, a traceback or a server path.

Each case was a 500 (or worse) before: JSON nested past any parser's stack, numbers past
64 bits in a page's path reaching the database, YAML that expands or nests without end in
the electors' field, a poll book whose counts are written in other scripts' digits or whose
lines end the old Macintosh way."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from canvass.guard import limits
from tests.officials import make_office
from tests.test_web_errors import PEOPLE, Checked

HEADER = (
    "county,precinct,vote_type,checkins,absentee_received,absentee_accepted,absentee_rejected,"
    "provisional_issued,provisional_accepted,ballots_issued,ballots_spoiled,ballots_unused"
)
ROW = "wayne,wayne-avcb-1,absentee,0,10,9,1,0,0,0,0,0"


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Checked]:
    people = [*PEOPLE, ("secretary", "Secretary of State", "state-official", "")]
    made = Checked(make_office(tmp_path_factory.mktemp("hostile"), people))
    yield made
    made.office.close()


def api_json(checked: Checked, username: str, path: str, body: bytes) -> object:
    c, csrf = checked.client(username)
    return c.post(
        path, headers={"X-CSRF-Token": csrf, "content-type": "application/json"}, content=body
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "levels of nesting; found more"),
        (b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "levels of nesting; found more"),
        (
            b'{"username": "\\ud800"}',
            "found a lone surrogate \\ud800 (byte 15), which is no character",
        ),
        (b'{"username": ' + b"9" * 30 + b"}", "expected a whole number of at most 64 bits"),
        (b'{"username": "\xff"}', "expected JSON"),
        (b"[1, 2]", "the request body is not a JSON object"),
    ],
)
def test_json_bodies(checked: Checked, body: bytes, expected: str) -> None:
    response = api_json(checked, "admin", "/api/accounts", body)
    message = checked.check(repr(body[:20]), response, 400)
    assert message.startswith("the request body") and expected in message, message
    assert "\n" not in message


@pytest.mark.parametrize(
    "path",
    [
        f"/log/{2**63}",
        f"/log/{2**64}",
        f"/audits/a/rounds/{2**63}/retrieval",
        f"/audits/a/rounds/{2**63}/retrieval.pdf",
        f"/api/boards/county:wayne/motions/{2**63}/statement?choice=yes",
        "/log/-1",
    ],
)
def test_numbers_in_a_path_past_64_bits(checked: Checked, path: str) -> None:
    admin, _ = checked.client("monica.palmer" if "/boards/" in path else "admin")
    for prefix in ("", "/api") if path.startswith("/log") else ("",):
        response = admin.get(prefix + path)
        message = checked.check(prefix + path, response, 422)
        assert message.startswith("the request is not one this page takes (path "), message


def test_a_key_request_past_64_bits(checked: Checked) -> None:
    response = api_json(checked, "admin", f"/api/keys/{2**63}/approve", b"{}")
    message = checked.check("approve", response, 422)
    assert "request_id" in message and "less than or equal to 9223372036854775807" in message


def test_a_log_page_starting_anywhere(checked: Checked) -> None:
    admin, _ = checked.client("admin")
    for start in (2**63, 2**70, -(2**70)):
        response = admin.get(f"/api/log?start={start}")
        assert response.status_code == 200, response.text
        assert response.json()["start"] in (0, response.json()["size"])


ELECTORS = [
    (b"a: &a [x]\nb: *a\n", "electors: line 2, column 4: expected valid YAML; aliases (*name)"),
    (b"[" * 10_000, "levels of nesting; found more"),
    (b"- " * 200 + b"x", "levels of nesting; found more"),
    (b"biden: [a]\nbiden: [b]\n", "the key 'biden' is given twice in one mapping"),
    (b"? [a, b]: c\n", "a key must be text, a number or true/false"),
    (b"biden: !!python/object:os.system x", "expected valid YAML; could not determine"),
    (b"biden: " + b"9" * 5000, "a number of more than 4,300 digits"),
    (b"biden: 5\n", "electors: biden: expected a list of elector names"),
    (b"biden: [[a]]\n", "electors: biden: expected a list of elector names"),
    (b"just text", "electors: expected candidate ids, each with a list of elector names"),
    (b'biden: ["\\ud800"]', "expected text; found a lone surrogate \\ud800"),
]


@pytest.mark.parametrize(("yaml", "expected"), ELECTORS)
def test_electors_yaml(checked: Checked, yaml: bytes, expected: str) -> None:
    c, csrf = checked.client("secretary")
    response = c.post(
        "/api/state/ascertainment/prepare",
        headers={"X-CSRF-Token": csrf},
        data={"electors": yaml.decode(), "contest": "president"},
    )
    message = checked.check(repr(yaml[:20]), response, 400)
    assert expected in message, message


def test_electors_yaml_past_its_size_limit(
    checked: Checked, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(limits.YAML_BYTES.variable, "1000")
    c, csrf = checked.client("secretary")
    response = c.post(
        "/api/state/ascertainment/prepare",
        headers={"X-CSRF-Token": csrf},
        data={"electors": "biden: [" + "a, " * 400 + "]", "contest": "president"},
    )
    message = checked.check("big electors", response, 400)
    assert message == (
        "electors: a YAML document of 1,209 bytes; the limit is 1,000 (set "
        "CANVASS_MAX_YAML_BYTES to raise it)"
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            (HEADER + "\n" + ROW.replace(",9,", ",\u0663,")).encode(),
            "pb.csv row 2, column 'absentee_accepted': expected a whole number from 0 to "
            "1,000,000,000,000; found '\u0663'",
        ),
        (
            (HEADER + "\n" + ROW.replace(",9,", ",\u00b2,")).encode(),
            "column 'absentee_accepted': expected a whole number from 0 to",
        ),
        (
            (HEADER + "\n" + ROW.replace(",9,", ",99999999999999999999999,")).encode(),
            "found '99999999999999999999999'",
        ),
        (b"\xff\xfe" + HEADER.encode("utf-16-le"), "pb.csv: expected UTF-8 text; found a UTF-16"),
        (HEADER.encode() + b"\n" + ROW.encode() + b"\xff\n", "pb.csv line 2: expected UTF-8"),
        ((HEADER + "\r" + ROW + "\r").encode(), ""),
        (
            (HEADER + "\n" + ROW + "x" * 131_073 + "\n").encode(),
            "pb.csv line 2: expected CSV; found a field longer than 131,072 characters",
        ),
        ((HEADER + "\n" + ROW + "\x00\n").encode(), "pb.csv row 2, column 'ballots_unused'"),
    ],
)
def test_poll_book_uploads(checked: Checked, body: bytes, expected: str) -> None:
    clerk, csrf = checked.client("clerk.wayne")
    response = clerk.post(
        "/api/counties/wayne/pollbooks",
        headers={"X-CSRF-Token": csrf},
        files=[("pollbook", ("pb.csv", body, "text/csv"))],
    )
    if not expected:  # old Macintosh line ends read like any other
        assert response.status_code == 200, response.text
        return
    message = checked.check(repr(body[-20:]), response, 400)
    assert expected in message, message


@pytest.mark.parametrize(
    "path", ["/certificates/%00", "/certificates/a%00b", "/certificates/%ff%00", "/certificates/AB"]
)
def test_a_certificate_named_by_no_sha256(checked: Checked, path: str) -> None:
    """A NUL in the name reached the file system's lookup (ValueError: a 500)."""
    admin, _ = checked.client("admin")
    for prefix, suffix in (("", ""), ("/api", ""), ("", ".pdf")):
        response = admin.get(prefix + path + suffix)
        message = checked.check(prefix + path + suffix, response, 422)
        assert message.startswith("the request is not one this page takes (path sha: "), message


def test_an_upload_whose_name_is_longer_than_a_file_system_takes(checked: Checked) -> None:
    """A name of 300 characters could not be written to the upload folder (a 500)."""
    clerk, csrf = checked.client("clerk.wayne")
    name = "a" * 300 + ".csv"
    response = clerk.post(
        "/api/counties/wayne/imports",
        headers={"X-CSRF-Token": csrf},
        data={"format": "generic-csv"},
        files=[("files", (name, b"card\n", "text/csv"))],
    )
    message = checked.check("a long name", response, 400)
    assert message == "a" * 196 + ".csv: the export holds no ballot cards"


def test_a_json_body_past_its_limit(checked: Checked, monkeypatch: pytest.MonkeyPatch) -> None:
    """A JSON body was read whole into memory, however large."""
    from canvass.web import access

    monkeypatch.setattr(access, "MAX_JSON_BYTES", 1000)
    body = b'{"username": "' + b"a" * 2000 + b'"}'
    response = api_json(checked, "admin", "/api/accounts", body)
    assert checked.check("a large body", response, 413) == (
        "the request body: expected JSON of at most 1,000 bytes; found more; send files as uploads"
    )
