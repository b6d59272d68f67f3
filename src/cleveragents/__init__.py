"""Durable conversation sessions for AI-agent runtimes."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cleveragents-core")
except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
    __version__ = "0.0.0"

__all__ = ["__version__"]
