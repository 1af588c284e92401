"""Settings of the document service (env prefix ``DOCUMENT_``)."""

from pydantic import AliasChoices, Field, SecretStr

from shared_kernel.infra.settings import ServiceSettings, service_config


class Settings(ServiceSettings):
    model_config = service_config("DOCUMENT_")

    service_name: str = "document"
    http_port: int = 8006
    db_name: str = "document"

    signing_key: SecretStr = Field(
        default=SecretStr("changethis-development-document-signing-key"),
        validation_alias=AliasChoices("DOCUMENT_SIGNING_KEY"),
    )
    """HMAC key that signs each notice's content hash (verification codes, /verify)."""
    public_base_url: str = "http://127.0.0.1:8000"
    """Base URL printed in the QR code of a notice (the public verification endpoint): the
    portal's public URL, which passes ``/verify`` on to this service (only the portal is
    reachable from outside)."""
