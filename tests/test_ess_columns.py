"""The ES&S reader works a column at a time; the reader as first written went cell by cell
(``tests/ess_reference.py``). On every ES&S spreadsheet of RCTab's test suite, as each
case configures it (Minneapolis's 80,101 ballots among them), and on workbooks written here
with what real exports hold (blank rows, numbers, padding, several files), the two give
the same ballot table, to the byte of its Parquet, the same choices in the same order, or
the same message."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from canvass.errors import CanvassError
from canvass.ingest.ballots import to_parquet
from canvass.ingest.ess import EssOptions, EssWorkbooks
from tests.conftest import SHARED, skip_without
from tests.ess_reference import RowByRowEss
from tests.test_ess import options

RCTAB = SHARED / "data" / "rctab"


def ess_sources() -> list[tuple[str, int]]:
    """Each configuration's ES&S sources whose spreadsheet this copy of RCTab's suite holds
    (some of its cases name files on purpose that are not there): (the configuration under
    RCTab's suite, index)."""
    if not RCTAB.is_dir():
        return [("", 0)]
    return [
        (str(config.relative_to(RCTAB)), k)
        for config in sorted(RCTAB.glob("*/*_config.json"))
        for k, source in enumerate(json.loads(config.read_text())["cvrFileSources"])
        if source.get("provider") == "ess"
        and source.get("filePath")
        and (config.parent / source["filePath"]).is_file()
    ]


def same(paths: list[Path], o: EssOptions) -> None:
    try:
        expected = RowByRowEss(paths, o)
        reference = to_parquet(expected.read("Hennepin"), expected.contests)
    except CanvassError as e:
        with pytest.raises(CanvassError) as ours:
            EssWorkbooks(paths, o)
        assert str(ours.value) == str(e)
        return
    reader = EssWorkbooks(paths, o)
    assert reader.contests == expected.contests
    assert to_parquet(reader.read("Hennepin"), reader.contests) == reference


@pytest.mark.parametrize(("config", "k"), ess_sources())
def test_each_spreadsheet_of_rctabs_suite(config: str, k: int) -> None:
    skip_without(RCTAB / config)
    source = json.loads((RCTAB / config).read_text())["cvrFileSources"][k]
    same([((RCTAB / config).parent / source["filePath"]).resolve()], options(source))


def test_minneapolis_in_several_files_with_ids_and_batches(tmp_path: Path) -> None:
    """Three copies of Minneapolis's mayoral spreadsheet (240,303 ballots: record batches
    cut across files), its precinct column read as the id and as the batch too."""
    source = RCTAB / "2013_minneapolis_mayor" / "2013_minneapolis_mayor_cvr.xlsx"
    skip_without(source)
    paths = []
    for k in range(3):
        paths.append(tmp_path / f"part{k}.xlsx")
        paths[-1].write_bytes(source.read_bytes())
    same(paths, EssOptions(precinct_column=1, id_column=1, batch_column=5))


def cell_xml(ref: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value}</v></c>'
    text = escape(str(value))
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    """A minimal workbook: one sheet, cells written inline."""
    sheet = "".join(
        f'<row r="{r}">'
        + "".join(cell_xml(f"{chr(65 + c)}{r}", v) for c, v in enumerate(row))
        + "</row>"
        for r, row in enumerate(rows, start=1)
    )
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxml'
            'formats-package.relationships+xml"/><Default Extension="xml" ContentType='
            '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="applicat'
            'ion/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
            'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformat'
            's-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="' + rel + "/office"
            'Document" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0"?><workbook {ns} xmlns:r="{rel}"><sheets><sheet name="CVR" '
            'sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="' + rel + "/work"
            'sheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        z.writestr(
            "xl/worksheets/sheet1.xml",
            f'<?xml version="1.0"?><worksheet {ns}><sheetData>{sheet}</sheetData></worksheet>',
        )
    return path


HEADER = ["Id", "Precinct", "1st Choice", "2nd Choice", "3rd Choice", "Batch"]
ROWS: list[list[object]] = [
    [101, "P-1", "Alice", "Bob", "undervote", 7],
    [None, None, None, None, None, None],  # a blank row, passed over
    [102.0, " P-2 ", " Bob", "overvote", "UWI", "B 1"],
    [None, "P-1", "", "Carol|Alice", "Dan| ", 7.5],
    ["103", "P-3", "UWI", "undervote", "Erin", None],
    [None, None, None, None, None, True],  # not blank: its batch is TRUE
    [104, "P-2", "Carol", None, "Frank||Alice", "x"],
]


@pytest.mark.parametrize(
    "o",
    [
        EssOptions(first_vote_column=3, id_column=1, precinct_column=2, batch_column=6),
        EssOptions(first_vote_column=3, precinct_column=2, overvote_delimiter="|"),
        EssOptions(first_vote_column=3, blank_is_write_in=True, overvote_delimiter="|"),
        EssOptions(first_vote_column=3, ranks=2, id_column=9, write_in_label="Erin"),
        EssOptions(first_vote_column=3, ranks=4, batch_column=6),  # wider than the rows
        EssOptions(first_vote_column=1),  # no ranking headers
    ],
)
def test_workbooks_with_what_exports_hold(tmp_path: Path, o: EssOptions) -> None:
    first = write_xlsx(tmp_path / "a.xlsx", [HEADER, *ROWS])
    second = write_xlsx(tmp_path / "b.xlsx", [HEADER, *ROWS[::-1]])
    same([first, second], o)
    same([second], o)


def test_a_sheet_of_headers_alone(tmp_path: Path) -> None:
    same([write_xlsx(tmp_path / "a.xlsx", [HEADER])], EssOptions(first_vote_column=3))
