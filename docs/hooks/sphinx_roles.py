"""MkDocs hook: render the Sphinx roles some docstrings use (``:class:`~pkg.Name```).

mkdocstrings reads the docstrings as Markdown, where a role would show up literally as
``:class:`` before the code span. This turns each into a code span linked to the object when
the API reference documents it (an optional cross-reference, so an undocumented target is
plain code, never a warning).
"""

from __future__ import annotations

import re
from typing import Any

ROLE = re.compile(r":(?:class|meth|func|mod|attr|exc|data|obj):<code>(~?)([\w.]+)(\(\))?</code>")


def on_page_content(html: str, **_: Any) -> str:
    def link(role: re.Match[str]) -> str:
        short, target, call = role.group(1), role.group(2), role.group(3) or ""
        shown = target.rsplit(".", 1)[-1] if short else target
        return (
            f'<autoref optional identifier="{target}"><code>{shown}{call}</code></autoref>'
            if "." in target
            else f"<code>{shown}{call}</code>"
        )

    return ROLE.sub(link, html)
