"""How values read on the pages (pure): dates in Japan time, yen, field ids, form data.

The services answer in ISO 8601 and English codes; the pages show 2026年11月28日,
4,000円 and the Japanese wording (levels and decisions: ``shared_kernel.labels``, the one
table for every screen, mail and PDF).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from shared_kernel.labels import decision_ja, level_ja
from shared_kernel.time import JST


def _parse(value: Any) -> date | datetime | None:
    if isinstance(value, datetime | date):
        return value
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def jp_date(value: Any) -> str:
    """``2026-11-28`` (or a timestamp, in Japan time) → ``2026年11月28日``."""
    parsed = _parse(value)
    if parsed is None:
        return "" if value is None else str(value)
    if isinstance(parsed, datetime):
        parsed = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(JST).date()
    return f"{parsed.year}年{parsed.month}月{parsed.day}日"


def jp_datetime(value: Any) -> str:
    """A timestamp → ``2026年11月28日 10:05``, in Japan time."""
    parsed = _parse(value)
    if parsed is None:
        return "" if value is None else str(value)
    if not isinstance(parsed, datetime):
        return jp_date(parsed)
    local = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(JST)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def yen(value: Any) -> str:
    try:
        return f"{int(value):,}円"
    except (TypeError, ValueError):
        return ""


def field_id(name: str) -> str:
    """An HTML id for a field named like the API: ``workers.0.name`` → ``f-workers-0-name``."""
    return "f-" + re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")


def months_ja(months: Any) -> str:
    try:
        total = int(months)
    except (TypeError, ValueError):
        return ""
    return f"{total // 12}年{total % 12}ヶ月"


def result_ja(decision: Any, level: Any) -> str:
    """A judgement's result in a few words: ``レベル2 承認``, ``レベル1 不承認``."""
    return " ".join(part for part in (level_ja(level, colour=False), decision_ja(decision)) if part)


def nested(flat: Mapping[str, str], prefix: str) -> dict[str, str]:
    """The fields of a form under ``prefix.`` (``employer.address`` → ``address``)."""
    start = prefix + "."
    return {k[len(start) :]: v for k, v in flat.items() if k.startswith(start)}


def rows(flat: Mapping[str, str], prefix: str, names: Iterable[str]) -> list[dict[str, str]]:
    """Numbered rows of a form (``workers.0.name``, ``workers.1.name`` …) in order.

    Row numbers need not be contiguous (a row may have been removed); an entirely empty
    row is dropped.
    """
    pattern = re.compile(rf"^{re.escape(prefix)}\.(\d+)\.(\w+)$")
    found: dict[int, dict[str, str]] = {}
    wanted = set(names)
    for key, value in flat.items():
        match = pattern.match(key)
        if match and match[2] in wanted:
            found.setdefault(int(match[1]), {})[match[2]] = value
    result = []
    for index in sorted(found):
        row = {name: found[index].get(name, "").strip() for name in names}
        if any(row.values()):
            result.append(row)
    return result


def checked(flat: Mapping[str, str], name: str) -> bool:
    return flat.get(name, "") in ("on", "true", "1", "yes")
