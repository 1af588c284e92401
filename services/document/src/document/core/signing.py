"""Authenticity of a notice: content hash, signature, verification code (pure functions).

* The PDF's SHA-256 (``content_hash``) is signed with HMAC-SHA256 under the service's key
  (``sign``); ``verifies`` checks a signature in constant time.
* The verification code printed on a notice (and in its QR code) is derived from the
  notice number with the same key: short (16 base32 characters, 80 bits), unguessable
  without the key, and stable, so a re-rendered notice prints the same code.
* ``verdict`` is what the public verification endpoint shows of a notice: enough to
  recognise it (number, masked 技能者ID, trade, level, date, hash), no name; and
  ``public_view`` adds whether it is still the line's current notice (a superseded one is
  genuine but replaced by a re-judgement's: its number and date are named, not its result).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any

from document.core.lineage import Standing, standing_message_ja
from document.core.models import Notice

CODE_LENGTH = 16
CODE_ALPHABET = re.compile(r"^[A-Z2-7]{16}$")
# characters people misread on paper, mapped into the base32 alphabet
CONFUSABLES = str.maketrans({"0": "O", "1": "I", "8": "B"})


def content_hash(pdf: bytes) -> str:
    return hashlib.sha256(pdf).hexdigest()


def sign(key: str, digest: str) -> str:
    return hmac.new(key.encode(), digest.encode(), hashlib.sha256).hexdigest()


def verifies(key: str, digest: str, signature: str) -> bool:
    return hmac.compare_digest(sign(key, digest), signature)


def verification_code(key: str, notice_id: str) -> str:
    """``ABCD-EFGH-IJKL-MNOP``: names one notice; only the key holder can derive it."""
    mac = hmac.new(key.encode(), f"code:{notice_id}".encode(), hashlib.sha256).digest()
    text = base64.b32encode(mac[:10]).decode()
    return "-".join(text[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def normalise_code(typed: str) -> str | None:
    """A code as typed (any case, spaces or hyphens, 0/1/8 for O/I/B) in its printed form,
    or None when it cannot be a verification code."""
    text = re.sub(r"[\s\-‐－ー]", "", typed).upper().translate(CONFUSABLES)
    if not CODE_ALPHABET.match(text):
        return None
    return "-".join(text[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def mask_worker_id(worker_id: str) -> str:
    """``9900******0002``: enough to recognise a 技能者ID one holds, not to learn one."""
    if len(worker_id) <= 8:
        return "*" * len(worker_id)
    return worker_id[:4] + "*" * (len(worker_id) - 8) + worker_id[-4:]


@dataclass(frozen=True)
class Verdict:
    """Whether a notice is authentic: its signature verifies and its file is unchanged."""

    signature_valid: bool
    file_intact: bool

    @property
    def authentic(self) -> bool:
        return self.signature_valid and self.file_intact

    @property
    def message_ja(self) -> str:
        if self.authentic:
            return "この結果通知書は本システムが発行したもので、発行後に改変されていません。"
        if not self.signature_valid:
            return "署名を検証できません。この結果通知書は真正なものと確認できません。"
        return "保管されている結果通知書が発行時の内容と一致しません。"


def verdict(key: str, notice: Notice, stored_hash: str | None) -> Verdict:
    """Check a stored notice: the signature of its recorded hash, and that the stored file
    (hashed now; None when it is missing) still has that hash."""
    return Verdict(
        signature_valid=verifies(key, notice.sha256, notice.signature),
        file_intact=stored_hash is not None and hmac.compare_digest(stored_hash, notice.sha256),
    )


GENUINE_NOT_CURRENT_JA = (
    "この結果通知書自体は本システムが発行したもので、発行後に改変されていませんが、"
    "現在の判定結果ではありません。"
)


def message_ja(result: Verdict, standing: Standing) -> str:
    """The verification's answer: authenticity, and for a superseded notice the current one."""
    superseded = standing_message_ja(standing)
    if superseded is None:
        return result.message_ja
    if result.authentic:
        return superseded + GENUINE_NOT_CURRENT_JA
    return result.message_ja + superseded


def public_view(notice: Notice, result: Verdict, standing: Standing) -> dict[str, Any]:
    """What anyone holding the code (or the file) may see of a notice: of the line's current
    notice, when it is another one, only the number and the date."""
    return {
        "notice_id": notice.id,
        "verification_code": notice.code,
        "authentic": result.authentic,
        "signature_valid": result.signature_valid,
        "file_intact": result.file_intact,
        "current": standing.current,
        "sequence": standing.sequence,
        "superseded_by": standing.superseded_by,
        "current_notice_id": standing.current_notice_id,
        "current_issued_on": standing.current_issued_on,
        "message": message_ja(result, standing),
        "worker_id": mask_worker_id(notice.worker_id),
        "trade": notice.trade,
        "decision": notice.decision,
        "requested_level": notice.requested_level,
        "eligible_level": notice.eligible_level,
        "card_colour": notice.card_colour,
        "issued_on": notice.issued_on.isoformat(),
        "evaluation_body": notice.evaluation_body,
        "sha256": notice.sha256,
    }
