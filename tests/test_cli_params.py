"""The command line converts its arguments without Pydantic (``canvass.cli.params``) and
gets what Typer's own conversion gets, value or refusal, for every parameter of every
command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer import _click
from typer._coercion import build_runtime_param
from typer.main import get_command

from canvass.cli import app
from canvass.cli.params import _Conversion


def parameters() -> list[tuple[_click.Command, Any]]:
    found: list[tuple[_click.Command, Any]] = []

    def walk(command: _click.Command) -> None:
        found.extend((command, p) for p in command.params)
        for sub in getattr(command, "commands", {}).values():
            walk(sub)

    walk(get_command(app))
    return found


PARAMETERS = parameters()
KINDS = {(repr(p.type_descriptor.annotation), p.nargs, p.multiple): (c, p) for c, p in PARAMETERS}
"""One parameter of each kind the command line has."""


def outcome(convert: Any, value: Any, command: _click.Command, param: Any) -> tuple[str, Any]:
    ctx = _click.Context(command)
    try:
        return "value", convert.coerce(value, param=param, ctx=ctx)
    except _click.exceptions.ClickException as e:
        return type(e).__name__, e.format_message()
    except Exception as e:
        return type(e).__name__, str(e)


def same_as_typer(value: Any, command: _click.Command, param: Any) -> None:
    ours = outcome(_Conversion(param), value, command, param)
    typers = outcome(build_runtime_param(param.type_descriptor), value, command, param)
    assert ours == typers
    if ours[0] == "value":
        assert type(ours[1]) is type(typers[1])


def test_the_command_line_has_the_kinds_tested_here() -> None:
    assert {k[0] for k in KINDS} >= {
        "<class 'str'>",
        "<class 'int'>",
        "<class 'pathlib.Path'>",
        "<class 'bool'>",
        "list[pathlib.Path]",
        "list[str]",
    }


VALUES: list[Any] = [
    None,
    "",
    "abc",
    " x ",
    "12",
    " 12 ",
    "-3",
    "+5",
    "007",
    "1_000",
    "12.0",
    "99999999999999999999999",
    "x\udcff",
    "é",
    7,
    True,
    b"abc",
    ("a", "b"),
    ["12", "x"],
    (),
]


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_values_convert_as_typer_converts_them(kind: Any, value: Any) -> None:
    same_as_typer(value, *KINDS[kind])


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_paths_convert_as_typer_converts_them(kind: Any, tmp_path: Path) -> None:
    file = tmp_path / "f.csv"
    file.write_text("x")
    unreadable = tmp_path / "locked"
    unreadable.write_text("x")
    unreadable.chmod(0)
    for value in (str(tmp_path), str(file), str(tmp_path / "absent"), str(unreadable)):
        same_as_typer(value, *KINDS[kind])
        same_as_typer((value, str(file)), *KINDS[kind])


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.integers(), st.lists(st.text(), max_size=3)))
def test_any_value_converts_as_typer_converts_it(value: Any) -> None:
    for kind in sorted(KINDS):
        same_as_typer(value, *KINDS[kind])
