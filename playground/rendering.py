"""The playground's templates, rendered with its own autoescaping environment, so its routes
mount into any Litestar app without that app configuring templates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from litestar import MediaType, Response

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
_JINJA = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,  # every pane's text is echoed back; never as markup
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(template: str, context: dict[str, Any], *, headers: dict[str, str] | None = None) -> Response[str]:
    """An HTML response from one of the playground's templates.

    >>> render("message.html", {"message": "no such example"}).content
    'no such example'
    """
    html = _JINJA.get_template(f"playground/{template}").render(context)
    return Response(content=html, media_type=MediaType.HTML, headers=headers or {})
