"""What a browser sees when something goes wrong: a sentence for the person, never where
the server keeps its files, never a traceback, never the database's own words.

Every error path here is driven through the application as a browser or an API client
drives it: bad uploads, ids that name nothing, requests the routes do not take, and a
database that fails under the application (a table gone, a file gone)."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.officials import Office, make_office, sign_in, wayne_export
from tests.postgres import behind_the_log

PEOPLE = [
    ("admin", "Jocelyn Benson", "state-admin", ""),
    ("clerk.wayne", "Cathy Garrett", "county-clerk", "wayne"),
    ("monica.palmer", "Monica Palmer", "board-member", "county:wayne"),
]
SHA = "ab" * 32

LEAKS = [
    (re.compile(r"Traceback|File \"[^\"]*\", line \d+"), "a traceback"),
    (re.compile(r"\.py\b|site-packages"), "a Python module"),
    (re.compile(r"sqlalche\.me|sqlite3\.|psycopg|\bSELECT\b|\bINSERT\b"), "the database's words"),
    (re.compile(r"(?<![\w.:/])/(?:tmp|home|root|usr|var|work|srv|opt|etc|proc)/"), "a server path"),
]


def leaks(body: str, roots: list[Path]) -> list[str]:
    found = [what for pattern, what in LEAKS if pattern.search(body)]
    found += [f"the path {r}" for r in roots if str(r) in body]
    return found


class Checked:
    """Clients whose every response is checked for what must not leak."""

    def __init__(self, office: Office) -> None:
        self.office = office
        self.roots = [
            office.directory,
            office.directory.resolve(),
            office.settings.upload_dir,
            Path(tempfile.gettempdir()),
        ]
        self.responses: list[tuple[str, int]] = []
        self.clients: dict[str, tuple[TestClient, str]] = {}

    def client(self, username: str) -> tuple[TestClient, str]:
        """``username`` signed in (once: each one-time code is accepted once)."""
        if username not in self.clients:
            # raise_server_exceptions=False: the client sees what a browser would, 500s too.
            c = TestClient(
                self.office.app, base_url="https://testserver", raise_server_exceptions=False
            )
            self.clients[username] = (c, sign_in(c, self.office.officials[username]))
        return self.clients[username]

    def check(self, what: str, response: Any, status: int) -> str:
        body = response.text
        assert response.status_code == status, (what, response.status_code, body[:400])
        found = leaks(body, self.roots)
        assert not found, (what, found, body[:2000])
        self.responses.append((what, response.status_code))
        if response.headers.get("content-type", "").startswith("application/json"):
            return str(response.json()["error"])
        start = body.index('class="problem">') + len('class="problem">')
        return body[start : body.index("</p>", start)]


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Checked]:
    where = tmp_path_factory.mktemp("errors")
    made = Checked(make_office(where, PEOPLE))
    yield made
    made.office.close()


def upload(c: TestClient, csrf: str, path: str, files: list[tuple[str, Any]], **data: str) -> Any:
    return c.post(path, data={"csrf": csrf, **data}, files=files)


def test_bad_uploads_say_what_is_wrong_in_the_files_own_names(checked: Checked) -> None:
    clerk, csrf = checked.client("clerk.wayne")
    admin, admin_csrf = checked.client("admin")
    cases = [
        (
            "a CVR export that is not JSON",
            clerk,
            csrf,
            "/counties/wayne/imports",
            [("files", ("CvrExport.json", b"{not json", "application/json"))],
            {"format": "dominion"},
        ),
        (
            "a file name that climbs out of its folder",
            clerk,
            csrf,
            "/counties/wayne/imports",
            [("files", ("../../../etc/CvrExport.json", b"[]", "application/json"))],
            {"format": "dominion"},
        ),
        (
            "a format that does not exist",
            clerk,
            csrf,
            "/counties/wayne/imports",
            [("files", ("cvrs.csv", b"a,b\n1,2\n", "text/csv"))],
            {"format": "no-such-format"},
        ),
        (
            "a poll book of the wrong columns",
            clerk,
            csrf,
            "/counties/wayne/pollbooks",
            [("pollbook", ("pollbook.csv", b"x,y\n1,2\n", "text/csv"))],
            {},
        ),
        (
            "a poll book that is not text",
            clerk,
            csrf,
            "/counties/wayne/pollbooks",
            [("pollbook", ("pollbook.csv", bytes(range(256)) * 4, "text/csv"))],
            {},
        ),
        (
            "a definition that is not YAML",
            admin,
            admin_csrf,
            "/election/definition",
            [("definition", ("michigan.yaml", b"election: [unclosed\n  - {", "text/yaml"))],
            {},
        ),
        (
            "a definition that defines nothing",
            admin,
            admin_csrf,
            "/election/definition",
            [("definition", ("michigan.yaml", b"just a string\n", "text/yaml"))],
            {},
        ),
    ]
    for what, c, token, path, files, data in cases:
        for prefix in ("", "/api"):
            message = checked.check(what, upload(c, token, prefix + path, files, **data), 400)
            assert message, what


def test_a_real_export_with_a_file_missing_names_the_file(checked: Checked, tmp_path: Path) -> None:
    clerk, csrf = checked.client("clerk.wayne")
    export = wayne_export(tmp_path)
    files = [
        ("files", (p.name, p.read_bytes(), "application/json"))
        for p in export.files
        if p.name != "CandidateManifest.json"
    ]
    message = checked.check(
        "an export without its candidate manifest",
        upload(clerk, csrf, "/counties/wayne/imports", files, format="dominion"),
        400,
    )
    assert "CandidateManifest.json" in message


@pytest.mark.parametrize(
    "path",
    [
        "/counties/nowhere",
        "/boards/county:nowhere",
        "/boards/nonsense",
        f"/certificates/{SHA}",
        "/certificates/not-a-sha",
        f"/certificates/{SHA}.pdf",
        "/log/999999",
        "/log/-1",
        "/log/not-a-number",
        "/audits/no-such-audit",
        "/audits/no-such-audit/entry",
        "/audits/no-such-audit/rounds/1/retrieval",
        "/audits/no-such-audit/rounds/1/retrieval.pdf",
        "/audits/no-such-audit/report.pdf",
        "/no/such/page",
        "/invitations/not-a-token",
    ],
)
def test_ids_that_name_nothing(checked: Checked, path: str) -> None:
    admin, _ = checked.client("admin")
    for prefix in ("", "/api"):
        if (prefix and path.endswith(".pdf")) or (path.startswith("/invitations") and prefix):
            continue
        response = admin.get(prefix + path)
        if response.status_code == 200:  # a board not seated yet has a page all the same
            assert not leaks(response.text, checked.roots), path
            continue
        assert response.status_code in (400, 403, 404, 422), (path, response.status_code)
        checked.check(prefix + path, response, response.status_code)


def test_actions_on_what_does_not_exist(checked: Checked) -> None:
    admin, csrf = checked.client("admin")
    clerk, clerk_csrf = checked.client("clerk.wayne")
    headers = {"X-CSRF-Token": csrf}
    for path, c, token in [
        ("/api/keys/999/approve", admin, csrf),
        ("/api/keys/not-a-number/approve", admin, csrf),
        ("/api/audits/no-such-audit/commit", admin, csrf),
        ("/api/audits/no-such-audit/rounds", admin, csrf),
        ("/api/boards/county:wayne/motions/999/votes", admin, csrf),
        ("/api/counties/wayne/explanations", clerk, clerk_csrf),
        ("/api/counties/wayne/corrections", clerk, clerk_csrf),
    ]:
        response = c.post(path, headers={"X-CSRF-Token": token}, json={})
        assert response.status_code in (400, 403, 404, 422), (path, response.status_code)
        checked.check(path, response, response.status_code)
    bad_json = admin.post(
        "/api/accounts", headers={**headers, "content-type": "application/json"}, content=b"{"
    )
    assert checked.check("a body that is not JSON", bad_json, 400) == (
        "the request body: expected JSON; input data was truncated"
    )
    wrong_method = admin.put("/api/accounts", headers=headers)
    checked.check("a method the route does not take", wrong_method, 405)


@pytest.fixture
def broken(tmp_path: Path) -> Iterator[Checked]:
    # A schema of its own on PostgreSQL: the module's office holds the one named "election".
    made = Checked(make_office(tmp_path, PEOPLE, schema="broken"))
    yield made
    made.office.close()


def test_a_database_that_fails_under_the_application(broken: Checked) -> None:
    admin, _ = broken.client("admin")
    clerk, csrf = broken.client("clerk.wayne")
    assert admin.get("/counties/wayne").status_code == 200
    # Someone drops a table the pages read (an operator's mistake, a migration gone wrong).
    behind_the_log(broken.office.directory, "DROP TABLE registered_key")
    for path in ("/keys", "/api/keys", "/log", "/state", "/counties/wayne", "/api/counties/wayne"):
        response = admin.get(path)
        if response.status_code != 200:
            message = broken.check(path, response, 500)
            assert message.startswith("the server could not do this"), message
    files = [("pollbook", ("pollbook.csv", b"county,precinct\n", "text/csv"))]
    response = upload(clerk, csrf, "/counties/wayne/pollbooks", files)
    broken.check("an upload while the database fails", response, response.status_code)
    assert any(status == 500 for _, status in broken.responses), broken.responses
