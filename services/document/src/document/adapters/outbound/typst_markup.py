"""Untrusted text and values written into Typst source, printed literally.

The PDFs are Typst documents: a fixed template per kind (``templates/*.typ``) and, per
document, a few generated lines that call it with the document's data (``call``). Names,
employer names, reasons and messages come from users and partner systems; Typst markup
gives meaning to many ASCII characters (``#`` starts code, ``*`` and ``_`` emphasis, ``$``
maths, ``[``/``]`` content, ``<``/``>`` labels, ``@`` references, ``//`` comments, ``=``
``-`` ``+`` ``/`` at a line's start headings and lists, ``~`` ``--`` ``...`` ``'`` ``"``
shorthands and smart quotes, ``\\`` escapes, ``http://`` links). So every text is written
as a content block ``[…]`` in which **every** ASCII punctuation character is escaped with a
backslash (Typst's escape sequence, valid for any character); letters, digits and every
non-ASCII character (kanji, kana, full-width forms) are written as they are. Line breaks
and other whitespace controls become a space (an HTML page collapsed them the same way),
other control characters and lone surrogates are dropped or replaced.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from string import punctuation

_ESCAPED = {ord(c): "\\" + c for c in punctuation}  # every ASCII punctuation character
# Typst's newlines (and tabs, form feeds): a space, as HTML collapsed them
_SPACES = {ord(c): " " for c in "\t\n\x0b\x0c\r\x85\u2028\u2029"}
# other C0/C1 controls: dropped; lone surrogates (possible in a decoded JSON string): U+FFFD
_DROPPED = {c: None for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)] if c not in _SPACES}
_SURROGATES = {c: "\ufffd" for c in range(0xD800, 0xE000)}
_MARKUP = str.maketrans({**_DROPPED, **_SURROGATES, **_SPACES, **_ESCAPED})
_STRING = str.maketrans({**_DROPPED, **_SURROGATES, **_SPACES, ord("\\"): "\\\\", ord('"'): '\\"'})


def escape(text: str) -> str:
    """``text`` as Typst markup that prints exactly ``text`` (whitespace controls as spaces)."""
    return text.translate(_MARKUP)


def content(text: str) -> str:
    """A Typst content block printing ``text`` literally: ``[…]``."""
    return f"[{escape(text)}]"


def string(text: str) -> str:
    """A Typst string literal of ``text`` (for dictionary keys and document metadata)."""
    return f'"{text.translate(_STRING)}"'


@dataclass(frozen=True)
class Code:
    """Typst code written as it is: only for code the renderer builds itself."""

    source: str


def value(item: object) -> str:
    """A Python value as a Typst expression: text as literal content blocks, numbers,
    booleans, ``none``, arrays and dictionaries (string keys), ``Code``; nothing else
    (a ``TypeError`` rather than a guess)."""
    if item is None:
        return "none"
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int):
        return str(item)
    if isinstance(item, str):
        return content(item)
    if isinstance(item, Code):
        return item.source
    if isinstance(item, Mapping):
        if not item:
            return "(:)"
        pairs = []
        for key, inner in item.items():
            if not isinstance(key, str):
                raise TypeError(f"Typst dictionary keys are strings, not {type(key).__name__}")
            pairs.append(f"{string(key)}: {value(inner)}")
        return "(" + ", ".join(pairs) + ")"
    if isinstance(item, Sequence) and not isinstance(item, bytes | bytearray):
        return "(" + "".join(f"{value(inner)}, " for inner in item) + ")"
    raise TypeError(f"no Typst value for {type(item).__name__}")


def call(module: str, function: str, data: Mapping[str, object]) -> str:
    """The main source of one document: import ``function`` and ``pdf_title`` from the
    template ``module`` (a file beside the main source), call ``function`` with ``data`` as
    one dictionary, and set the PDF's title to ``pdf_title(data)`` after the content (a
    style set before it would differ from one document to the next, and Typst would
    then reuse none of the layout of the previous documents)."""
    if not (module.endswith(".typ") and function.isidentifier() and "/" not in module):
        raise ValueError(f"not a template: {module}:{function}")
    return (
        f'#import "{module}": {function}, pdf_title\n'
        f"#let data = {value(data)}\n"
        f"#{function}(data)\n"
        "#set document(title: pdf_title(data))\n"
    )
