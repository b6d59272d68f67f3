"""Side by side with the agent frameworks' own session stores: ``nox -s compare_peers``.

The same workloads (durable appends, append cost as a session grows, listing, the latest
messages, the full history, deleting a long session) run against this library and against the
session stores of Google ADK and the OpenAI Agents SDK, on the same SQLite file settings and on
PostgreSQL. Each store is reached through its own public API behind the small common interface
in :mod:`benchmarks.peers.store`; the durability settings each one really runs with are read
back through its own connection and printed with its row.

The peers are imported lazily, inside the adapters, so that ASV's discovery of ``benchmarks/``
can import this package in an environment that does not have them.
"""
