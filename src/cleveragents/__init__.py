"""Durable conversation sessions for AI-agent runtimes."""

# The only place the version is written: the build reads it from here (see
# ``[tool.hatch.version]`` in pyproject.toml) for the package metadata and file names.
__version__ = "0.1.0"

__all__ = ["__version__"]
