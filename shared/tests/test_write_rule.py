"""Every database write goes through the shared store, by ``_id`` and ``version``.

FerretDB silently matches nothing when an update or delete filters through an array
path, so raw collection writes anywhere else in the code base are refused here.
"""

import re
from pathlib import Path

import pytest

from shared_kernel.infra.mongo import assert_write_filter

ROOT = Path(__file__).resolve().parents[2]
RAW_WRITE = re.compile(
    r"\.(update_one|update_many|replace_one|delete_one|delete_many|find_one_and_update|"
    r"find_one_and_replace|find_one_and_delete|bulk_write)\("
)
ALLOWED = {ROOT / "shared/src/shared_kernel/infra/mongo.py"}


def test_no_raw_writes_outside_the_shared_store() -> None:
    offenders = []
    for path in [*ROOT.glob("services/*/src/**/*.py"), *ROOT.glob("shared/src/**/*.py")]:
        if path in ALLOWED:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if RAW_WRITE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "write through DocumentStore instead:\n" + "\n".join(offenders)


@pytest.mark.parametrize("flt", [{"_id": "a"}, {"_id": "a", "version": 3}])
def test_write_filters_by_id_and_version_pass(flt: dict[str, object]) -> None:
    assert_write_filter(flt)


@pytest.mark.parametrize(
    "flt", [{"lines.worker_id": "x"}, {"_id": "a", "_outbox.id": "e"}, {"version": 1}, {}]
)
def test_other_write_filters_are_refused(flt: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="by _id and version"):
        assert_write_filter(flt)
