"""Commands of the election log (show, checkpoint, prove, verify, cosign) and of keys
(new, register, list)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from canvass import keys
from canvass.cli.common import ActorOpt, DirArg, _Typer, actor, out
from canvass.domain.model import KeyRole
from canvass.errors import StoreError
from canvass.guard.text import decode_text, read_file

log_app = _Typer(help="Show, prove, sign and verify the election log.", no_args_is_help=True)
keys_app = _Typer(help="Make and register Ed25519 keys.", no_args_is_help=True)


# --- log ----------------------------------------------------------------------------


@log_app.command("show")
def log_show(
    directory: DirArg,
    start: Annotated[int, typer.Option("--from", help="First entry to show.")] = 0,
    limit: Annotated[int, typer.Option(help="Most entries to show.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="One canonical entry per line.")] = False,
) -> None:
    """List log entries."""
    from canvass.app import elections

    store = elections.open_election(directory)
    if as_json:
        for raw in elections.entry_bytes(store, start, limit):
            sys.stdout.write(raw.decode() + "\n")
        return
    for index, entry in elections.entries(store, start, limit):
        facts = " ".join(
            f"{k}={v}" for k, v in entry.data.items() if isinstance(v, (str, int)) and k != "vkey"
        )
        files = " ".join(f"{a.name}@sha256:{a.sha256[:16]}" for a in entry.artifacts)
        line = f"{index:>6}  {entry.time}  {entry.type:<18} by {entry.actor}  {facts} {files}"
        typer.echo(line.rstrip())


@log_app.command("checkpoint")
def log_checkpoint(directory: DirArg) -> None:
    """Print the signed checkpoint of the log as it stands (signing one if the log grew)."""
    from canvass.app import elections

    out.print(elections.cosigned_checkpoint(elections.open_election(directory)), end="")


@log_app.command("prove")
def log_prove(
    directory: DirArg,
    entry: Annotated[int | None, typer.Option(help="Prove this entry is in the log.")] = None,
    since: Annotated[
        int | None, typer.Option(help="Prove the log extends its state at this size.")
    ] = None,
    size: Annotated[
        int | None, typer.Option(help="Tree size to prove against (default: all).")
    ] = None,
) -> None:
    """Print an inclusion or consistency proof as JSON (hashes in base64)."""
    from canvass.app import elections

    store = elections.open_election(directory)
    if (entry is None) == (since is None):
        raise StoreError("give exactly one of --entry N (inclusion) or --since SIZE (consistency)")
    if entry is not None:
        doc = elections.prove_inclusion(store, entry, size)
    else:
        assert since is not None
        doc = elections.prove_consistency(store, since, size)
    sys.stdout.write(json.dumps(doc, indent=2) + "\n")


@log_app.command("verify")
def log_verify(
    directory: DirArg,
    trusted: Annotated[
        list[Path] | None,
        typer.Option("--trusted", help="A checkpoint you saw earlier; the log must extend it."),
    ] = None,
) -> None:
    """Check entries, tree, checkpoints, cosignatures, artifacts and every table row; and
    the canvass: every signed vote and certificate, each against the ballots it rests on."""
    from canvass.app import elections

    notes = [decode_text(read_file(p, StoreError), str(p), StoreError) for p in trusted or []]
    checked = elections.verify(elections.open_election(directory), notes)
    if checked.problems:
        for p in checked.problems:
            typer.echo(f"FAIL {p}", err=True)
        raise typer.Exit(1)
    out.print(
        f"OK: {checked.entries} entries, {checked.checkpoints} checkpoints, "
        "tree, artifacts and tables agree with the log"
    )


def _since(path: Path | None) -> str | None:
    """The checkpoint a witness last cosigned, as text (UTF-8 only)."""
    return None if path is None else decode_text(read_file(path, StoreError), str(path), StoreError)


@log_app.command("cosign")
def log_cosign(
    directory: DirArg,
    key: Annotated[Path, typer.Option(help="The witness's private key file.")],
    since: Annotated[
        Path | None, typer.Option(help="The checkpoint this witness cosigned before.")
    ] = None,
    passphrase: Annotated[str | None, typer.Option(envvar=keys.PASSPHRASE_ENV, hidden=True)] = None,
) -> None:
    """Cosign the latest checkpoint as a registered witness."""
    from canvass import keys
    from canvass.app import elections
    from canvass.signing import witness

    store = elections.open_election(directory)
    signer = keys.read_key(key, passphrase)
    note = witness(store, signer, int(time.time()), _since(since))
    out.print(note, end="")


# --- keys ---------------------------------------------------------------------------


@keys_app.command("new")
def keys_new(
    name: Annotated[str, typer.Option(help="Key name: no spaces or '+', e.g. jane.doe@wayne")],
    out_file: Annotated[Path, typer.Option("--out", help="Private key file to write (0600).")],
    encrypt: Annotated[
        bool,
        typer.Option(
            "--passphrase",
            help=f"Encrypt with a passphrase (asked for, or ${keys.PASSPHRASE_ENV}).",
        ),
    ] = False,
) -> None:
    """Make an Ed25519 key for a person; writes FILE and FILE.pub."""
    from canvass import keys

    phrase = None
    if encrypt:
        phrase = os.environ.get(keys.PASSPHRASE_ENV) or typer.prompt(
            "Passphrase", hide_input=True, confirmation_prompt=True
        )
    signer = keys.new_signer(name)
    pub = keys.write_key(signer, out_file, phrase)
    out.print(f"Wrote {out_file} (private, mode 0600) and {pub}")
    out.print(signer.verifier().encode())


@keys_app.command("register")
def keys_register(
    directory: DirArg,
    public_key: Annotated[Path, typer.Argument(help="The .pub file.")],
    role: Annotated[KeyRole, typer.Option(help="What the key's owner does.")],
    who: ActorOpt = None,
) -> None:
    """Register a public key in the election, with its role."""
    from canvass import keys
    from canvass.app import elections

    store = elections.open_election(directory)
    key = keys.read_public_key(public_key)
    index = elections.register_key(store, actor(who), key, role)
    out.print(f"Registered {key.name} as {role.value} in log entry {index}")
    out.print(elections.checkpoint(store), end="")


@keys_app.command("list")
def keys_list(directory: DirArg) -> None:
    """List the registered keys."""
    from rich.table import Table

    from canvass.app import elections

    table = Table("name", "role", "key", "entry")
    for row in elections.registered_keys(elections.open_election(directory)):
        table.add_row(row["name"], row["role"], row["vkey"], str(row["entry"]))
    out.print(table)
