"""ASV benchmarks for cleveragents-core; run them with ``nox -s benchmark``."""
