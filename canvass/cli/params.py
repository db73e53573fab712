"""Converting a command's arguments without Pydantic, where Typer's own conversion gives
the same value.

Typer converts every argument of the command it runs through a Pydantic ``TypeAdapter``:
importing Pydantic and building the adapters costs a simple command about a fifth of its
start-up. Canvass's commands take text, whole numbers, paths and lists of those, which
convert without it: text stays as it is, a plain whole number is ``int`` of it, and a
path is ``Path`` of it checked by Typer's own path check. Anything else (a number written
``1_000`` or ``12.0``, bytes, an empty path, an enumeration, a constrained number) goes to
Typer's conversion, built only then: the fast path either gives what Typer would or steps
aside. ``tests/test_cli_params.py`` holds it to Typer's answers.

:func:`install` puts it in place of Typer's; ``canvass.cli.common`` calls it on import.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer.core
from typer._param_types import coerce_cli_path

_SLOW = object()
"""What the fast path returns when Typer's own conversion must decide."""

_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,18}")
_PLAIN = (str, int, Path)
"""The annotations converted here; the rest go to Typer."""


class _Conversion:
    """One parameter's conversion: the fast path, else Typer's (built when first needed)."""

    def __init__(self, parameter: Any) -> None:
        self.parameter = parameter
        self.descriptor = parameter.type_descriptor
        info = self.descriptor.parameter_info
        self.leaf: type | None = None
        annotation = self.descriptor.annotation
        if self.descriptor.is_list:
            annotation = getattr(annotation, "__args__", (None,))[0]
        plain = (
            annotation in _PLAIN
            and not self.descriptor.is_file
            and info.parser is None
            and info.min is None
            and info.max is None
            and not info.clamp
            and info.path_type is None
            and not info.allow_dash
            and not info.resolve_path
        )
        if plain and (self.descriptor.is_list or not self.descriptor.is_tuple):
            self.leaf = annotation
        self._typer: Any = None

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        multiple = param.multiple or param.nargs == -1
        if value is None:  # as Typer's RuntimeParam.coerce
            return () if multiple else None
        found = _SLOW
        if self.leaf is not None:
            if self.descriptor.is_list and isinstance(value, (list, tuple)):
                items = [self._leaf(item, param, ctx) for item in value]
                if all(item is not _SLOW for item in items):
                    found = items
            elif not self.descriptor.is_list and not multiple:
                found = self._leaf(value, param, ctx)
        if found is not _SLOW:
            return found
        if self._typer is None:
            from typer._coercion import build_runtime_param

            self._typer = build_runtime_param(self.descriptor)
        return self._typer.coerce(value, param=param, ctx=ctx)

    def _leaf(self, value: Any, param: Any, ctx: Any) -> Any:
        if self.leaf is str:
            return value if isinstance(value, str) else _SLOW
        if self.leaf is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value):
                return int(value)
            return _SLOW
        if isinstance(value, str) and value and "\x00" not in value:
            info = self.descriptor.parameter_info
            return coerce_cli_path(Path(value), info, path_type=Path, param=param, ctx=ctx)
        return _SLOW


def _runtime_param(self: Any) -> Any:
    if self._runtime_param is None:
        self._runtime_param = _Conversion(self)
    return self._runtime_param


def install() -> None:
    """Convert arguments this way in every Typer command of this process."""
    setattr(typer.core._TyperParameter, "get_runtime_param", _runtime_param)  # noqa: B010
