"""Alembic environment for the 'control' track (used by the `alembic` CLI to write revisions).

The app itself runs migrations through `tenancy.migrations.upgrade`, which bypasses this file.
Write a revision:  .venv/bin/alembic -c migrations/alembic.ini -n control revision --autogenerate -m "..."
"""
from alembic import context
from sqlalchemy import create_engine


from tenancy.migrations import TRACKS
from app import create_app

track = TRACKS["control"]
app = create_app()
url = app.config["SQLALCHEMY_DATABASE_URI"]

engine = create_engine(url)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=track.metadata(),
                      version_table=track.version_table)
    with context.begin_transaction():
        context.run_migrations()
