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


# --------------------------------------------------------------------------- criteria versions

CRITERIA_VERSION_ID = re.compile(
    r"^(?P<trade>.+)@(?P<date>\d{4}-\d{2}-\d{2})(?:-r(?P<revision>\d+))?$"
)


def criteria_version_name(trade: Any, effective_from: Any, revision: Any = 1) -> str:
    """``とび``, ``2020-03-04`` → 「とび（2020年3月4日施行）」; a correction (revision n > 1)
    「とび（2020年3月4日施行、訂正n）」."""
    text = f"{trade}（{jp_date(effective_from)}施行"
    try:
        number = int(revision or 1)
    except (TypeError, ValueError):
        number = 1
    if number > 1:
        text += f"、訂正{number}"
    return text + "）"


def criteria_version_ja(version_id: Any) -> str:
    """A criteria version id (``<分野>@<YYYY-MM-DD>`` or ``<分野>@<YYYY-MM-DD>-r<n>``) as
    every screen shows it: ``とび@2020-03-04`` → 「とび（2020年3月4日施行）」,
    ``とび@2020-03-04-r2`` → 「とび（2020年3月4日施行、訂正2）」; ``""`` for none; an id
    of another shape as it is."""
    if not version_id:
        return ""
    match = CRITERIA_VERSION_ID.match(str(version_id))
    if match is None:
        return str(version_id)
    return criteria_version_name(match["trade"], match["date"], match["revision"] or 1)


# --------------------------------------------------------------------------- 代行申請 lines

SIMPLE_REGISTRATION = "simple_registration"  # the application service's line warning code


def rejection_reason(line: Mapping[str, Any]) -> str | None:
    """Why a draft line will certainly be rejected, in the application service's words, or
    ``None``: a 簡略型 registration (the line's warning) or a judgement preview that says
    不承認 (``preview.likely_rejected``, with its unmet criteria)."""
    for warning in line.get("warnings") or []:
        if isinstance(warning, Mapping) and warning.get("code") == SIMPLE_REGISTRATION:
            return str(warning.get("message") or "簡略型の技能者登録のため判定できません")
    preview = line.get("preview")
    if isinstance(preview, Mapping) and preview.get("likely_rejected"):
        flag = str(preview.get("flag_ja") or line.get("flag_ja") or "不承認となる見込みです")
        unmet = [str(x) for x in preview.get("unmet") or [] if x]
        return f"{flag}（{'、'.join(unmet)}）" if unmet else flag
    return None


def doomed_lines(application: Mapping[str, Any], fee_yen: Any) -> list[dict[str, Any]]:
    """The lines of a draft that will certainly be rejected, each with ``reason`` and the
    ``fee_yen`` it would cost if submitted today (the line's own fee once fixed, else
    today's fee)."""
    found = []
    for line in application.get("lines") or []:
        if not isinstance(line, Mapping):
            continue
        reason = rejection_reason(line)
        if reason is not None:
            fee = line.get("fee_yen")
            found.append({**line, "reason": reason, "fee_yen": fee_yen if fee is None else fee})
    return found


def needs_preview(line: Mapping[str, Any]) -> bool:
    """A draft line without a judgement preview (the confirm step asks for one first)."""
    return not isinstance(line.get("preview"), Mapping)


def levels_span_ja(levels: Iterable[Any]) -> str:
    """Levels as one phrase: ``[3, 4]`` → 「レベル3～4」, ``[3]`` → 「レベル3」,
    ``[2, 4]`` → 「レベル2・4」; ``""`` for none (e.g. the master's 職長・班長 levels of
    ``/options``' ``management_required_levels``)."""
    found = sorted({int(x) for x in levels if str(x).strip().isdigit()})
    if not found:
        return ""
    if len(found) > 1 and found == list(range(found[0], found[-1] + 1)):
        return f"レベル{found[0]}～{found[-1]}"
    return "レベル" + "・".join(str(x) for x in found)
