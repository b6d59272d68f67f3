"""A short tour of the library on the embedded SQLite default: ``python -m cleveragents.demo``."""

from __future__ import annotations

import json

from cleveragents.application.services import PersistentSessionService
from cleveragents.infrastructure.database import (
    default_database_url,
    displayable_url,
    upgrade_database,
)


def main(url: str | None = None, *, schema: str | None = None) -> None:
    """Run the tour on ``url`` (default: ``CLEVERAGENTS_DATABASE_URL`` or the embedded file),
    in ``schema`` on PostgreSQL when given."""
    url = url or default_database_url()
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


if __name__ == "__main__":
    main()
