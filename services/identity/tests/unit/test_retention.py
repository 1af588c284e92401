"""The login history is deleted after its retention (docs/identity.md "Retention")."""

from __future__ import annotations

from datetime import timedelta

from identity.config import Settings
from identity.inject import wire
from shared_kernel.runtime import build_runtime


def test_sessions_and_failed_attempts_are_kept_for_the_login_history_retention() -> None:
    runtime = build_runtime(Settings(login_history_retention_days=30, environment="test"))
    wire(runtime)
    assert runtime.retention["sessions"] == ("expires_at", timedelta(days=30))
    assert runtime.retention["login_attempts"] == ("last_failure_at", timedelta(days=30))
    assert "inbox" in runtime.retention
