"""Alembic environment of the knowledge database.

genomflow runs the migrations itself (:func:`genomflow.kb.db.upgrade`), handing over an open
connection in ``config.attributes["connection"]``; the ``alembic`` command line works too,
with ``-x url=URL`` or ``sqlalchemy.url`` set.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from genomflow.kb.models import Base

config = context.config
connection = config.attributes.get("connection")

if connection is not None:
    context.configure(connection=connection, target_metadata=Base.metadata)
    context.run_migrations()
else:  # pragma: no cover - the alembic command line
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    engine = create_engine(str(url))
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=Base.metadata)
        context.run_migrations()
