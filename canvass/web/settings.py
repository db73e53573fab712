"""How the officials' application is configured: from the environment (or the values a
test or ``canvass serve-app`` passes), nothing hard-coded.

=============================  =========================================================
``CANVASS_ELECTION``           the election directory the application serves
``CANVASS_ACCOUNTS_URL``       the accounts database (default: beside the election's own
                               database: ``accounts.db`` in its directory, or for an
                               election on PostgreSQL the schema ``SCHEMA_accounts`` of
                               its database, which every app server reaches)
``CANVASS_PUBLISH_DIR``        where "publish" writes the results bundle (default:
                               ``public`` in the election directory)
``CANVASS_UPLOAD_DIR``         where uploads are streamed before they are imported
                               (default: the system's temporary directory)
``CANVASS_PASSWORD_HASH``      Argon2id parameters: ``rfc9106-low-memory`` (default) or
                               ``rfc9106-high-memory``
``CANVASS_INSECURE_COOKIES``   ``1`` drops the cookies' ``Secure`` flag, for plain HTTP on
                               a development machine only
``CANVASS_ORIGIN``             the address people open (``https://canvass.example.gov``),
                               which passkeys are made for (default: the request's own)
=============================  =========================================================
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from canvass.app.accounts import default_url


@dataclass(frozen=True)
class Settings:
    election: Path
    accounts_url: str
    publish_dir: Path
    upload_dir: Path
    secure_cookies: bool = True
    password_hash: str = "rfc9106-low-memory"
    """Argon2id parameters (see :data:`canvass.app.accounts.PASSWORD_HASHES`)."""
    origin: str = ""
    """The origin passkeys are made for and checked against; empty: the request's."""

    @classmethod
    def for_election(cls, election: Path, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "election": election,
            "accounts_url": default_url(election),
            "publish_dir": election / "public",
            "upload_dir": Path(tempfile.gettempdir()),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    @classmethod
    def from_environment(cls) -> Settings:
        election = os.environ.get("CANVASS_ELECTION")
        if not election:
            raise SystemExit("CANVASS_ELECTION is not set: name the election directory to serve")
        base = cls.for_election(Path(election))
        return cls(
            election=base.election,
            accounts_url=os.environ.get("CANVASS_ACCOUNTS_URL", base.accounts_url),
            publish_dir=Path(os.environ.get("CANVASS_PUBLISH_DIR", str(base.publish_dir))),
            upload_dir=Path(os.environ.get("CANVASS_UPLOAD_DIR", str(base.upload_dir))),
            secure_cookies=os.environ.get("CANVASS_INSECURE_COOKIES") != "1",
            password_hash=os.environ.get("CANVASS_PASSWORD_HASH", base.password_hash),
            origin=os.environ.get("CANVASS_ORIGIN", "").rstrip("/"),
        )
