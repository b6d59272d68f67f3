"""The cross-backend differential test: the same public calls on SQLite, PostgreSQL and
MariaDB/MySQL at once, with every result and every error class compared."""
