"""Jinja2 templates of the mails (``notification/templates/<name>/``).

Each mail has ``subject.txt``, ``body.txt`` (plain text) and ``body.html`` (HTML, with
autoescaping); they share ``_footer.txt`` and ``_layout.html``. Undefined values are
errors, so a template that names a value the core does not give fails in the unit tests.
"""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from notification.core.formatting import FILTERS
from notification.core.message import one_line


class JinjaRenderer:
    def __init__(self) -> None:
        self.env = Environment(
            loader=PackageLoader("notification", "templates"),
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters.update(FILTERS)

    def render(self, template: str, context: dict[str, object]) -> tuple[str, str, str]:
        subject = self.env.get_template(f"{template}/subject.txt").render(context)
        text = self.env.get_template(f"{template}/body.txt").render(context)
        html = self.env.get_template(f"{template}/body.html").render(context)
        return one_line(subject), text, html
