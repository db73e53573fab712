"""The officials' pages parsed as HTML: every page a landmark, a title and a heading;
every field labelled; every table with headers; every form that changes something with
its CSRF token; and the JSON twin of each page in the published OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient

from canvass.web.app import route_table
from tests.officials import Office, make_office, sign_in, wayne_export, wayne_pollbook

PAGES = [
    "/",
    "/election",
    "/counties/wayne",
    "/boards/county:wayne",
    "/state",
    "/audits",
    "/log",
    "/log/1",
    "/keys",
    "/accounts",
    "/access-log",
]


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.labels: set[str] = set()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append((tag, found))
        if tag == "label" and found.get("for"):
            self.labels.add(str(found["for"]))
        if tag == "form":
            self.forms.append({"method": found.get("method", "get"), "inputs": []})
        if tag == "input" and self.forms:
            self.forms[-1]["inputs"].append(found)

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag]


@pytest.fixture(scope="module")
def admin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Office, TestClient]]:
    where = tmp_path_factory.mktemp("pages")
    office = make_office(where)
    export = wayne_export(where, 20)
    clerk = TestClient(office.app, base_url="https://testserver")
    csrf = sign_in(clerk, office.officials["clerk.wayne"])
    files = [("files", (p.name, p.read_bytes())) for p in export.files]
    clerk.post("/counties/wayne/imports", data={"csrf": csrf, "format": "dominion"}, files=files)
    pollbook = wayne_pollbook(export, where).read_bytes()
    clerk.post(
        "/counties/wayne/pollbooks", data={"csrf": csrf}, files=[("pollbook", ("p.csv", pollbook))]
    )
    client = TestClient(office.app, base_url="https://testserver")
    sign_in(client, office.officials["admin"])
    yield office, client
    office.close()


@pytest.mark.parametrize("path", PAGES)
def test_a_page_reads_well(admin: tuple[Office, TestClient], path: str) -> None:
    _, client = admin
    response = client.get(path)
    assert response.status_code == 200, response.text[:300]
    page = Page()
    page.feed(response.text)
    assert page.named("html")[0].get("lang") == "en"
    assert page.named("main") and page.named("h1") and page.named("title")
    for field in page.named("input") + page.named("select") + page.named("textarea"):
        if field.get("type") in ("hidden", "submit"):
            continue
        assert field.get("id") in page.labels, (path, field)
    tables = response.text.count("<table")
    assert tables == response.text.count("<thead>") == response.text.count("<caption>")
    for form in page.forms:
        if form["method"] == "post":
            assert any(i.get("name") == "csrf" and i.get("value") for i in form["inputs"]), path


def test_a_county_page_shows_what_is_out_of_balance(admin: tuple[Office, TestClient]) -> None:
    _, client = admin
    data = client.get("/api/counties/wayne").json()
    assert (data["out_of_balance"], data["unexplained"]) == (4, 4)
    out = sorted(u["precinct"] for u in data["units"] if not u["balanced"])
    assert out == ["wayne-avcb-1", "wayne-avcb-2", "wayne-avcb-3", "wayne-avcb-4"]
    steps = {s["what"]: s["done"] for s in data["checklist"]}
    assert steps["Cast vote records or results imported"] is True
    assert steps["Every imbalance explained (0 of 4)"] is False
    assert steps["Board of canvassers seated"] is False


def test_every_page_has_its_json_twin_in_the_openapi_document(
    admin: tuple[Office, TestClient],
) -> None:
    _, client = admin
    published = set(client.get("/api/openapi.json").json()["paths"])
    pages = {r.path for r in route_table() if "GET" in r.methods and not r.include_in_schema}
    for path in pages:
        if path.startswith(("/sign-in", "/invitations")):
            continue  # the forms before signing in have no data of their own
        assert "/api" + path in published, path
    assert "/api/counties/{county}/explanations" in published
