"""Every page of the results site, with its JSON twin and the CSV behind it.

=================================  =====================================================
``index.html``                     the front page: status, every contest's leader or
                                   winner, counties reported and certified, the map
``counties.html``                  every county: reported, certified
``contests/<id>.html``             a contest: votes and shares, winners marked, a bar
                                   chart, by county (and a map), by vote type
``contests/<id>-rounds.html``      a ranked-choice contest round by round, with the
                                   flow of transfers
``counties/<id>.html``             a county: every contest, its reconciliation, its
                                   certificate
``certificates.html``              the certificates in words
``audits.html``                    the audits in plain language
``how-to-check.html``              what the browser checks, what ``canvass verify``
                                   checks, the keys
``check.js``, ``site.css``         the in-browser checker and the stylesheet
=================================  =====================================================

Each ``.html`` has a ``.json`` twin and a ``.csv`` beside it. :func:`render_site` is pure:
the same documents always give the same bytes, so the verifier renders the site again
and compares it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib.resources import files
from typing import Any

from canvass.publish.site.base import (
    AUDITS,
    CERTIFICATES,
    NOT_REPORTED,
    RANKED,
    RESULTS,
    File,
    Site,
)
from canvass.publish.site.check import SCRIPT, script_bytes
from canvass.publish.site.contests import contest_page
from canvass.publish.site.counties import counties_page, county_page
from canvass.publish.site.layout import when
from canvass.publish.site.maps import Area, county_map
from canvass.publish.site.model import STATE, SiteData, choice_name, lines

STYLESHEET = "site.css"
REPORTING = (("#1b6e2f", "Certified"), ("#4a77b4", "Reported"), (NOT_REPORTED, "Not yet reported"))


def front_page(site: Site) -> Iterator[File]:
    cards, contests, table = [], [], []
    for c in site.contests:
        totals = site.data.results["contests"][c.id]
        shown = lines(site.data, c, totals)
        cards.append(
            {
                "id": c.id,
                "name": c.name,
                "leaders": [line for line in shown if line.marked],
                "ballots": totals["ballots"],
                "ranked": c.id in site.data.ranked,
            }
        )
        contests.append({"contest": c.id, "name": c.name, "choices": [x.to_json() for x in shown]})
        table += [[c.id, x.id, x.name, x.votes, x.share, x.marked] for x in shown]
    shown_map = None
    if site.projected is not None:
        areas = {}
        for county in site.counties:
            fill, said = (
                REPORTING[0]
                if county in site.certified
                else REPORTING[1]
                if county in site.reported
                else REPORTING[2]
            )
            areas[county] = Area(site.names[county], fill, said.lower())
        shown_map = county_map(
            "reporting",
            "Counties: reported and certified",
            site.projected,
            areas,
            "Each county coloured by where its canvass stands.",
        )
    reported = sum(1 for c in site.counties if c in site.reported)
    doc = {
        "election": site.definition.election.id,
        "name": site.definition.election.name,
        "status": site.status.key,
        "reopened": [r["scope"] for r in site.data.reopened],
        "turnout": site.turnout(),
        "as_of": site.data.as_of,
        "counties": {
            "total": len(site.counties),
            "reported": reported,
            "certified": len(site.certified),
        },
        "contests": contests,
    }
    yield from site.page(
        "index.html",
        "Results",
        "front.html.j2",
        doc,
        (["contest", "choice", "name", "votes", "share", "marked"], table),
        [RESULTS, RANKED, CERTIFICATES],
        name=site.definition.election.name,
        status=site.status,
        reported=reported,
        counties=len(site.counties),
        certified=len(site.certified),
        state_certified=site.state_certified,
        turnout=site.turnout(),
        contests=cards,
        map=shown_map,
        legend=REPORTING if shown_map else [],
    )


def _certificate_in_words(site: Site, c: Mapping[str, Any]) -> str:
    signers = ", ".join(s["member"] for s in c.get("signatures", [])) or "no one"
    if c.get("issued") is None:
        words = (
            f"Proposed at log entry {c['proposed']} for the {c['board']} to vote on; not issued."
        )
    else:
        on = f" on {when(c['issued_at'])}" if c.get("issued_at") else ""
        words = (
            f"Issued{on} at log entry {c['issued']} after the {c['board']} passed the motion at "
            f"log entry {c['motion']}; signed by {signers}."
        )
    if c.get("rests_on"):
        counties = "; ".join(
            f"{site.names.get(county, county)}'s {sha[:12]}…"
            for county, sha in c["rests_on"].items()
        )
        words += f" It rests on the county certificates in force when it was proposed: {counties}."
    if c.get("supersedes"):
        words += f" It replaces certificate {c['supersedes'][:12]}…"
    if c.get("superseded_by"):
        words += (
            f" It was replaced by certificate {c['superseded_by'][:12]}… and is no longer in force."
        )
    elif c.get("standing") and c["standing"] != "in force":
        words += f" It is no longer in force: {c['standing']}."
    for r in site.data.reopened:
        if r["certificate"] == c["sha256"]:
            words += (
                f" A {r['kind']} opened at log entry {r['entry']} reopened it ({r['reason']}):"
                " its board is to certify again."
            )
    return words


def certificates_page(site: Site) -> Iterator[File]:
    shown = [
        {
            "sha256": c["sha256"],
            "scope_name": "State"
            if c["scope"] == STATE
            else site.names.get(c["scope"], c["scope"]),
            "kind": "state certificate" if c["scope"] == STATE else "certificate of the canvass",
            "words": _certificate_in_words(site, c),
        }
        for c in site.data.certificates
    ]
    table = [
        [
            c["sha256"],
            c["scope"],
            c["board"],
            c["status"],
            c.get("issued"),
            " ".join(s["member"] for s in c.get("signatures", [])),
            c.get("superseded_by") or "",
        ]
        for c in site.data.certificates
    ]
    header = ["sha256", "scope", "board", "status", "issued", "signers", "superseded_by"]
    yield from site.page(
        "certificates.html",
        "Certificates",
        "certificates.html.j2",
        {"certificates": list(site.data.certificates)},
        (header, table),
        [CERTIFICATES, *(f"certificates/{c['sha256']}.txt" for c in site.data.certificates)],
        certificates=shown,
    )


def _audit_in_words(site: Site, a: Mapping[str, Any]) -> str:
    contests = ", ".join(site.contest_name(c) for c in a["contests"])
    words = (
        f"A {a['method']} audit of {contests}, with a risk limit of {a['risk_limit']}%: the list "
        f"of {a['ballots']:,} ballots was fixed at log entry {a['committed']}"
    )
    if a.get("seed"):
        return (
            words + f", and the seed {a['seed']} was recorded at log entry {a['seeded']}, after it."
        )
    return words + "; the seed has not been rolled yet."


def audits_page(site: Site) -> Iterator[File]:
    shown, table = [], []
    for a in site.data.audits:
        measured = {m["round"]: m for m in a.get("measured", [])}
        rounds = []
        for n, r in enumerate(a.get("rounds", []), start=1):
            m = measured.get(n)
            if m is None:
                outcome = "not measured yet"
            else:
                risk = f"risk {float(m['p_value']):.4f}"
                outcome = (
                    f"{risk}: below the limit, the outcome stands"
                    if m["met"]
                    else f"{risk}: above the limit, more ballots to draw"
                )
            rounds.append({"number": n, "draws": r["draws"], "outcome": outcome})
            table.append(
                [a["name"], n, r["draws"], m["p_value"] if m else "", m["met"] if m else ""]
            )
        shown.append({"name": a["name"], "words": _audit_in_words(site, a), "rounds": rounds})
    counted = [
        {"name": h["name"], "words": _hand_count_in_words(site, h)} for h in site.data.hand_counts
    ]
    yield from site.page(
        "audits.html",
        "Audits",
        "audits.html.j2",
        {"audits": list(site.data.audits), "hand_counts": list(site.data.hand_counts)},
        (["audit", "round", "draws", "risk", "met"], table),
        [
            AUDITS,
            *(f"audits/{a['name']}.txt" for a in site.data.audits),
            *(f"audits/{h['name']}.txt" for h in site.data.hand_counts),
        ],
        audits=shown,
        hand_counts=counted,
    )


def _hand_count_in_words(site: Site, h: Mapping[str, Any]) -> str:
    """A full hand count beside the certificate it audits, in a sentence."""
    words = (
        f"Every ballot of {site.contest_name(h['contest'])} counted by hand, in "
        f"{h['batches']:,} batches, set beside the certificate {h['certificate'][:12]}"
    )
    margin = h.get("margin")
    if not margin:
        return words + "."
    winner = choice_name(site.data, h["contest"], margin["winner"])
    runner_up = choice_name(site.data, h["contest"], margin["runner_up"])
    return (
        words + f": {winner} over {runner_up} by {margin['certified']:,} votes as certified, "
        f"by {margin['hand']:,} by hand."
    )


def how_to_check_page(site: Site) -> Iterator[File]:
    claim = site.data.claim
    witnesses = [{"name": w.name, "vkey": w.vkey, "entry": w.entry} for w in claim.witnesses]
    doc = {
        "operator": claim.operator,
        "witnesses": witnesses,
        "log_size": claim.log_size,
        "root": claim.root.hex(),
    }
    table: list[list[Any]] = [["operator", "", claim.operator]]
    table += [["witness", w["name"], w["vkey"]] for w in witnesses]
    yield from site.page(
        "how-to-check.html",
        "How to check",
        "how.html.j2",
        doc,
        (["role", "name", "key"], table),
        ["manifest.json", "log/checkpoint"],
        operator=claim.operator,
        witnesses=witnesses,
        log_size=claim.log_size,
        root=claim.root.hex(),
    )


def render_site(data: SiteData) -> Iterator[File]:
    """Every file of the results site, by bundle path."""
    site = Site(data)
    yield from front_page(site)
    yield from counties_page(site)
    for c in site.contests:
        yield from contest_page(site, c)
    for county in site.counties:
        yield from county_page(site, county)
    yield from certificates_page(site)
    yield from audits_page(site)
    yield from how_to_check_page(site)
    yield SCRIPT, script_bytes()
    yield STYLESHEET, (files("canvass.publish") / "static" / STYLESHEET).read_bytes()
