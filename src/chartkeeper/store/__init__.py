"""Persistence: the FHIR resource repository on SQLAlchemy Core (SQLite embedded, PostgreSQL)."""
