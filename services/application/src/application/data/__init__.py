"""The service's reference data, kept as files beside this module (package data).

* ``prefectures.json``: the 47 都道府県 (JIS X 0401 order) offered for the card address;
* ``fee_schedule.json``: the fee per line and the dated waiver periods, with sources.

This module reads them; the core gets the parsed values.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from application.core.fees import FeeSchedule, parse_schedule


def _packaged(name: str) -> Any:
    return json.loads(resources.files(__name__).joinpath(name).read_text("utf-8"))


@lru_cache(maxsize=1)
def prefectures() -> tuple[str, ...]:
    """The 47 prefecture names in JIS code order."""
    names = tuple(p["name"] for p in _packaged("prefectures.json")["prefectures"])
    if len(names) != 47 or len(set(names)) != 47:
        raise ValueError("prefectures.json must list the 47 prefectures once each")
    return names


def fee_schedule(path: str | None = None) -> FeeSchedule:
    """The packaged fee schedule, or the file at ``path`` (``APPLICATION_FEE_SCHEDULE_FILE``)."""
    if path:
        return parse_schedule(json.loads(Path(path).read_text(encoding="utf-8")))
    return parse_schedule(_packaged("fee_schedule.json"))
