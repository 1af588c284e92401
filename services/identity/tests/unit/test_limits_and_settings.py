"""Unit tests of the in-process rate limiter, token helpers, the settings' key checks, the
trusted proxies and the names' characters."""

from __future__ import annotations

import string

import pytest

from identity.adapters.inbound.client import forwarded_client, parse_proxies
from identity.adapters.inbound.ratelimit import SlidingWindowLimiter
from identity.config import Settings
from identity.core.policies import check_password
from identity.core.tokens import ALPHABET, generate_password, session_key
from shared_kernel.infra.auth import SigningKey


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_sliding_window_allows_limit_then_waits_for_the_oldest_hit() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(3, 60, clock=clock)
    assert [limiter.hit("ip") for _ in range(3)] == [None, None, None]
    clock.now += 10
    assert limiter.hit("ip") == pytest.approx(50.0)
    assert limiter.hit("other") is None  # keys are independent
    clock.now += 50  # the first three hits leave the window
    assert limiter.hit("ip") is None


def test_sliding_window_forgets_the_least_recent_keys() -> None:
    limiter = SlidingWindowLimiter(1, 60, clock=Clock(), max_keys=2)
    assert limiter.hit("a") is None and limiter.hit("b") is None
    assert limiter.hit("c") is None  # "a" is dropped
    assert limiter.hit("a") is None
    assert limiter.hit("c") is not None


def test_generated_passwords_are_random_and_satisfy_the_policy() -> None:
    seen = {generate_password(12) for _ in range(200)}
    assert len(seen) == 200
    for password in seen:
        assert len(password) == 12 and set(password) <= set(ALPHABET)
        assert check_password(password, "Kensetsu01") == password
        assert not set(password) & set("0O1lI")
    assert set(generate_password(16)) & set(string.digits)


def test_session_key_is_a_sha256_of_the_token() -> None:
    assert session_key("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_signing_keys_are_required_outside_development_and_test() -> None:
    assert Settings(environment="development").configured_keys() == []  # then a key of its own
    with pytest.raises(ValueError, match="IDENTITY_SIGNING_KEYS must be set"):
        Settings(environment="production")
    with pytest.raises(ValueError, match="no PEM private key"):
        Settings(environment="production", signing_keys="changethis-development-key")
    first, second = SigningKey.generate(), SigningKey.generate()
    settings = Settings(environment="production", signing_keys=first.pem() + second.pem())
    assert [k.kid for k in settings.configured_keys()] == [first.kid, second.kid]
    assert settings.insecure_secrets() == []
    assert "PRIVATE" not in repr(settings)


def test_trusted_proxies_and_the_forwarded_client() -> None:
    proxies = parse_proxies("127.0.0.1, 10.0.0.0/8, ::1")
    assert forwarded_client("198.51.100.1", "192.0.2.9", proxies) == "198.51.100.1"  # no proxy
    assert forwarded_client("127.0.0.1", "192.0.2.9", proxies) == "192.0.2.9"
    # what the caller put first is not believed: the last hop the proxies added is
    assert forwarded_client("10.0.0.5", "6.6.6.6, 192.0.2.9, 10.0.0.4", proxies) == "192.0.2.9"
    assert forwarded_client("10.0.0.5", "not-an-ip, 192.0.2.9", proxies) == "192.0.2.9"
    assert forwarded_client("10.0.0.5", None, proxies) == "10.0.0.5"
    assert forwarded_client("127.0.0.1", "192.0.2.9", ()) == "127.0.0.1"  # none configured
    with pytest.raises(ValueError):
        parse_proxies("10.0.0.0/33")


def test_names_are_normalised_and_control_and_bidi_characters_refused() -> None:
    from identity.core.policies import FieldProblem, check_text

    assert check_text("  株式会社髙﨑建設  ", "商号又は名称", 100) == "株式会社髙﨑建設"
    assert check_text("ｶ\u3099", "x", 10) == "ｶ\u3099"  # NFC, not NFKC
    assert check_text("カ\u3099", "x", 10) == "ガ"  # NFC composes
    assert check_text("\uf929", "x", 10) == "\uf929"  # a compatibility ideograph stays as typed
    assert check_text("葛\U000e0100", "x", 10) == "葛\U000e0100"  # a variation selector is kept
    for bad, named in (
        ("株式会社\u202eABC", "U+202E：書字方向の制御文字"),
        ("\u2066名前\u2069", "U+2066：書字方向の制御文字"),
        ("名前\u200b", "U+200B：書式制御文字"),
        ("名前\u2028改行", "U+2028：改行文字"),
        ("名前\x07", "U+0007：制御文字"),
        ("名前\ue000", "U+E000：私用領域の文字"),
    ):
        with pytest.raises(FieldProblem) as raised:
            check_text(bad, "商号又は名称", 100)
        assert raised.value.message == f"商号又は名称に使用できない文字（{named}）が含まれています"
