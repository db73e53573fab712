"""Alembic environment of the accounts database: migrations run on the connection Canvass
hands over, their revision kept in a table of its own name."""

from alembic import context

from canvass.store.accounts import VERSION_TABLE, metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
