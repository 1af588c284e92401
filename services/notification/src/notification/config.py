"""Settings of the notification service (env prefix ``NOTIFICATION_``)."""

from shared_kernel.settings import ServiceSettings, service_config


class Settings(ServiceSettings):
    model_config = service_config("NOTIFICATION_")

    service_name: str = "notification"
    http_port: int = 8005
    db_name: str = "notification"
