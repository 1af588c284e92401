"""Settings of the consent service (env prefix ``CONSENT_``)."""

from shared_kernel.settings import ServiceSettings, service_config


class Settings(ServiceSettings):
    model_config = service_config("CONSENT_")

    service_name: str = "consent"
    http_port: int = 8002
    db_name: str = "consent"
