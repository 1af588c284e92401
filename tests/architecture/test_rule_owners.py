"""One owner per rule (docs/architecture.md "Who owns which rule"): each test fails when a
second copy of a rule appears in the source, so that a change is made in one place.

* 経歴証明 cut-off dates, levels asking 職長・班長 time: the judgement master (`settings.yaml`,
  level tables); others read judgement's `GET /rules`;
* level labels and card colours: `shared_kernel.labels`;
* a first judgement ends the consent: consent's `CONSENT_END_ON_JUDGEMENT`; others read the
  consent's own term in `ConsentGranted.ends_on_first_judgement`;
* the fee of an application: application's `FeeSchedule`; the portal shows `fee_total_yen`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
SOURCE_SUFFIXES = {".py", ".html", ".typ", ".j2", ".txt", ".yaml", ".yml"}


def sources(*roots: str) -> Iterable[Path]:
    for root in roots:
        for path in sorted((ROOT / root).rglob("*")):
            if (
                path.is_file()
                and path.suffix in SOURCE_SUFFIXES
                and "__pycache__" not in path.parts
            ):
                yield path


def occurrences(pattern: re.Pattern[str], allowed: Iterable[str]) -> list[str]:
    allowed = tuple(allowed)
    found = []
    for path in sources("services", "shared/src"):
        rel = path.relative_to(ROOT).as_posix()
        if "/tests/" in f"/{rel}" or rel.startswith(allowed):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                found.append(f"{rel}:{number}: {line.strip()[:100]}")
    return found


def test_career_cut_off_dates_live_only_in_the_master() -> None:
    dates = re.compile(
        r"2024[-/]0?4[-/]0?1|2024, 4, 1|2024[-/]0?3[-/]31|2024, 3, 31|2029[-/]0?4[-/]0?1|2029, 4, 1"
        r"|2029[-/]0?3[-/]31|2029, 3, 31|2024年4月1日|2024年3月31日|2029年3月31日|2029年4月1日"
    )
    owner = (
        "services/judgement/src/judgement/criteria/",
        "services/judgement/src/judgement/core/master.py",
    )
    assert occurrences(dates, owner) == []


def test_level_labels_and_card_colours_live_only_in_shared_kernel_labels() -> None:
    colours = re.compile(r"ホワイト|ブルー|シルバー|ゴールド|#2f6db5|#b8bcc2|#c9a227")
    assert occurrences(colours, ("shared/src/shared_kernel/labels.py",)) == []


def test_the_consent_term_is_set_only_by_the_consent_service() -> None:
    setting = re.compile(
        r"consent_end(s)?_on_judgement|CONSENT_END(S)?_ON_JUDGEMENT", re.IGNORECASE
    )
    # the event catalogue documents who owns the term it carries
    owner = ("services/consent/", "shared/src/shared_kernel/events/catalogue.py")
    assert occurrences(setting, owner) == []


def test_the_fee_is_computed_only_by_the_application_service() -> None:
    product = re.compile(r"fee(_yen)?\s*\*\s*len\(|len\([^)]*\)\s*\*\s*fee")
    assert occurrences(product, ("services/application/",)) == []
