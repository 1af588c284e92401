"""カード送付先 (card delivery address): normalisation and validation, pure.

Input arrives as typed in a browser: full-width digits and hyphens are normalised with
NFKC, and the usual dash look-alikes (ー, ‐, −, –, —) are read as hyphens in the postal code
and the phone number. The 47 prefectures are data (``data/prefectures.json``, loaded by
``application.data`` and passed in).

A draft may hold an incomplete address (each given field must be well formed); the
submission needs a complete one (``complete_errors``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from typing import Any

from application.core.errors import FieldError

DASHES = "‐‑‒–—―−ーｰ－﹣"
POSTAL_CODE = re.compile(r"^(\d{3})-?(\d{4})$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")

FIELDS_JA = {
    "postal_code": "郵便番号",
    "prefecture": "都道府県",
    "city_address": "市区町村・番地",
    "building": "建物名",
    "addressee": "宛名",
    "phone": "電話番号",
}
REQUIRED = ("postal_code", "prefecture", "city_address", "addressee", "phone")
MAX_LENGTH = {"city_address": 100, "building": 100, "addressee": 60}


def _unify_dashes(text: str) -> str:
    return "".join("-" if ch in DASHES else ch for ch in text)


def _text(value: Any) -> str:
    """NFKC, whitespace tidied (runs of spaces become one ASCII space)."""
    return " ".join(unicodedata.normalize("NFKC", str(value)).split())


def normalise_postal_code(value: str) -> str | None:
    """``NNN-NNNN`` from full-width or hyphen-less input; ``None`` if it is not one."""
    cleaned = _unify_dashes(unicodedata.normalize("NFKC", value)).replace(" ", "").strip()
    match = POSTAL_CODE.match(cleaned)
    return f"{match.group(1)}-{match.group(2)}" if match else None


def normalise_phone(value: str) -> str | None:
    """A Japanese phone number (10 or 11 digits, starting with 0), hyphens kept as typed."""
    cleaned = _unify_dashes(unicodedata.normalize("NFKC", value))
    cleaned = re.sub(r"[\s()]", "-", cleaned).strip("-")
    cleaned = re.sub(r"-{2,}", "-", cleaned)
    digits = cleaned.replace("-", "")
    if not digits.isascii() or not digits.isdigit() or len(digits) not in (10, 11):
        return None
    return cleaned if digits.startswith("0") else None


def normalise_prefecture(value: str, prefectures: Collection[str]) -> str | None:
    name = _text(value).replace(" ", "")
    return name if name in prefectures else None


def validate(
    raw: dict[str, Any] | None, prefix: str, prefectures: Collection[str]
) -> tuple[dict[str, str | None], list[FieldError]]:
    """Normalise the given fields; every given field must be well formed (none required)."""
    address: dict[str, str | None] = dict.fromkeys(FIELDS_JA)
    errors: list[FieldError] = []
    if raw is None:
        return address, errors
    for name in FIELDS_JA:
        value = raw.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if not isinstance(value, str):
            errors.append(
                FieldError(
                    f"{prefix}.{name}", "invalid", f"{FIELDS_JA[name]}は文字で入力してください"
                )
            )
            continue
        field = f"{prefix}.{name}"
        if name == "postal_code":
            postal = normalise_postal_code(value)
            if postal is None:
                errors.append(
                    FieldError(
                        field,
                        "invalid_postal_code",
                        "郵便番号は「123-4567」の形式（半角数字7桁）で入力してください",
                    )
                )
            address[name] = postal
        elif name == "prefecture":
            prefecture = normalise_prefecture(value, prefectures)
            if prefecture is None:
                errors.append(
                    FieldError(
                        field,
                        "invalid_prefecture",
                        "都道府県は47都道府県の中から選択してください（例：東京都）",
                    )
                )
            address[name] = prefecture
        elif name == "phone":
            phone = normalise_phone(value)
            if phone is None:
                errors.append(
                    FieldError(
                        field,
                        "invalid_phone",
                        "電話番号は0から始まる10桁または11桁の数字で入力してください"
                        "（例：03-1234-5678）",
                    )
                )
            address[name] = phone
        else:
            text = _text(value)
            if CONTROL.search(text):
                errors.append(
                    FieldError(
                        field, "invalid", f"{FIELDS_JA[name]}に使用できない文字が含まれています"
                    )
                )
            elif len(text) > MAX_LENGTH[name]:
                errors.append(
                    FieldError(
                        field,
                        "too_long",
                        f"{FIELDS_JA[name]}は{MAX_LENGTH[name]}文字以内で入力してください",
                    )
                )
            address[name] = text
    return address, errors


def complete_errors(address: dict[str, Any] | None, prefix: str) -> list[FieldError]:
    """What a submission needs: every required field present (建物名 is optional)."""
    return [
        FieldError(f"{prefix}.{name}", "required", f"{FIELDS_JA[name]}を入力してください")
        for name in REQUIRED
        if not (address or {}).get(name)
    ]


def is_empty(address: dict[str, Any] | None) -> bool:
    return not address or not any(address.get(name) for name in FIELDS_JA)


def one_line(address: dict[str, Any] | None) -> str:
    """〒123-4567 東京都千代田区… 建物 宛名 (for display)."""
    if is_empty(address):
        return ""
    assert address is not None
    parts = [
        f"〒{address['postal_code']}" if address.get("postal_code") else "",
        (address.get("prefecture") or "") + (address.get("city_address") or ""),
        address.get("building") or "",
        f"{address['addressee']} 様" if address.get("addressee") else "",
    ]
    return " ".join(p for p in parts if p)
