"""The worker line's form → the application service's body: which levels ask the years as
職長 and 班長 is the service's answer (``/options``' ``management_required_levels``)."""

from __future__ import annotations

from portal.adapters.inbound.pages_applications import line_body

TYPED = {"foreman.years": "2", "foreman.months": "0", "leader.years": "", "leader.months": ""}


def test_an_asked_level_sends_both_roles_empty_ones_included() -> None:
    body = line_body({"requested_level": "3", **TYPED}, None, [3, 4])
    assert body["foreman"] == {"years": "2", "months": "0"}
    assert body["leader"] == {"years": None, "months": None}


def test_the_levels_come_from_the_service_not_from_the_portal() -> None:
    assert "foreman" not in line_body({"requested_level": "3", **TYPED}, None, [4])
    assert "leader" in line_body({"requested_level": "2", **TYPED}, None, [2])
    assert "foreman" not in line_body({"requested_level": "2", **TYPED}, None, [3, 4])


def test_an_unreadable_level_sends_what_was_typed_for_the_service_to_judge() -> None:
    body = line_body({"requested_level": "x", **TYPED}, None, [3, 4])
    assert body["foreman"] == {"years": "2", "months": "0"} and "leader" not in body
