"""Settings of the identity service (env prefix ``IDENTITY_``)."""

from shared_kernel.settings import ServiceSettings, service_config


class Settings(ServiceSettings):
    model_config = service_config("IDENTITY_")

    service_name: str = "identity"
    http_port: int = 8001
    db_name: str = "identity"
