"""Session stores for agent frameworks, built on the async session service.

Each adapter lives in its own module and imports its framework there, so the library
imports without any framework installed: ``cleveragents.integrations.openai_agents``
needs the ``openai-agents`` extra, ``cleveragents.integrations.langchain`` the ``langchain``
extra, ``cleveragents.integrations.adk`` the ``adk`` extra.
"""
