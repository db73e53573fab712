"""What every command shares: the Typer whose one handler turns Canvass errors into one
line and exit status 1 (and anything else into a one-line bug report, exit status 70), the
console, the common options, and who is acting."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from canvass import keys
from canvass.cli import params
from canvass.errors import CanvassError, one_line

if TYPE_CHECKING:
    from rich.console import Console

    from canvass.app.actor import Actor


params.install()

BUG = 70
"""Exit status of a failure Canvass did not foresee (``EX_SOFTWARE`` of BSD's sysexits)."""


def bug_report(e: BaseException) -> str:
    """The line printed for an exception no file or user should be able to cause."""
    text = one_line(" ".join(str(e).split()))[:300]
    return (
        f"error: Canvass failed unexpectedly ({type(e).__name__}: {text}); this is a bug in "
        "Canvass: please report it, with the command you ran"
    )


class _Typer(typer.Typer):
    """Typer whose commands turn Canvass errors into one line and exit status 1, and any
    other exception into a one-line bug report and exit status 70: a traceback is never
    what a person running Canvass should see."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
        register = super().command(*args, **kwargs)

        def decorate(f: Callable[..., Any]) -> Any:
            @functools.wraps(f)
            def run(*a: Any, **kw: Any) -> Any:
                try:
                    return f(*a, **kw)
                except CanvassError as e:
                    typer.echo(f"error: {e}", err=True)
                    raise typer.Exit(1) from None
                except OSError as e:
                    typer.echo(f"error: {e.filename or ''}: {e.strerror}", err=True)
                    raise typer.Exit(1) from None
                except (typer.Exit, typer.Abort, typer.TyperException):
                    raise  # Typer's own ways of ending a command
                except Exception as e:
                    # The database's errors, without importing SQLAlchemy for commands
                    # that never open one (start-up time).
                    database = sys.modules.get("sqlalchemy.exc")
                    if database is not None and isinstance(e, database.OperationalError):
                        typer.echo(f"error: the database could not do it: {e.orig}", err=True)
                        raise typer.Exit(1) from None
                    typer.echo(bug_report(e), err=True)
                    raise typer.Exit(BUG) from None
                except BaseException as e:
                    # A Rust panic in a library arrives as pyo3's PanicException, a
                    # BaseException; Ctrl-C and exits go on as they are.
                    if type(e).__name__ != "PanicException":
                        raise
                    typer.echo(bug_report(e), err=True)
                    raise typer.Exit(BUG) from None

            return register(run)

        return decorate


class _Console:
    """The console commands print to, made when first used: importing ``rich`` costs the
    command line's start-up a third of its time."""

    def __init__(self) -> None:
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            import rich.console

            self._console = rich.console.Console(
                highlight=False, soft_wrap=True, markup=False, emoji=False
            )
        return getattr(self._console, name)


out = _Console()

DirArg = Annotated[Path, typer.Argument(help="The election directory.")]
ActorOpt = Annotated[
    str | None, typer.Option("--actor", help="Who is acting (default: $CANVASS_ACTOR or $USER).")
]
KeyOpt = Annotated[
    Path, typer.Option("--key", help="Your own private key file (it stays with you).")
]
PassOpt = Annotated[str | None, typer.Option(envvar=keys.PASSPHRASE_ENV, hidden=True)]


def actor(name: str | None) -> Actor:
    """Who is acting: ``--actor``, else ``$CANVASS_ACTOR``, else the login name."""
    from canvass.app.actor import Actor  # the application layer, when a command runs

    return Actor(name or os.environ.get("CANVASS_ACTOR") or os.environ.get("USER") or "operator")
