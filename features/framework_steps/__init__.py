"""Step modules that import an agent framework: ``environment.py`` loads each with the first
feature tagged for its framework, so test processes that run no such feature skip seconds of
framework imports."""
