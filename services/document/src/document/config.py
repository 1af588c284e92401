"""Settings of the document service (env prefix ``DOCUMENT_``)."""

from shared_kernel.settings import ServiceSettings, service_config


class Settings(ServiceSettings):
    model_config = service_config("DOCUMENT_")

    service_name: str = "document"
    http_port: int = 8006
    db_name: str = "document"
