"""Rendering of an email's subject, plain text and HTML from Jinja2 templates.

Each email kind has three templates: ``<kind>.subject.txt``, ``<kind>.txt`` and ``<kind>.html``.
HTML templates are autoescaped, so a customer named ``<script>`` shows as text. An operator's
``templates_dir`` is searched first, file by file, so overriding one template is enough.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

BUILTIN_TEMPLATES = Path(__file__).parent / "templates"
_BLANK_LINES = re.compile(r"\n\s*\n")
_WHITESPACE = re.compile(r"\s+")


class TemplateProblem(Exception):
    """A template is missing or cannot be rendered; the message names the template and why."""


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def money(value: Decimal | int | float, currency: str = "") -> str:
    """``1234.5`` -> ``"1,234.50 EUR"``."""
    amount = f"{Decimal(str(value)):,.2f}"
    return f"{amount} {currency}".strip()


def long_date(value: date) -> str:
    """``2025-03-14`` -> ``"14 March 2025"`` (the same in every locale)."""
    months = (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    )  # fmt: skip
    return f"{value.day} {months[value.month - 1]} {value.year}"


def paragraphs(text: str) -> Markup:
    """Plain text as escaped HTML paragraphs: blank lines split them, single newlines break lines."""
    blocks = [block.strip() for block in _BLANK_LINES.split(text.replace("\r\n", "\n")) if block.strip()]
    return Markup("\n").join(
        Markup("<p>{}</p>").format(Markup("<br>\n").join(escape(line) for line in block.split("\n")))
        for block in blocks
    )


@lru_cache(maxsize=8)
def template_environment(override: Path | None = None) -> jinja2.Environment:
    """The Jinja2 environment over the operator's folder (if any) and the built-in templates."""
    loaders: list[jinja2.BaseLoader] = []
    if override is not None:
        loaders.append(jinja2.FileSystemLoader(override))
    loaders.append(jinja2.FileSystemLoader(BUILTIN_TEMPLATES))
    environment = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=jinja2.StrictUndefined,  # a typo in a template fails loudly, not as blank text
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters.update(money=money, long_date=long_date, paragraphs=paragraphs)
    return environment


def render_email(kind: str, context: Mapping[str, Any], override: Path | None = None) -> RenderedEmail:
    """Render the subject, text and HTML of email `kind` with `context`.

    Raises TemplateProblem when a template is missing or fails to render.
    """
    environment = template_environment(override)
    parts = {}
    for part, name in (("subject", f"{kind}.subject.txt"), ("text", f"{kind}.txt"), ("html", f"{kind}.html")):
        try:
            parts[part] = environment.get_template(name).render(context)
        except jinja2.TemplateNotFound:
            raise TemplateProblem(f"email template {name} not found") from None
        except jinja2.TemplateError as exc:
            where = f" (line {exc.lineno})" if isinstance(exc, jinja2.TemplateSyntaxError) else ""
            raise TemplateProblem(f"email template {name}{where}: {exc}") from None
    subject = _WHITESPACE.sub(" ", parts["subject"]).strip()
    if not subject:
        raise TemplateProblem(f"email template {kind}.subject.txt rendered an empty subject")
    return RenderedEmail(subject=subject, text=parts["text"], html=parts["html"])
