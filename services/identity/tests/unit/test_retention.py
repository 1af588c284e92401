"""The login history, the registration counts, the list of ended sessions and
never-activated registrations are deleted after their retention (docs/identity.md
"Retention")."""

from __future__ import annotations

from datetime import timedelta

from identity.config import Settings
from identity.inject import wire
from shared_kernel.infra.runtime import build_runtime


def test_sessions_and_failed_attempts_are_kept_for_the_login_history_retention() -> None:
    runtime = build_runtime(Settings(login_history_retention_days=30, environment="test"))
    wire(runtime)
    assert runtime.retention["sessions"] == ("expires_at", timedelta(days=30))
    assert runtime.retention["login_attempts"] == ("last_seen_at", timedelta(days=30))
    assert runtime.retention["registration_limits"] == ("window_end", timedelta(0))
    assert runtime.retention["revocations"] == ("keep_until", timedelta(0))
    assert runtime.retention["users"] == ("pending_until", timedelta(0))
    assert "inbox" in runtime.retention
