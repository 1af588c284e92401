"""The service's HTML pages (the public verification page): Jinja2, autoescaped."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(str(resources.files("document") / "templates"))


def html_environment(templates: Path = TEMPLATES) -> Environment:
    """The Jinja2 environment of the service's HTML templates."""
    return Environment(
        loader=FileSystemLoader(str(templates)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
