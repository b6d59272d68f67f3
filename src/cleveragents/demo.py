"""A short tour of the library: ``python -m cleveragents.demo [URL]``.

Without a URL the tour writes to a SQLite file of its own, ``demo.db`` beside the embedded
default database, never into the database the library or the CLI would use (not even the
one ``CLEVERAGENTS_DATABASE_URL`` names), and says how to remove what it wrote.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from cleveragents.application.services import PersistentSessionService
from cleveragents.infrastructure.database import displayable_url, upgrade_database


def demo_database_file() -> Path:
    """``$XDG_DATA_HOME/cleveragents/demo.db``, by default under ``~/.local/share``."""
    data_home = Path(os.environ.get("XDG_DATA_HOME") or "")
    # As for the embedded default, a relative XDG_DATA_HOME is ignored.
    base = data_home if data_home.is_absolute() else Path("~/.local/share").expanduser()
    return base / "cleveragents" / "demo.db"


def main(url: str | None = None, *, schema: str | None = None) -> None:
    """Run the tour on ``url`` (default: the demo's own SQLite file), in ``schema`` on
    PostgreSQL when given."""
    own_file = None if url else demo_database_file()
    url = url or f"sqlite:///{own_file}"
    print(f"database: {displayable_url(url)}" + (f" (schema {schema})" if schema else ""))
    upgrade_database(url, schema=schema)
    with PersistentSessionService.from_url(url, schema=schema) as service:
        session = service.create("demo-agent", title="Weather in Lisbon", metadata={"demo": True})
        print(f"created session {session.id} for {session.actor_name!r}")

        turns = [
            ("system", "You are a concise travel assistant."),
            ("user", "What's the weather in Lisbon tomorrow?"),
            ("assistant", '{"tool": "forecast", "city": "Lisbon"}'),
            ("tool", '{"high_c": 21, "low_c": 14, "sky": "sunny"}'),
            ("assistant", "Sunny, 14-21 °C. Pack sunglasses 😎"),
        ]
        for role, content in turns:
            message = service.append_message(session.id, role, content)
            print(f"  #{message.sequence} {role:<9} {content}")
        session = service.update_token_usage(session.id, input_tokens=412, output_tokens=96)
        print(
            f"token usage: {session.input_tokens} in + {session.output_tokens} out "
            f"= {session.total_tokens}"
        )

        document = service.export_session(session.id)
        text = json.dumps(document)
        print(
            f"exported {len(document['messages'])} messages, {len(text)} bytes, "
            f"checksum {document['checksum'][:16]}..."
        )
        copy = service.import_session(text)
        history = service.get_messages(copy.id)
        print(
            f"imported as new session {copy.id} with {len(history)} messages, "
            f"same contents: {[m.content for m in history] == [c for _, c in turns]}"
        )
        print(f"sessions of demo-agent now stored: {len(service.list(actor_name='demo-agent'))}")
    if own_file is not None:
        print(f"the demo wrote to its own file {own_file}; remove it with: rm {own_file}")
    else:
        print(
            f"to remove the two demo sessions: cleveragents sessions delete {session.id} --yes "
            f"and cleveragents sessions delete {copy.id} --yes (with the same --database-url)"
        )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
