"""Normalisation of names and codes, so that spellings that mean the same thing compare equal.

Pure functions; the replacement table itself is data (``name_replacements`` in the master
settings), this module only applies it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_SPACES = re.compile(r"\s+")
_OCCUPATION = re.compile(r"^(\d{2})-?(\d{2})$")


def normalise_name(name: str, replacements: Sequence[tuple[str, str]] = ()) -> str:
    """NFKC, no whitespace, ASCII lower case, then the master's replacements in order.

    Replacements are matched against NFKC text, so the master writes them in NFKC form
    (e.g. ``一級`` → ``1級``, ``玉掛け`` → ``玉掛``).
    """
    text = unicodedata.normalize("NFKC", name)
    text = _SPACES.sub("", text).lower()
    for old, new in replacements:
        text = text.replace(old, new)
    return text


def normalise_code(code: str) -> str:
    """A CCUS 資格コード as written, without spaces and in half-width digits."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", code))


def normalise_occupation(code: str) -> str:
    """A CCUS 職種 code in the ``NN-NN`` form (``０６－０１``, ``0601`` and ``06-01`` alike)."""
    text = _SPACES.sub("", unicodedata.normalize("NFKC", code))
    text = text.replace("ー", "-").replace("−", "-").replace("‐", "-")
    match = _OCCUPATION.match(text)
    if match:
        return f"{match.group(1)}-{match.group(2)}"
    return text
