"""Settings of the judgement service (env prefix ``JUDGEMENT_``)."""

from shared_kernel.settings import ServiceSettings, service_config


class Settings(ServiceSettings):
    model_config = service_config("JUDGEMENT_")

    service_name: str = "judgement"
    http_port: int = 8004
    db_name: str = "judgement"
