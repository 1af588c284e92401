"""Settings of the application service (env prefix ``APPLICATION_``)."""

from pydantic import Field

from shared_kernel.infra.http_client import PoolSettings
from shared_kernel.infra.settings import ServiceSettings, service_config


class Settings(ServiceSettings):
    model_config = service_config("APPLICATION_")

    service_name: str = "application"
    http_port: int = 8003
    db_name: str = "application"

    judgement_url: str = "http://127.0.0.1:8004"
    """Base URL of the judgement service (judgeable trades, CCUS summary, preview)."""
    judgement_timeout_seconds: float = Field(default=5.0, gt=0)
    """How long each wait of a call to the judgement service (sending, reading, a free
    connection) may take before it counts as an outage."""
    judgement_connect_timeout_seconds: float = Field(default=3.0, gt=0)
    """Longest wait to connect to the judgement service (within the timeout above)."""
    judgement_max_connections: int = Field(default=20, ge=1)
    """Connections to the judgement service at once (one pooled client); a call finding
    none free waits for one within the timeout."""
    judgement_max_keepalive_connections: int = Field(default=10, ge=0)
    """Idle connections kept open to the judgement service for the next calls."""
    judgement_keepalive_seconds: float = Field(default=4.0, ge=0)
    """How long an idle connection is kept; below the judgement service's own keep-alive
    (uvicorn closes idle connections after 5 s)."""
    trades_cache_seconds: float = Field(default=60.0, ge=0)
    """How long the judgeable trades fetched from the judgement service are reused."""
    draft_reminder_after_hours: float = Field(default=72.0, ge=0)
    """A draft with worker lines left unsubmitted this long gets ApplicationDraftReminder
    (at most once a day per draft)."""
    draft_reminder_sweep_seconds: float = Field(default=300.0, gt=0)
    """How often drafts are checked for the reminder."""
    fee_schedule_file: str | None = None
    """A fee schedule JSON file replacing the packaged one (data/fee_schedule.json)."""
    max_lines: int = Field(default=100, ge=1, le=1000)
    """How many workers (lines) one application may hold."""

    def judgement_pool(self) -> PoolSettings:
        """How the pooled client of the judgement service connects."""
        return PoolSettings(
            timeout_seconds=self.judgement_timeout_seconds,
            connect_seconds=self.judgement_connect_timeout_seconds,
            max_connections=self.judgement_max_connections,
            max_keepalive=self.judgement_max_keepalive_connections,
            keepalive_seconds=self.judgement_keepalive_seconds,
        )
