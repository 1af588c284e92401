"""Validation of a 個人情報利用申請: pure functions, Japanese messages per field.

The request models are deliberately lenient (every field optional, text as text) so that
every mistake is reported here, in Japanese and naming its field, rather than by pydantic.
A field is named as the portal's form names it: ``employer.address``,
``workers.0.name_kana``, ``consent_items.fee``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, ConfigDict

from consent.core.ccus import CcusWorker
from consent.core.errors import on_field
from shared_kernel.errors import FieldError
from shared_kernel.events.catalogue import ConsentScope

WORKER_ID = re.compile(r"^\d{14}$")
# After NFKC: full-width katakana (ァ…ヺ), ー, ・, ヽ, ヾ and single spaces between parts.
KATAKANA = re.compile(
    r"^[\u30a1-\u30fa\u30fb\u30fc\u30fd\u30fe]+( [\u30a1-\u30fa\u30fb\u30fc\u30fd\u30fe]+)*$"
)
ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
PHONE = re.compile(r"^0\d{1,4}-?\d{1,4}-?\d{3,4}$")
POSTAL_CODE = re.compile(r"^(\d{3})-?(\d{4})$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Characters that change how the text around them is shown (書字方向の制御文字: RLO U+202E,
# LRO, PDF, embeddings, isolates, marks), named for the messages. Every other format
# character (category Cf: zero-width joiners, BOM, tag characters …) is refused as well.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
REFUSED_CATEGORIES = {
    "Cc": "制御文字",  # C0 and C1 controls, DEL
    "Cf": "書式制御文字",  # invisible format characters
    "Zl": "行区切り文字",  # U+2028
    "Zp": "段落区切り文字",  # U+2029
    "Cs": "サロゲート",
}

EARLIEST_BIRTH_DATE = date(1900, 1, 1)
MINIMUM_AGE = 15

NAME_MAX = 50
KANA_MAX = 100

MESSAGE_SIMPLE_REGISTRATION = (
    "簡略型の技能者はレベル判定を受けられません（詳細型での登録が必要です）"
)
MESSAGE_CCUS_MISMATCH = "入力内容がCCUSの登録情報と一致しません"
MESSAGE_NAME_DIFFERS = (
    "氏名（漢字）がCCUSの登録内容と一致しません。"
    "異体字などの違いでなければ入力内容を確認してください"
)

SCOPES: tuple[ConsentScope, ...] = ("view_ccus_data", "proxy_application", "card_issuance", "fee")
SCOPE_LABELS: dict[ConsentScope, str] = {
    "view_ccus_data": (
        "能力評価実施団体（及びその委託先）が、技能者ID等を用いて建設キャリアアップシステムに"
        "登録された技能者の個人情報を閲覧すること"
    ),
    "proxy_application": (
        "所属事業者等が技能者に代わって能力評価（レベル判定）を申請すること（代行申請）"
    ),
    "card_issuance": "レベル判定の後、建設キャリアアップカードの交付を申請すること",
    "fee": "能力評価及びカード交付に係る手数料の負担について",
}
SCOPE_SHORT: dict[ConsentScope, str] = {
    "view_ccus_data": "CCUS登録情報の閲覧",
    "proxy_application": "代行申請",
    "card_issuance": "判定後のカード交付申請",
    "fee": "手数料",
}


# --- request models (lenient; the checks below report every problem in Japanese) ----------


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class EmployerInput(_Lenient):
    """所属事業者の情報 (prefilled from the employer's profile, editable per application)."""

    employer_name: str | None = None
    representative_name: str | None = None
    postal_code: str | None = None
    address: str | None = None
    phone_number: str | None = None
    contact_name: str | None = None
    email: str | None = None
    permit_number: str | None = None


class WorkerInput(_Lenient):
    """技能者情報: 技能者ID, 氏名 (kanji), 氏名カナ, 生年月日 (YYYY-MM-DD)."""

    worker_id: str | int | None = None
    name: str | None = None
    name_kana: str | None = None
    birth_date: str | None = None


class ConsentItemsInput(_Lenient):
    """The four items of the 個人情報利用同意書; each must be ticked."""

    view_ccus_data: bool = False
    proxy_application: bool = False
    card_issuance: bool = False
    fee: bool = False


class ApplicationInput(_Lenient):
    employer: EmployerInput = EmployerInput()
    workers: list[WorkerInput] = []
    consent_items: ConsentItemsInput = ConsentItemsInput()


# --- normalisation -------------------------------------------------------------------------


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def collapse_spaces(text: str) -> str:
    return " ".join(text.split())


def normalise_worker_id(raw: str | int) -> str:
    """Full-width digits become ASCII; spaces and hyphens between groups are dropped."""
    return re.sub(r"[\s\-]", "", nfkc(str(raw)))


def normalise_kana(raw: str) -> str:
    """NFKC (half-width kana become full-width), runs of spaces become one space."""
    return collapse_spaces(nfkc(raw))


def normalise_name(raw: str) -> str:
    """The kanji name as entered (異体字 kept), with its spacing tidied."""
    return collapse_spaces(raw.replace("\u3000", " "))


def refused_character(text: str) -> str | None:
    """The first character of ``text`` that may not be entered, described in Japanese
    (``"U+202E：書字方向の制御文字"``), or ``None``.

    Refused: control characters (C0, C1, DEL), line and paragraph separators (U+2028,
    U+2029) and format characters (category Cf), among them every bidirectional control
    (RLO U+202E, LRO, PDF, LRE, RLE, the isolates U+2066–U+2069, LRM, RLM, ALM): shown to
    an evaluator or printed on a form they reverse or hide text ("gpj.exe", a name that
    reads differently). Variation selectors (異体字, category Mn) are kept.
    """
    for char in text:
        category = unicodedata.category(char)
        if char in BIDI_CONTROLS:
            return f"U+{ord(char):04X}：書字方向の制御文字"
        if category in REFUSED_CATEGORIES:
            return f"U+{ord(char):04X}：{REFUSED_CATEGORIES[category]}"
    return None


def name_key(text: str) -> str:
    """What two names are compared by: NFKC, without any whitespace."""
    return re.sub(r"\s+", "", nfkc(text))


# --- single fields -------------------------------------------------------------------------


def check_worker_id(raw: str | int | None) -> tuple[str | None, str | None]:
    """``(normalised id, None)`` or ``(None, message)``."""
    if raw is None or str(raw).strip() == "":
        return None, "技能者IDを入力してください"
    worker_id = normalise_worker_id(raw)
    if not WORKER_ID.fullmatch(worker_id):
        return None, "技能者IDは14桁の数字で入力してください"
    return worker_id, None


def check_kana(raw: str | None) -> tuple[str | None, str | None]:
    if raw is None or raw == "":
        return None, "氏名カナを入力してください"
    if (refused := refused_character(raw)) is not None:
        return None, f"氏名カナに使用できない文字（{refused}）が含まれています"
    kana = normalise_kana(raw)
    if len(kana) > KANA_MAX:
        return None, f"氏名カナは{KANA_MAX}文字以内で入力してください"
    if not KATAKANA.fullmatch(kana):
        return None, "氏名カナは全角カタカナで入力してください"
    return kana, None


def check_name(raw: str | None) -> tuple[str | None, str | None]:
    if raw is None or raw == "":
        return None, "氏名を入力してください"
    if (refused := refused_character(raw)) is not None:
        return None, f"氏名に使用できない文字（{refused}）が含まれています"
    name = normalise_name(raw)
    if len(name) > NAME_MAX:
        return None, f"氏名は{NAME_MAX}文字以内で入力してください"
    return name, None


def check_birth_date(raw: str | None, today: date) -> tuple[date | None, str | None]:
    """A ``YYYY-MM-DD`` date (full-width digits and ``/`` accepted) in a plausible range."""
    if raw is None or raw == "":
        return None, "生年月日を入力してください"
    match = ISO_DATE.fullmatch(nfkc(raw).replace("/", "-"))
    if match is None:
        return None, "生年月日は YYYY-MM-DD の形式で入力してください（例：1980-04-01）"
    try:
        born = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None, "生年月日が正しい日付ではありません"
    if born > today:
        return None, "生年月日に未来の日付は入力できません"
    if born < EARLIEST_BIRTH_DATE:
        return None, "生年月日を確認してください（1900年より前の日付です）"
    if age_on(born, today) < MINIMUM_AGE:
        return None, f"生年月日を確認してください（{MINIMUM_AGE}歳未満です）"
    return born, None


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


# --- the whole application -----------------------------------------------------------------


@dataclass(frozen=True)
class Worker:
    index: int
    worker_id: str
    name: str
    name_kana: str
    birth_date: date

    @property
    def field(self) -> str:
        return f"workers.{self.index}"


@dataclass(frozen=True)
class Application:
    employer: dict[str, str | None]
    workers: list[Worker]
    scopes: list[ConsentScope]


def _required_text(
    errors: list[FieldError], field: str, value: str | None, label: str, limit: int
) -> str | None:
    if value is None or value == "":
        errors.append(on_field(field, f"{label}を入力してください"))
        return None
    return _text(errors, field, value, label, limit)


def _text(
    errors: list[FieldError], field: str, value: str | None, label: str, limit: int
) -> str | None:
    if value is None or value == "":
        return None
    if (refused := refused_character(value)) is not None:
        errors.append(on_field(field, f"{label}に使用できない文字（{refused}）が含まれています"))
        return None
    if len(value) > limit:
        errors.append(on_field(field, f"{label}は{limit}文字以内で入力してください"))
        return None
    return collapse_spaces(value)


def check_employer(employer: EmployerInput, errors: list[FieldError]) -> dict[str, str | None]:
    """The employer's details for this application (建設業許可番号 is optional)."""
    f = "employer."
    details: dict[str, str | None] = {
        "employer_name": _required_text(
            errors, f + "employer_name", employer.employer_name, "事業者名", 100
        ),
        "representative_name": _required_text(
            errors, f + "representative_name", employer.representative_name, "代表者名", NAME_MAX
        ),
        "address": _required_text(errors, f + "address", employer.address, "所在地", 200),
        "contact_name": _text(
            errors, f + "contact_name", employer.contact_name, "担当者名", NAME_MAX
        ),
        "permit_number": _text(
            errors, f + "permit_number", employer.permit_number, "建設業許可番号", 60
        ),
        "postal_code": None,
        "phone_number": None,
        "email": None,
    }
    if employer.postal_code:
        match = POSTAL_CODE.fullmatch(nfkc(employer.postal_code))
        if match is None:
            errors.append(
                on_field(f + "postal_code", "郵便番号は7桁の数字で入力してください（例：100-0001）")
            )
        else:
            details["postal_code"] = f"{match[1]}-{match[2]}"
    if not employer.phone_number:
        errors.append(on_field(f + "phone_number", "電話番号を入力してください"))
    else:
        phone = nfkc(employer.phone_number).replace("ー", "-").replace(" ", "")
        digits = phone.replace("-", "")
        if not PHONE.fullmatch(phone) or not 10 <= len(digits) <= 11:
            errors.append(
                on_field(
                    f + "phone_number",
                    "電話番号は数字とハイフンで入力してください（例：03-1234-5678）",
                )
            )
        else:
            details["phone_number"] = phone
    if employer.email:
        email = nfkc(employer.email)
        if len(email) > 254 or not EMAIL.fullmatch(email):
            errors.append(on_field(f + "email", "メールアドレスの形式が正しくありません"))
        else:
            details["email"] = email
    return details


def check_worker(
    index: int, worker: WorkerInput, today: date, errors: list[FieldError]
) -> Worker | None:
    f = f"workers.{index}."
    worker_id, id_error = check_worker_id(worker.worker_id)
    name, name_error = check_name(worker.name)
    kana, kana_error = check_kana(worker.name_kana)
    born, born_error = check_birth_date(worker.birth_date, today)
    for field, message in (
        ("worker_id", id_error),
        ("name", name_error),
        ("name_kana", kana_error),
        ("birth_date", born_error),
    ):
        if message is not None:
            errors.append(on_field(f + field, message))
    if worker_id is None or name is None or kana is None or born is None:
        return None
    return Worker(index, worker_id, name, kana, born)


def check_consent_items(items: ConsentItemsInput, errors: list[FieldError]) -> list[ConsentScope]:
    ticked = items.model_dump()
    for scope in SCOPES:
        if not ticked[scope]:
            errors.append(
                on_field(f"consent_items.{scope}", f"「{SCOPE_SHORT[scope]}」への同意が必要です")
            )
    return [s for s in SCOPES if ticked[s]]


def check_application(
    body: ApplicationInput, today: date, *, max_workers: int
) -> tuple[Application, list[FieldError]]:
    """Every error of the request (not only the first); the CCUS checks come after."""
    errors: list[FieldError] = []
    employer = check_employer(body.employer, errors)
    workers: list[Worker] = []
    if not body.workers:
        errors.append(on_field("workers", "技能者を1人以上入力してください"))
    elif len(body.workers) > max_workers:
        errors.append(on_field("workers", f"一度に申請できる技能者は{max_workers}人までです"))
    else:
        seen: set[str] = set()
        for index, raw in enumerate(body.workers):
            worker = check_worker(index, raw, today, errors)
            if worker is None:
                continue
            if worker.worker_id in seen:
                errors.append(
                    on_field(f"workers.{index}.worker_id", "同じ技能者IDが重複して入力されています")
                )
                continue
            seen.add(worker.worker_id)
            workers.append(worker)
    scopes = check_consent_items(body.consent_items, errors)
    return Application(employer, workers, scopes), errors


# --- against the CCUS record ----------------------------------------------------------------


def ccus_mismatch(worker: Worker) -> FieldError:
    """The one answer for a worker row that does not match CCUS, whatever is wrong.

    An unknown 技能者ID, another kana and another birth date all get this same error, on
    the row (``workers.N``), not on a field: an answer that named the wrong field told
    which 技能者IDs exist and, one birth date after another, a worker's birth date.
    """
    return on_field(
        worker.field,
        (
            f"技能者 {worker.index + 1}：{MESSAGE_CCUS_MISMATCH}"
            "（技能者ID・氏名カナ・生年月日をご確認ください）"
        ),
    )


def matches_ccus(worker: Worker, record: CcusWorker | None) -> bool:
    """Whether the row's 技能者ID exists and its kana and birth date are those of CCUS."""
    if record is None:
        return False
    same_kana = name_key(worker.name_kana) == name_key(record.name_kana)
    return same_kana and worker.birth_date == record.birth_date


def check_against_ccus(
    worker: Worker, record: CcusWorker | None
) -> tuple[list[FieldError], list[dict[str, str]]]:
    """Errors (one uniform mismatch, :func:`ccus_mismatch`) and, for a matching row only,
    warnings (簡略型, kanji name)."""
    if not matches_ccus(worker, record):
        return [ccus_mismatch(worker)], []
    assert record is not None
    f = worker.field
    warnings: list[dict[str, str]] = []
    if record.registration_type == "simple":
        warnings.append(
            {
                "field": f + ".worker_id",
                "code": "simple_registration",
                "message": MESSAGE_SIMPLE_REGISTRATION,
            }
        )
    if name_key(worker.name) != name_key(record.name):
        warnings.append(
            {"field": f + ".name", "code": "name_differs", "message": MESSAGE_NAME_DIFFERS}
        )
    return [], warnings
