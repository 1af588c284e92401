"""Settings of the portal service (env prefix ``PORTAL_``).

The portal holds no data of its own: it serves pages and calls the other services' HTTP
APIs with the user's bearer token. Its settings are the services' addresses, the secret
that seals its session cookie, and the operations screen's sampling.
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from shared_kernel.infra.http_client import PoolSettings
from shared_kernel.infra.settings import ServiceSettings, service_config

DEVELOPMENT_COOKIE_SECRET = "changethis-portal-cookie-secret-development-only"


class Settings(ServiceSettings):
    model_config = service_config("PORTAL_")

    service_name: str = "portal"
    http_port: int = 8000
    db_name: str = "portal"

    identity_url: str = "http://127.0.0.1:8001"
    """Base URL of the identity service (利用者仮申請, 本申請, login, sessions)."""
    consent_url: str = "http://127.0.0.1:8002"
    """Base URL of the consent service (個人情報利用申請)."""
    application_url: str = "http://127.0.0.1:8003"
    """Base URL of the application service (レベル判定代行申請)."""
    judgement_url: str = "http://127.0.0.1:8004"
    """Base URL of the judgement service (分野, 判定結果, 審査)."""
    notification_url: str = "http://127.0.0.1:8005"
    """Base URL of the notification service (operations screen only)."""
    document_url: str = "http://127.0.0.1:8006"
    """Base URL of the document service (結果通知書, 個人情報利用同意書)."""

    service_timeout_seconds: float = Field(default=10.0, gt=0)
    """Timeout of each wait of a call to a service (sending, reading, a free connection); a
    service that does not answer in time is shown to the user as unavailable (HTTP 503)."""
    service_connect_timeout_seconds: float = Field(default=3.0, gt=0)
    """Longest wait to connect to a service (within the timeout above)."""
    service_max_connections: int = Field(default=20, ge=1)
    """Connections to one service at once (one pooled client per service); a call finding
    none free waits for one within the timeout."""
    service_max_keepalive_connections: int = Field(default=10, ge=0)
    """Idle connections kept open to one service for the next calls (keep-alive)."""
    service_keepalive_seconds: float = Field(default=4.0, ge=0)
    """How long an idle connection is kept; below the services' own keep-alive (uvicorn
    closes idle connections after 5 s), so that no call picks one being closed."""

    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    """Largest signed consent form the portal forwards (it protects the portal's memory; the
    consent service applies its own, smaller limit and says so in Japanese). The upload's
    whole request body may be 64 KiB more (multipart framing); past that the read stops and
    the answer is 413."""
    max_form_bytes: int = Field(default=256 * 1024, ge=1024)
    """Largest request body of every other route (login, registration, the forms): counted
    while it is read, before anything parses it; past it the answer is 413."""

    cookie_secret: SecretStr = SecretStr(DEVELOPMENT_COOKIE_SECRET)
    """Secret that seals the portal's session cookie (AES + HMAC; at least 32 bytes and not a
    placeholder outside development and test)."""
    cookie_name: str = "noryoku_portal"
    """Name of the portal's own session cookie (HttpOnly, SameSite=Lax)."""
    cookie_secure: bool = False
    """Always mark the portal's cookie Secure (it is Secure anyway on an HTTPS request)."""
    https_only: bool = False
    """The portal is only served over HTTPS (e.g. behind a TLS-terminating proxy that does not
    send ``X-Forwarded-Proto``): send ``Strict-Transport-Security`` on every answer (it is sent
    anyway on HTTPS requests) and mark the cookie Secure."""
    session_max_hours: float = Field(default=12.0, gt=0)
    """Longest life of the portal's cookie; identity's session (12 h) ends it earlier."""
    identity_session_cookie: str = "noryoku_session"
    """Name of identity's session cookie, which the portal keeps sealed inside its own and
    sends back to identity to renew the access token and to log out."""
    token_refresh_margin_seconds: float = Field(default=60.0, ge=0)
    """Renew the access token through identity this long before it expires."""

    ops_sample_seconds: float = Field(default=5.0, gt=0)
    """How often the operations screen's sampler reads every service's /metrics."""
    ops_window_minutes: float = Field(default=15.0, gt=0)
    """How much history the sampler keeps in memory (throughput over the last minutes)."""
    ops_services: str = "identity,consent,application,judgement,notification,document,portal"
    """Services shown on the operations screen (comma-separated; each needs a ``*_url``,
    the portal reads its own metrics in-process)."""

    def service_urls(self) -> dict[str, str]:
        """The services the portal calls, by name."""
        return {
            "identity": self.identity_url,
            "consent": self.consent_url,
            "application": self.application_url,
            "judgement": self.judgement_url,
            "notification": self.notification_url,
            "document": self.document_url,
        }

    def service_pool(self) -> PoolSettings:
        """How the portal's pooled client of each service connects (``PORTAL_SERVICE_*``)."""
        return PoolSettings(
            timeout_seconds=self.service_timeout_seconds,
            connect_seconds=self.service_connect_timeout_seconds,
            max_connections=self.service_max_connections,
            max_keepalive=self.service_max_keepalive_connections,
            keepalive_seconds=self.service_keepalive_seconds,
        )
