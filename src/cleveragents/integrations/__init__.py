"""Drop-in session stores for agent frameworks, over the library's async service."""
