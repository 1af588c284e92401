"""How values read in a Japanese mail: times in Japan time, dates, yen, levels.

Levels and decisions read as everywhere else (``shared_kernel.labels``, the one table)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from shared_kernel.labels import decision_ja, level_ja

TOKYO = ZoneInfo("Asia/Tokyo")
SCOPE_JA = {
    "view_ccus_data": "CCUS登録情報の閲覧",
    "proxy_application": "レベル判定の代行申請",
    "card_issuance": "建設キャリアアップカードの発行申請",
    "fee": "手数料の取扱い",
}


def jst(value: datetime | str) -> str:
    """``2026年11月20日 09:05（日本時間）``; naive datetimes are taken as UTC."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    local = moment.astimezone(TOKYO)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}（日本時間）"


def date_ja(value: date | datetime | str) -> str:
    """``2026年11月20日`` (a datetime is shown as its date in Japan)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = (value if value.tzinfo else value.replace(tzinfo=ZoneInfo("UTC"))).astimezone(TOKYO)
    return f"{value.year}年{value.month}月{value.day}日"


def yen(amount: int) -> str:
    """``4,000円``."""
    return f"{amount:,}円"


def level(value: int) -> str:
    """``レベル3`` (the mails name no card colour)."""
    return level_ja(value, colour=False)


def decision(value: str) -> str:
    """``承認`` / ``不承認`` (an unknown value as it is)."""
    return decision_ja(value) or value


def scope(value: str) -> str:
    return SCOPE_JA.get(value, value)


FILTERS = {
    "jst": jst,
    "date_ja": date_ja,
    "yen": yen,
    "level": level,
    "decision": decision,
    "scope": scope,
}
