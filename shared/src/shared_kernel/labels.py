"""How the scheme names levels and decisions, for every screen, mail and PDF (one table).

research.md §2.1: the card colour of each level. The document service prints these on the
結果通知書, the portal shows them, notification writes them in mails: none keeps a copy
(``tests/architecture/test_rule_owners.py``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CardColour:
    name_ja: str
    hex: str

    @property
    def rgb(self) -> tuple[int, int, int]:
        """The swatch's colour as red, green, blue (0–255)."""
        value = self.hex.lstrip("#")
        return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


CARD_COLOURS: dict[int, CardColour] = {
    1: CardColour("ホワイト", "#ffffff"),
    2: CardColour("ブルー", "#2f6db5"),
    3: CardColour("シルバー", "#b8bcc2"),
    4: CardColour("ゴールド", "#c9a227"),
}
DECISIONS_JA = {"approved": "承認", "rejected": "不承認"}


def card_colour(level: int) -> CardColour:
    return CARD_COLOURS[level]


def level_ja(level: object, colour: bool = True) -> str:
    """``3`` → ``レベル3（シルバー）`` (``レベル3`` without the card colour); ``""`` for none."""
    if isinstance(level, bool) or not isinstance(level, (int, str)):
        return ""
    try:
        number = int(level)
    except ValueError:
        return ""
    card = CARD_COLOURS.get(number)
    if colour and card is not None:
        return f"レベル{number}（{card.name_ja}）"
    return f"レベル{number}"


def decision_ja(decision: object) -> str:
    """``approved`` → ``承認`` (``""`` for an unknown one)."""
    return DECISIONS_JA.get(str(decision), "") if decision is not None else ""
