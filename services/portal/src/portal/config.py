"""Settings of the portal service (env prefix ``PORTAL_``)."""

from shared_kernel.settings import ServiceSettings, service_config


class Settings(ServiceSettings):
    model_config = service_config("PORTAL_")

    service_name: str = "portal"
    http_port: int = 8000
    db_name: str = "portal"
