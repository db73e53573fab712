"""The ``canvass`` command line: a thin shell over the library (``main`` has the election's
commands; ``log`` the log's and the keys'; ``canvass`` the canvass's; ``audit`` the audits')."""

from canvass.cli.main import app, main

__all__ = ["app", "main"]
