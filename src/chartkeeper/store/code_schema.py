"""Code set tables: one ``code_sets`` row per loaded version, its codes in ``codes``.

Migration 0008 creates them; ``chartkeeper.billing.codes`` owns them. Effective dates are ISO
``YYYY-MM-DD`` strings (they order as dates on both databases); ``effective_to`` NULL means
"until a later version takes over". ``extra`` is JSON text: Excludes notes, 7th characters,
HCPCS coverage and dates, whatever the kind carries.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Integer, String, Table, Text

from chartkeeper.store.schema import metadata

code_sets = Table(
    "code_sets",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("version", String(32), primary_key=True),
    Column("effective_from", String(10), nullable=False),
    Column("effective_to", String(10), nullable=True),
    Column("loaded_at", BigInteger, nullable=False),
    Column("source", Text, nullable=False),
    Column("count", Integer, nullable=False),
)

codes = Table(
    "codes",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("version", String(32), primary_key=True),
    Column("code", String(16), primary_key=True),
    Column("display", Text, nullable=False),
    Column("billable", Boolean, nullable=False),
    Column("extra", Text, nullable=False),
)
