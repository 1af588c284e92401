"""Unit tests of the in-process rate limiter, token helpers and the settings' secret checks."""

from __future__ import annotations

import string

import pytest

from identity.adapters.inbound.ratelimit import SlidingWindowLimiter
from identity.config import DEVELOPMENT_MAIL_SEALING_KEY, Settings
from identity.core.policies import check_password
from identity.core.tokens import ALPHABET, generate_password, session_key


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


def test_placeholder_sealing_key_is_refused_outside_development() -> None:
    assert Settings(environment="development").mail_sealing_key.get_secret_value() == (
        DEVELOPMENT_MAIL_SEALING_KEY
    )
    strong = "x" * 40
    with pytest.raises(ValueError, match="mail_sealing_key holds a placeholder"):
        Settings(environment="production", JWT_SECRET=strong)
    with pytest.raises(ValueError, match="at least 32 bytes"):
        Settings(environment="production", JWT_SECRET=strong, MAIL_SEALING_KEY="short")
    ok = Settings(environment="production", JWT_SECRET=strong, MAIL_SEALING_KEY="y" * 40)
    assert ok.mail_sealing_key.get_secret_value() == "y" * 40
