"""Input policies of the identity service: login ID, password, 事業者 details, permit number.

Pure functions. Each ``check_*`` returns the normalised value or raises
:class:`FieldProblem` with the Japanese message shown next to the field.

* **Login ID**: half-width ASCII letters and digits, 8–16 characters, taken exactly as typed
  (no normalisation, no trimming) and **case-sensitive**: ``Kensetsu01`` and ``kensetsu01``
  are two different IDs. It is the natural ``_id`` of the user document and never changes.
* **Password**: 8–128 half-width characters (letters, digits, ASCII symbols; no spaces),
  with an upper-case letter, a lower-case letter and a digit or a symbol (the seed's rule);
  not a common password (``data/common_passwords.txt``, 3,486 entries: compared ignoring
  case, without the digits and symbols around it and with look-alike digits read as
  letters, so ``Password1`` and ``P@ssw0rd!`` are refused); not containing the login ID
  (ignoring case). Never trimmed or normalised.
* **Names and addresses** (商号又は名称, 所在地, 代表者名): trimmed, NFC-normalised except
  CJK compatibility ideographs (異体字 such as 﨑 stay as typed); control characters, line
  and paragraph separators, format characters (every bidirectional control: RLO, LRO,
  PDF, the isolates; zero-width characters; the BOM), private-use, unassigned characters
  and lone surrogates are refused with a message naming the character.
* **建設業許可番号** (research.md §5.4): ``国土交通大臣許可(特-25)第123号`` or
  ``東京都知事許可(般-19)第1234号`` (Hokkaido may name its 振興局 before 第). Input is NFKC
  normalised (full-width parentheses and digits accepted), dashes unified, spaces removed.
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import asdict, dataclass
from functools import cache
from importlib.resources import files
from typing import Any


class FieldProblem(ValueError):
    """One field's value breaks its policy; ``message`` is shown to the user (Japanese)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- login ID ------------------------------------------------------------------------------

LOGIN_ID_MIN = 8
LOGIN_ID_MAX = 16
LOGIN_ID_PATTERN = re.compile(rf"[A-Za-z0-9]{{{LOGIN_ID_MIN},{LOGIN_ID_MAX}}}")
LOGIN_ID_MESSAGE = "ログインIDは半角英数字8〜16文字で入力してください"


def check_login_id(value: str | None) -> str:
    if not value:
        raise FieldProblem("ログインIDを入力してください")
    if not LOGIN_ID_PATTERN.fullmatch(value):
        raise FieldProblem(LOGIN_ID_MESSAGE)
    return value


def is_login_id(value: str) -> bool:
    return LOGIN_ID_PATTERN.fullmatch(value) is not None


# --- password ------------------------------------------------------------------------------

PASSWORD_MIN = 8
PASSWORD_MAX = 128
SYMBOLS = frozenset(string.punctuation)
PASSWORD_CHARACTERS = frozenset(string.ascii_letters + string.digits) | SYMBOLS


@cache
def common_passwords() -> frozenset[str]:
    """The refused common passwords (lower case), shipped with the package."""
    text = files("identity").joinpath("data/common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


_AFFIXES = re.compile(r"^[0-9\W_]+|[0-9\W_]+$")
_LEET = (  # look-alike digits and symbols read as letters (1 and ! as i, then as l)
    str.maketrans("0134578@$!|", "oieastbasil"),
    str.maketrans("0134578@$!|", "oleastbasll"),
)


def _bases(password: str) -> set[str]:
    lowered = password.lower()
    stripped = _AFFIXES.sub("", lowered)
    found = {lowered, stripped}
    for table in _LEET:
        found |= {lowered.translate(table), stripped.translate(table)}
        found.add(_AFFIXES.sub("", lowered.translate(table)))
    return {b for b in found if len(b) >= 4}


def common_password(password: str) -> bool:
    """Whether the password is a common one, as typed or decorated (``Password1``,
    ``P@ssw0rd!``, ``Welcome2026``: digits and symbols around it, look-alike digits)."""
    return not _bases(password).isdisjoint(common_passwords())


def check_password(value: str | None, login_id: str | None, *, label: str = "パスワード") -> str:
    """The password policy of 利用者本申請 and password change."""
    if not value:
        raise FieldProblem(f"{label}を入力してください")
    if any(c not in PASSWORD_CHARACTERS for c in value):
        raise FieldProblem(f"{label}は半角の英字・数字・記号で入力してください（空白は使えません）")
    if len(value) < PASSWORD_MIN:
        raise FieldProblem(f"{label}は{PASSWORD_MIN}文字以上で入力してください")
    if len(value) > PASSWORD_MAX:
        raise FieldProblem(f"{label}は{PASSWORD_MAX}文字以内で入力してください")
    has_upper = any(c in string.ascii_uppercase for c in value)
    has_lower = any(c in string.ascii_lowercase for c in value)
    has_digit_or_symbol = any(c in string.digits or c in SYMBOLS for c in value)
    if not (has_upper and has_lower and has_digit_or_symbol):
        raise FieldProblem(
            f"{label}は英大文字・英小文字と、数字または記号を組み合わせて入力してください"
        )
    if login_id and login_id.casefold() in value.casefold():
        raise FieldProblem(f"{label}にログインIDを含めることはできません")
    if common_password(value):
        raise FieldProblem(
            f"{label}はよく使われているため使用できません。"
            "推測されにくい、ほかのサービスで使っていないものを設定してください"
        )
    return value


# --- 事業者 details ------------------------------------------------------------------------

DASHES = "‐‑‒–—―−ーｰ﹣"  # read as "-" (NFKC already maps the full-width hyphen-minus)
_DASH_TABLE = str.maketrans(dict.fromkeys(DASHES, "-"))
_SPACE = re.compile(r"\s+")


def _nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value).translate(_DASH_TABLE)


def check_employer_id(value: str | None) -> str:
    """事業者ID: 14 digits (full-width digits, spaces and hyphens accepted)."""
    if not value or not value.strip():
        raise FieldProblem("事業者IDを入力してください")
    digits = _SPACE.sub("", _nfkc(value)).replace("-", "")
    if not re.fullmatch(r"[0-9]{14}", digits):
        raise FieldProblem("事業者IDは14桁の数字で入力してください")
    return digits


EMAIL_MAX = 254
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


def check_email(value: str | None) -> str:
    if not value or not value.strip():
        raise FieldProblem("メールアドレスを入力してください")
    text = unicodedata.normalize("NFKC", value).strip()
    if len(text) > EMAIL_MAX or not _EMAIL.fullmatch(text):
        raise FieldProblem("メールアドレスの形式が正しくありません")
    local, _, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"


REFUSED_CATEGORIES = {
    "Cc": "制御文字",
    "Cf": "書式制御文字",
    "Cs": "サロゲート",
    "Co": "私用領域の文字",
    "Cn": "未割り当ての文字",
    "Zl": "改行文字",
    "Zp": "段落区切り文字",
}
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def _is_compatibility_ideograph(c: str) -> bool:
    code = ord(c)
    return 0xF900 <= code <= 0xFAFF or 0x2F800 <= code <= 0x2FA1F


def normalise_name(text: str) -> str:
    """NFC, except CJK compatibility ideographs (異体字), which stay as typed."""
    parts: list[str] = []
    run: list[str] = []
    for c in text:
        if _is_compatibility_ideograph(c):
            parts.append(unicodedata.normalize("NFC", "".join(run)))
            parts.append(c)
            run = []
        else:
            run.append(c)
    parts.append(unicodedata.normalize("NFC", "".join(run)))
    return "".join(parts)


def refused_character(text: str) -> str | None:
    """A description of the first character a name may not hold, e.g. ``U+202E：書字方向の
    制御文字``; ``None`` when there is none."""
    for c in text:
        category = unicodedata.category(c)
        if c in BIDI_CONTROLS:
            return f"U+{ord(c):04X}：書字方向の制御文字"
        if category in REFUSED_CATEGORIES:
            return f"U+{ord(c):04X}：{REFUSED_CATEGORIES[category]}"
    return None


def check_text(value: str | None, label: str, max_length: int) -> str:
    """A required free text (商号又は名称, 所在地, 代表者名): trimmed and normalised; control,
    separator, format (bidi), private-use and unassigned characters refused."""
    text = (value or "").strip()
    if not text:
        raise FieldProblem(f"{label}を入力してください")
    refused = refused_character(text)
    if refused:
        raise FieldProblem(f"{label}に使用できない文字（{refused}）が含まれています")
    text = normalise_name(text)
    if len(text) > max_length:
        raise FieldProblem(f"{label}は{max_length}文字以内で入力してください")
    return text


def check_phone(value: str | None) -> str:
    """電話番号: 10 or 11 digits starting with 0, hyphens (or parentheses) allowed.

    Stored NFKC-normalised with parentheses written as hyphens: ``03(1234)5678`` →
    ``03-1234-5678``.
    """
    if not value or not value.strip():
        raise FieldProblem("電話番号を入力してください")
    text = _SPACE.sub("", _nfkc(value))
    text = re.sub(r"[()]", "-", text).strip("-")
    text = re.sub(r"-{2,}", "-", text)
    digits = text.replace("-", "")
    if not re.fullmatch(r"[0-9-]+", text) or not re.fullmatch(r"0[0-9]{9,10}", digits):
        raise FieldProblem(
            "電話番号は0から始まる10桁または11桁の数字で入力してください（ハイフン可）"
        )
    return text


# --- 建設業許可番号 ------------------------------------------------------------------------

MINISTER = "国土交通大臣"
# fmt: off
PREFECTURES = (  # in JIS X 0401 order: the index + 1 is the prefecture code
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県",
    "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県",
    "山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府",
    "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県",
    "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県",
    "鹿児島県", "沖縄県",
)
# fmt: on
AUTHORITY_CODES: dict[str, str] = {MINISTER: "00"} | {
    f"{name}知事": f"{n:02d}" for n, name in enumerate(PREFECTURES, 1)
}
"""大臣知事コード: 00 for the minister, the JIS prefecture code for a governor."""
HOKKAIDO_OFFICES = frozenset("石渡檜後空上留宗オ網胆日十釧根")
"""One-character 振興局 marks a 北海道知事許可 may carry before 第."""
KINDS = {"般": "general", "特": "special"}
PERMIT_NUMBER_MESSAGE = (
    "建設業許可番号は「国土交通大臣許可(特-25)第123号」または"
    "「東京都知事許可(般-19)第1234号」の形式で入力してください"
)
_PERMIT = re.compile(
    r"(?P<authority>[^()]+?)許可"
    r"\((?P<kind>[般特])-(?P<year>[0-9]{1,2})\)"
    r"(?P<office>[^0-9第])?"
    r"第(?P<number>[0-9]{1,6})号"
)


@dataclass(frozen=True)
class PermitNumber:
    """A parsed 建設業許可番号, stored normalised."""

    authority: str  # 国土交通大臣 or <都道府県>知事
    authority_code: str  # 大臣知事コード: 00 / 01–47
    kind: str  # 般 (一般建設業) or 特 (特定建設業)
    year: int  # two-digit Japanese-era year of the permit
    number: int  # 業者番号, up to 6 digits
    office: str | None = None  # 北海道の振興局 mark, if given

    @property
    def text(self) -> str:
        """The canonical display form: ``東京都知事許可(般-19)第1234号``."""
        office = self.office or ""
        return f"{self.authority}許可({self.kind}-{self.year:02d}){office}第{self.number}号"

    @property
    def code(self) -> str:
        """The machine form used in 経審 results: ``13-001234``."""
        return f"{self.authority_code}-{self.number:06d}"

    def to_document(self) -> dict[str, Any]:
        return {**asdict(self), "text": self.text, "code": self.code}

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> PermitNumber:
        return cls(
            authority=doc["authority"],
            authority_code=doc["authority_code"],
            kind=doc["kind"],
            year=int(doc["year"]),
            number=int(doc["number"]),
            office=doc.get("office"),
        )


def parse_permit_number(value: str) -> PermitNumber:
    """Parse a 建設業許可番号 in its documented display form; raise :class:`FieldProblem`."""
    text = _SPACE.sub("", _nfkc(value))
    match = _PERMIT.fullmatch(text)
    if match is None:
        raise FieldProblem(PERMIT_NUMBER_MESSAGE)
    authority = match["authority"]
    code = AUTHORITY_CODES.get(authority)
    if code is None:
        raise FieldProblem(
            "建設業許可番号の許可権者は「国土交通大臣」または「都道府県知事」"
            "（例：東京都知事）で入力してください"
        )
    office = match["office"]
    if office is not None and (authority != "北海道知事" or office not in HOKKAIDO_OFFICES):
        raise FieldProblem(PERMIT_NUMBER_MESSAGE)
    year, number = int(match["year"]), int(match["number"])
    if year == 0 or number == 0:
        raise FieldProblem(PERMIT_NUMBER_MESSAGE)
    return PermitNumber(authority, code, match["kind"], year, number, office)


def check_permit_number(value: str | None) -> PermitNumber | None:
    """Optional: empty means no permit (the seed: making it mandatory was a spec error)."""
    if value is None or not value.strip():
        return None
    return parse_permit_number(value)
