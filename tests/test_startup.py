"""The command line starts without the heavy libraries: each command imports what it uses
when it runs, so ``canvass --help`` and a simple command start in a fraction of a second."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("sqlalchemy", "pyarrow", "numpy", "scipy", "cryptography", "lxml", "jinja2", "rich")


def test_the_command_line_loads_no_heavy_library() -> None:
    code = (
        "import sys; from canvass.cli import app; "
        "from typer.main import get_command; get_command(app); "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert found == ""
