"""``canvass publish``, ``canvass verify`` and ``canvass serve``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from canvass.cli.common import ActorOpt, DirArg, actor, out
from canvass.errors import StoreError


def publish_command(
    directory: DirArg,
    out_dir: Annotated[Path, typer.Argument(help="Where to write the bundle.")],
    withhold_originals: Annotated[
        list[str] | None,
        typer.Option(
            help="A county (id) whose original CVR files stay out of the bundle, or 'all'; "
            "repeat for several. Its ballot tables are always published."
        ),
    ] = None,
    replace: Annotated[bool, typer.Option(help="Replace an earlier bundle at OUT_DIR.")] = False,
    who: ActorOpt = None,
) -> None:
    """Record the publication in the log and write the static results bundle: results,
    reconciliation, certificates, audits, the pages, the log as tiles with its
    checkpoints, the artifacts and a manifest of SHA-256. Publishing again with nothing
    changed records nothing and writes the same bytes."""
    from canvass.app.elections import open_election
    from canvass.app.publishing import publish

    election = open_election(directory)
    from canvass.cli.progress import progress

    with progress("Writing the bundle", "files") as advance:
        done = publish(
            election, actor(who), out_dir, withhold_originals or [], replace, progress=advance
        )
    recorded = "recorded" if done.recorded else "already recorded"
    out.print(
        f"Published {done.files:,} files ({done.bytes / 1e6:,.1f} MB) to {done.path}: log of "
        f"{done.log_size:,} entries, the publication {recorded} as log entry {done.publication}"
        + (f", {done.withheld} original CVR files withheld" if done.withheld else "")
    )
    if done.not_cosigned:
        out.print(
            f"Not yet cosigned by {', '.join(done.not_cosigned)}: the bundle will not verify "
            "until the witnesses cosign its checkpoint (canvass log cosign); then publish "
            "again (nothing more is recorded)"
        )
    out.print(f"Check it: canvass verify {done.path}")


def verify_command(
    bundle: Annotated[str, typer.Argument(help="The bundle: a folder or an http(s) address.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    trust_store: Annotated[
        Path | None,
        typer.Option(help="Checkpoints seen before (default: ~/.config/canvass/...)."),
    ] = None,
    no_trust_store: Annotated[
        bool, typer.Option("--no-trust-store", help="Neither read nor remember checkpoints.")
    ] = False,
    operator_key: Annotated[
        str | None,
        typer.Option(help="The log operator's key (vkey), as obtained from the officials."),
    ] = None,
    reingest: Annotated[
        bool,
        typer.Option(
            help="Read every published CVR export again and compare it with its ballot table."
        ),
    ] = True,
    witness_key: Annotated[
        list[str] | None,
        typer.Option(
            help="A witness's key (vkey), as obtained from the witness itself; it must have "
            "cosigned the bundle's checkpoint (repeat for several)."
        ),
    ] = None,
) -> None:
    """Check a published bundle, trusting nothing in it; exit 0 only when everything holds.
    A bundle that verifies is remembered, so a later one must extend it."""
    from canvass.cli.common import bug_report
    from canvass.errors import CanvassError
    from canvass.verify import TrustStore, open_source, verify_bundle
    from canvass.verify.trust import default_path

    trust = None if no_trust_store else TrustStore(trust_store or default_path())
    source = open_source(bundle)
    try:
        from canvass.cli.progress import progress

        with progress("Checking", "checks") as advance:

            def started(name: str) -> None:
                advance(1)

            report = verify_bundle(
                source, trust, operator_key, reingest, witness_key or [], started=started
            )
        text = json.dumps(report.to_json(), indent=2) + "\n" if as_json else report.text()
    except CanvassError:
        raise
    except Exception as e:  # the verifier's exit status is 0, 1 or 2, never another
        typer.echo(bug_report(e), err=True)
        raise typer.Exit(2) from None
    # Text quoted from a hostile bundle may hold what no terminal can print.
    sys.stdout.write(text.encode("utf-8", "backslashreplace").decode("utf-8"))
    if not report.ok:
        raise typer.Exit(2)
    if trust is not None:
        trust.remember(report.origin, report.operator, report.checkpoint, report.witnesses)


def serve_command(
    bundle: Annotated[Path, typer.Argument(help="A published bundle folder.")],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve a published bundle over HTTP (as any static web server would)."""
    from canvass.publish.bundle import MANIFEST
    from canvass.web.static import server

    if not (bundle / MANIFEST).is_file():
        raise StoreError(f"{bundle}: not a results bundle (no {MANIFEST}); run 'canvass publish'")
    httpd = server(bundle, host, port)
    out.print(f"Serving {bundle} at http://{host}:{httpd.server_address[1]}/ (Ctrl-C stops)")
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
