"""Reading an uploaded PDF and choosing the response format (pure HTTP helpers).

``POST /verify`` takes the PDF either as the raw body (``application/pdf`` or
``application/octet-stream``) or as a ``multipart/form-data`` upload (a browser form, or
``curl -F file=@notice.pdf``). The multipart body is read with the standard library's MIME
parser, which keeps binary parts byte for byte (the hash must match exactly).
"""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

PDF_MAGIC = b"%PDF-"


def uploaded_pdf(content_type: str, body: bytes) -> bytes | None:
    """The PDF in a request body, or None when there is none."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "multipart/form-data":
        head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
        message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
        if not isinstance(message, EmailMessage) or not message.is_multipart():
            return None
        for part in message.iter_parts():
            if part.get_content_disposition() != "form-data" or part.get_filename() is None:
                continue
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes) and payload.startswith(PDF_MAGIC):
                return payload
        return None
    return body if body.startswith(PDF_MAGIC) else None


def wants_html(accept: str | None) -> bool:
    """Whether the client prefers an HTML page to JSON (a browser does; an API client
    sending ``application/json``, ``*/*`` or nothing gets JSON)."""
    if not accept:
        return False
    quality: dict[str, float] = {}
    for item in accept.split(","):
        media, *params = (p.strip() for p in item.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        quality[media.lower()] = max(q, quality.get(media.lower(), 0.0))
    html = max(quality.get("text/html", 0.0), quality.get("application/xhtml+xml", 0.0))
    return html > 0 and html >= quality.get("application/json", 0.0)
