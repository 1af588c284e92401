"""The portal's sealed session cookie and the CSRF checks (pure)."""

from __future__ import annotations

import pytest

from portal.adapters.outbound.session_cookie import SessionCodec
from portal.core import csrf
from portal.core.session import Session

SECRET = "unit-test-secret-that-is-long-enough-0123456789"
NOW = 1_800_000_000.0


def logged_in() -> Session:
    session = Session()
    session.log_in(
        login_id="kensetsu2026",
        role="employer",
        employer_id="10000000000001",
        identity_session="identity-session-token",
        access_token="header.payload.signature",
        access_expires_at=NOW + 900,
        session_expires_at=NOW + 12 * 3600,
    )
    return session


def test_a_sealed_session_opens_to_the_same_values() -> None:
    codec = SessionCodec(SECRET, 3600)
    session = logged_in()
    session.add_flash("success", "申請しました（𠮷野 翔太）")
    opened = codec.open(codec.seal(session, NOW), NOW + 10)
    assert opened == session
    assert opened is not None and opened.flash == [["success", "申請しました（𠮷野 翔太）"]]
    assert opened.dirty is False


def test_the_cookie_hides_the_tokens_it_carries() -> None:
    value = SessionCodec(SECRET, 3600).seal(logged_in(), NOW)
    assert "identity-session-token" not in value
    assert "kensetsu2026" not in value
    assert value.isascii()


@pytest.mark.parametrize("position", [0, 20, 60, 200])
def test_a_changed_character_makes_the_cookie_worthless(position: int) -> None:
    codec = SessionCodec(SECRET, 3600)
    value = codec.seal(logged_in(), NOW)
    flipped = "A" if value[position] != "A" else "B"
    tampered = value[:position] + flipped + value[position + 1 :]
    assert tampered != value
    assert codec.open(tampered, NOW) is None


def test_another_key_or_an_old_cookie_or_garbage_is_refused() -> None:
    value = SessionCodec(SECRET, 3600).seal(logged_in(), NOW)
    assert SessionCodec(SECRET + "x", 3600).open(value, NOW) is None
    assert SessionCodec(SECRET, 3600).open(value, NOW + 3601) is None
    assert SessionCodec(SECRET, 3600).open(value, NOW + 3599) is not None
    for junk in ("", None, "not-a-token", "ééé"):
        assert SessionCodec(SECRET, 3600).open(junk, NOW) is None


def test_login_renews_the_csrf_token_and_logout_forgets_everything() -> None:
    session = Session()
    before = session.csrf
    session.log_in(
        login_id="a",
        role="operator",
        employer_id=None,
        identity_session="s",
        access_token="t",
        access_expires_at=NOW + 60,
        session_expires_at=None,
    )
    assert session.authenticated and session.csrf != before and session.dirty
    during = session.csrf
    session.add_flash("info", "ログアウトしました。")
    session.log_out()
    assert not session.authenticated
    assert session.login_id is None and session.access_token is None
    assert session.identity_session is None and session.role is None
    assert session.csrf not in (before, during)
    assert session.pop_flash() == [["info", "ログアウトしました。"]]
    assert session.pop_flash() == []


def test_token_renewal_is_due_shortly_before_expiry() -> None:
    session = logged_in()  # expires at NOW + 900
    assert not session.token_due(NOW, 60)
    assert not session.token_due(NOW + 839, 60)
    assert session.token_due(NOW + 840, 60)
    assert Session().token_due(NOW, 60)
    assert not session.expired(NOW + 12 * 3600 - 1)
    assert session.expired(NOW + 12 * 3600)


def test_a_payload_of_another_format_version_is_not_a_session() -> None:
    payload = logged_in().to_payload()
    assert payload["v"] == 1 and "dirty" not in payload
    assert Session.from_payload({**payload, "v": 2}) is None
    assert Session.from_payload({"v": 1}) is None
    session = logged_in()
    assert Session.from_payload({**session.to_payload(), "unknown": 1}) == session


def test_csrf_tokens_compare_exactly() -> None:
    token = "abc-DEF_123"
    assert csrf.token_matches(token, token)
    assert not csrf.token_matches(token, token + "x")
    assert not csrf.token_matches(token, token.lower())
    assert not csrf.token_matches(token, None)
    assert not csrf.token_matches(None, None)
    assert not csrf.token_matches("", "")


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        (None, "127.0.0.1:8000", True),
        ("http://127.0.0.1:8000", "127.0.0.1:8000", True),
        ("https://portal.example.jp", "portal.example.jp", True),
        ("http://127.0.0.1:8001", "127.0.0.1:8000", False),
        ("https://evil.example", "portal.example.jp", False),
        ("null", "portal.example.jp", False),
        ("http://PORTAL.example.jp", "portal.example.jp", True),
    ],
)
def test_the_origin_must_be_the_portal(origin: str | None, host: str, allowed: bool) -> None:
    assert csrf.same_origin(origin, host) is allowed
    assert csrf.request_allowed(expected="t", submitted="t", origin=origin, host=host) is allowed
    assert not csrf.request_allowed(expected="t", submitted="u", origin=origin, host=host)
