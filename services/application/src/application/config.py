"""Settings of the application service (env prefix ``APPLICATION_``)."""

from shared_kernel.settings import ServiceSettings, service_config


class Settings(ServiceSettings):
    model_config = service_config("APPLICATION_")

    service_name: str = "application"
    http_port: int = 8003
    db_name: str = "application"
