"""The machine and the package versions a comparison ran with."""

from __future__ import annotations

import os
import platform
import sqlite3
from importlib import metadata
from pathlib import Path

PACKAGES = (
    "cleveragents-core",
    "google-adk",
    "google-genai",
    "openai-agents",
    "langchain-core",
    "SQLAlchemy",
    "aiosqlite",
    "asyncpg",
    "psycopg",
)


def _first_line_with(path: Path, prefix: str) -> str | None:
    try:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith(prefix):
                return line
    except OSError:
        return None
    return None


def cpu_model() -> str:
    line = _first_line_with(Path("/proc/cpuinfo"), "model name")
    return line.split(":", 1)[1].strip() if line else (platform.processor() or "unknown")


def memory() -> str:
    line = _first_line_with(Path("/proc/meminfo"), "MemTotal:")
    if line is None:
        return "unknown"
    kibibytes = int(line.split()[1])
    return f"{kibibytes / 1024 / 1024:.0f} GiB"


def operating_system() -> str:
    line = _first_line_with(Path("/etc/os-release"), "PRETTY_NAME=")
    return line.split("=", 1)[1].strip().strip('"') if line else platform.system()


def describe(postgresql: str | None) -> list[tuple[str, str]]:
    """(what, value) pairs for the report."""
    return [
        ("CPU", f"{cpu_model()}, {os.cpu_count()} cores"),
        ("RAM", memory()),
        ("OS", operating_system()),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("SQLite", sqlite3.sqlite_version),
        ("PostgreSQL", postgresql or "not measured"),
    ]


def package_versions() -> list[tuple[str, str]]:
    versions = []
    for name in PACKAGES:
        try:
            versions.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            versions.append((name, "not installed"))
    return versions
