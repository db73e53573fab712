"""Georgia's 2020 presidential hand count (Arlo's report, 41,881 batches) against the
machine count, county by county."""

from __future__ import annotations

import csv
import io

import pytest

from canvass.audit.handcount import compare, georgia_machine_counts, read_arlo_report
from canvass.errors import IngestError
from tests.conftest import shared_path

CANDIDATES = {"Donald J. Trump": "trump", "Joseph R. Biden": "biden", "Jo Jorgensen": "jorgensen"}


def test_georgia_2020_hand_count_against_the_machine_count() -> None:
    report_path = shared_path("data", "ga-2020", "rla_hand_count_audit_report_by_batch.csv")
    machine_path = shared_path("data", "ga-2020", "precinct_results_original_certification.csv")
    report = read_arlo_report(report_path.read_bytes())
    assert report.batches == 41_881
    assert report.setting("Random Seed") == "12345123451234512345"
    # Arlo's own round summary is the known answer for the sum of its batches.
    audited = report.round_votes()
    for name in CANDIDATES:
        assert sum(c[name] for c in report.hand_count.values()) == audited[name]
    assert audited["Donald J. Trump"] == 2_462_857 and audited["Joseph R. Biden"] == 2_475_141
    machine = georgia_machine_counts(machine_path.read_bytes(), CANDIDATES)
    result = compare(machine, report.hand_count, list(CANDIDATES))
    # As originally certified: Biden 2,474,507, Trump 2,461,837.
    assert result.state["Joseph R. Biden"] == (2_474_507, 2_475_141)
    assert result.state["Donald J. Trump"] == (2_461_837, 2_462_857)
    assert result.margin("Joseph R. Biden", "Donald J. Trump") == (12_670, 12_284)
    # Independently: the county with the largest difference, read straight from the files.
    rows = list(csv.reader(io.StringIO(report_path.read_text())))
    start = rows.index(next(r for r in rows if r and r[0] == "Jurisdiction Name"))
    floyd_hand = sum(int(r[3]) for r in rows[start + 1 :] if r and r[0] == "FLOYD")
    floyd_machine = sum(
        int(r["trump_all"])
        for r in csv.DictReader(io.StringIO(machine_path.read_text()))
        if r["CTYNAME"] == "FLOYD" and r["trump_all"].isdigit()
    )
    assert result.counties["FLOYD"]["Donald J. Trump"] == (floyd_machine, floyd_hand)
    text = result.text("Joseph R. Biden", "Donald J. Trump")
    assert "by 12,670 in the machine count and by 12,284 in the hand count" in text


def test_a_report_without_batches(tmp_path: object) -> None:
    with pytest.raises(IngestError, match="expected a '######## BATCH RESULTS ########' section"):
        read_arlo_report(b"######## ELECTION INFO ########\nA,B\n")
    bad = (
        b"######## BATCH RESULTS ########\n"
        b"Jurisdiction Name,Batch Name,Batch Type,A\nX,1,Mail,many\n"
    )
    with pytest.raises(IngestError, match="row 2, column 'A': expected a count; found 'many'"):
        read_arlo_report(bad)
