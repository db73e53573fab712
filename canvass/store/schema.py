"""Database tables of an election directory.

Two kinds of table:

- **The log** (``log_entry``, ``log_node``, ``checkpoint``, ``cosignature``): the source of
  truth. Entries are only ever inserted; ``log_node`` holds the complete Merkle subtrees
  so that proofs need no recomputation.
- **Projections** (everything in :data:`PROJECTIONS`): what the log says, laid out for
  queries. ``canvass rebuild`` regenerates them from the log and the artifact store, and
  ``canvass log verify`` reports any row that differs from what the log says.

The same metadata drives Alembic's migrations (``store/migrations``) and the in-memory
replay the verifier compares against.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

metadata = MetaData()

log_entry = Table(
    "log_entry",
    metadata,
    Column("idx", Integer, primary_key=True, autoincrement=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Column("body", LargeBinary, nullable=False),
    sqlite_autoincrement=False,
)

log_node = Table(
    "log_node",
    metadata,
    Column("level", Integer, nullable=False),
    Column("idx", Integer, nullable=False),
    Column("hash", LargeBinary(32), nullable=False),
    PrimaryKeyConstraint("level", "idx"),
    sqlite_with_rowid=False,
)

checkpoint = Table(
    "checkpoint",
    metadata,
    Column("size", Integer, primary_key=True, autoincrement=False),
    Column("note", Text, nullable=False),
)

cosignature = Table(
    "cosignature",
    metadata,
    Column("size", Integer, nullable=False),
    Column("witness", String, nullable=False),
    Column("line", Text, nullable=False),
    Column("timestamp", Integer, nullable=False),
    PrimaryKeyConstraint("size", "witness"),
)

change_key = Table(
    "change_key",
    metadata,
    Column("actor", String, nullable=False),
    Column("key", String, nullable=False),
    Column("request_sha256", String(64), nullable=False),
    Column("entries", Text, nullable=False),
    Column("answer", Text),
    PrimaryKeyConstraint("actor", "key"),
)
"""A change made under a key of its requester's choosing (HTTP's ``Idempotency-Key``):
recorded in the transaction that appended its entries, so that the same request made
again (its answer lost) is answered, never made twice. Not part of the log, nor of its
projections."""

# --- Projections ----------------------------------------------------------------------

registered_key = Table(
    "registered_key",
    metadata,
    Column("name", String, primary_key=True),
    Column("role", String, nullable=False),
    Column("vkey", String, nullable=False),
    Column("entry", Integer, nullable=False),
)

artifact = Table(
    "artifact",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("name", String, nullable=False),
    Column("media_type", String, nullable=False),
    # 64-bit: a CVR export may pass 2 GiB (SQLite's INTEGER is 64-bit already).
    Column("size", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("entry", Integer, nullable=False),
)

election = Table(
    "election",
    metadata,
    Column("id", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("date", String, nullable=False),
    Column("state", String, nullable=False),
    Column("vote_types", String, nullable=False),
    Column("definition_sha256", String(64), nullable=False),
    Column("entry", Integer, nullable=False),
)

jurisdiction = Table(
    "jurisdiction",
    metadata,
    Column("id", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("kind", String, nullable=False),
    Column("parent", String),
    Column("position", Integer, nullable=False),
)

precinct_portion = Table(
    "precinct_portion",
    metadata,
    Column("id", String, primary_key=True),
    Column("precinct", String, nullable=False),
    Column("name", String, nullable=False),
)

party = Table(
    "party",
    metadata,
    Column("id", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("abbreviation", String, nullable=False),
)

candidate = Table(
    "candidate",
    metadata,
    Column("id", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("party", String),
    Column("write_in", Boolean, nullable=False),
)

contest = Table(
    "contest",
    metadata,
    Column("id", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("type", String, nullable=False),
    Column("jurisdiction", String, nullable=False),
    Column("votes_allowed", Integer, nullable=False),
    Column("write_ins", Integer, nullable=False),
    Column("ranks", Integer),
    Column("seats", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("position", Integer, nullable=False),
)

choice = Table(
    "choice",
    metadata,
    Column("contest", String, nullable=False),
    Column("id", String, nullable=False),
    Column("name", String, nullable=False),
    Column("candidate", String),
    Column("write_in", Boolean, nullable=False),
    Column("position", Integer, nullable=False),
    PrimaryKeyConstraint("contest", "id"),
)

ballot_style = Table(
    "ballot_style",
    metadata,
    Column("id", String, primary_key=True),
    Column("name", String, nullable=False),
)

ballot_style_contest = Table(
    "ballot_style_contest",
    metadata,
    Column("ballot_style", String, nullable=False),
    Column("contest", String, nullable=False),
    Column("position", Integer, nullable=False),
    PrimaryKeyConstraint("ballot_style", "contest"),
)

ballot_style_precinct = Table(
    "ballot_style_precinct",
    metadata,
    Column("ballot_style", String, nullable=False),
    Column("precinct", String, nullable=False),
    PrimaryKeyConstraint("ballot_style", "precinct"),
)

counting_group = Table(
    "counting_group",
    metadata,
    Column("id", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("vote_type", String, nullable=False),
    Column("county", String),
)

tabulator = Table(
    "tabulator",
    metadata,
    Column("id", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("county", String, nullable=False),
    Column("counting_group", String),
)

ballot_import = Table(
    "ballot_import",
    metadata,
    Column("entry", Integer, primary_key=True, autoincrement=False),
    Column("kind", String, nullable=False),
    Column("county", String, nullable=False),
    Column("format", String, nullable=False),
    Column("cards", Integer, nullable=False),
    Column("sources_sha256", String(64), nullable=False),
    Column("definition_sha256", String(64), nullable=False),
    Column("table_sha256", String(64), nullable=False),
    # The later import of the county that replaced this one (a recount, a corrected
    # export); a replaced import is no longer counted.
    Column("replaced_by", Integer),
)

manifest_batch = Table(
    "manifest_batch",
    metadata,
    Column("entry", Integer, nullable=False),
    Column("county", String, nullable=False),
    Column("tabulator", String, nullable=False),
    Column("batch", String, nullable=False),
    Column("cards", Integer, nullable=False),
    Column("container", String, nullable=False),
    PrimaryKeyConstraint("entry", "tabulator", "batch"),
)

LOG_TABLES = (log_entry, log_node, checkpoint, cosignature)
DEFINITION_TABLES = (
    election,
    jurisdiction,
    precinct_portion,
    party,
    candidate,
    contest,
    choice,
    ballot_style,
    ballot_style_contest,
    ballot_style_precinct,
    counting_group,
    tabulator,
)
PROJECTIONS = (registered_key, artifact, ballot_import, manifest_batch, *DEFINITION_TABLES)
