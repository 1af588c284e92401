"""Settings of the consent service (env prefix ``CONSENT_``)."""

from pydantic import Field

from shared_kernel.settings import ServiceSettings, service_config

TEN_MEGABYTES = 10 * 1024 * 1024


class Settings(ServiceSettings):
    model_config = service_config("CONSENT_")

    service_name: str = "consent"
    http_port: int = 8002
    db_name: str = "consent"

    auto_approve: bool = False
    """Approve a complete application (signed form attached) without an evaluator
    (``CONSENT_AUTO_APPROVE``; off by default, on in the demo stack)."""
    valid_days: int = Field(default=365, ge=1, le=3660)
    """How long a granted consent is valid, in days from the day it was granted."""
    end_on_judgement: bool = True
    """A granted consent ends when the first judgement of a line of that employer's worker
    completes after the grant (a re-judgement ends nothing; docs/consent.md)."""
    max_upload_bytes: int = Field(default=TEN_MEGABYTES, ge=1)
    """Largest signed consent form accepted (10 MB)."""
    max_workers_per_application: int = Field(default=100, ge=1)
    """How many workers one 個人情報利用申請 may list."""
