"""Use cases of session persistence."""
