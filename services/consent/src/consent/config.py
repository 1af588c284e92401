"""Settings of the consent service (env prefix ``CONSENT_``)."""

from pydantic import Field

from shared_kernel.infra.settings import ServiceSettings, service_config

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

    # --- the CCUS check of a filing (docs/security.md, "個人情報利用申請 is no CCUS oracle") ---
    ccus_checks_per_employer: int = Field(default=300, ge=1)
    """How many worker rows one employer may have checked against CCUS per window (more:
    429 with ``Retry-After``). Shared by every replica (collection ``ccus_checks``)."""
    ccus_check_window_minutes: float = Field(default=60.0, gt=0)
    """The fixed window of ``CONSENT_CCUS_CHECKS_PER_EMPLOYER``."""
    ccus_failures_per_worker: int = Field(default=20, ge=1)
    """Failed checks of one 技能者ID, all employers together, per failure window; then the
    ID is refused to everyone until the window ends (429)."""
    ccus_failure_window_hours: float = Field(default=24.0, gt=0)
    """The window of ``CONSENT_CCUS_FAILURES_PER_WORKER`` and of the lock's failures."""
    ccus_lock_after_failures: int = Field(default=5, ge=1)
    """Failed checks of one employer on one 技能者ID (within the failure window) that lock
    the ID for that employer (423, right details or not)."""
    ccus_lock_hours: float = Field(default=24.0, gt=0)
    """How long such a lock lasts."""

    # --- disarming signed forms (docs/security.md, "Uploaded files are disarmed") ---------
    disarm_timeout_seconds: float = Field(default=30.0, gt=0)
    """Longest time to parse and rewrite one signed form (its turn included); longer: 422."""
    disarm_concurrency: int = Field(default=2, ge=1)
    """Signed forms parsed at the same time per process (the others wait their turn)."""
    max_pdf_pages: int = Field(default=100, ge=1)
    """Most pages a signed form (PDF) may have."""
    max_image_pixels: int = Field(default=89_478_485, ge=1)
    """Most pixels of a signed form (JPEG, PNG); a larger image is not decoded (422)."""
