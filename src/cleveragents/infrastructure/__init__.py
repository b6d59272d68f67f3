"""Adapters to the outside world; only this package knows SQLAlchemy and Alembic."""
