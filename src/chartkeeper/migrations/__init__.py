"""Alembic migrations that own the store's schema."""
