"""Settings of the judgement service (env prefix ``JUDGEMENT_``)."""

from typing import Literal

from pydantic import Field

from shared_kernel.infra.settings import ServiceSettings, service_config

ReviewPolicy = Literal["auto", "review_when_warnings", "review_all"]


class Settings(ServiceSettings):
    model_config = service_config("JUDGEMENT_")

    service_name: str = "judgement"
    http_port: int = 8004
    db_name: str = "judgement"

    review_policy: ReviewPolicy = "review_when_warnings"
    """auto: emit every result; review_when_warnings: results with warnings wait for an
    evaluator; review_all: every result waits for an evaluator."""
    ccus_wait_days: int = Field(default=7, ge=0)
    """How long a line whose worker has no CCUS snapshot waits before it is rejected."""
    expiry_sweep_seconds: float = Field(default=60.0, gt=0)
    """How often waiting lines are checked against their deadline."""
    criteria_extra: list[str] = Field(default_factory=list)
    """Extra criteria master files or directories loaded on top of the master in force (the
    packaged settings, trades and catalogue and the published criteria versions)."""
    criteria_poll_seconds: float = Field(default=3.0, gt=0)
    """How often each process checks whether criteria were published (criteria_state
    generation) and rebuilds its master; the publishing process rebuilds at once."""
    criteria_load_timeout_seconds: float = Field(default=20.0, gt=0)
    """How long start-up waits for the first master in force (from the database) before
    serving anyway (requests answer 503 until it is built; the poll keeps trying)."""
    snapshot_grace_days: float = Field(default=2.0, gt=0)
    """How long a CCUS snapshot version that stopped being its worker's latest is kept before
    the retention sweep deletes it (unless a judgement cites it: then for good). Longer than
    any judgement or impact preview takes to read and cite it (docs/judgement.md)."""
