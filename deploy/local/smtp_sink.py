#!/usr/bin/env python3
"""Local SMTP sink for development (SMTP by aiosmtpd, listing by the stdlib's http.server).

Accepts every message on SMTP (default 127.0.0.1:1025; no AUTH/TLS) and stores it as an
.eml file in the mail directory (default <repo>/var/mail), with the envelope in
X-Envelope-From / X-Envelope-To headers put in front of the message.
Run it with the project's environment (aiosmtpd is a dev dependency): start.sh uses
.venv/bin/python.

HTTP listing (default 127.0.0.1:8025):
    GET    /                   HTML list, newest first
    GET    /api/messages       JSON list, oldest first: name, from, to, cc, subject,
                               date, envelope_from, envelope_to, received, size
    GET    /messages/<name>    the raw .eml file
    DELETE /api/messages       delete all stored messages
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import email.parser
import email.policy
import html
import itertools
import json
import re
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

NAME_RE = re.compile(r"^[0-9T_-]+\.eml$")
MAX_MESSAGE = 50 * 1024 * 1024  # SIZE announced in EHLO


def log(msg: str) -> None:
    print(f"[smtp-sink] {msg}", flush=True)


# --- SMTP ---------------------------------------------------------------------


class MailStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.counter = itertools.count(1)

    def save(self, mail_from: str, rcpt_to: list[str], data: bytes) -> str:
        now = dt.datetime.now()
        name = f"{now:%Y%m%dT%H%M%S_%f}-{next(self.counter):06d}.eml"
        envelope = f"X-Envelope-From: <{mail_from}>\r\nX-Envelope-To: {', '.join(rcpt_to)}\r\n"
        tmp = self.directory / (name + ".tmp")
        tmp.write_bytes(envelope.encode() + data)
        tmp.rename(self.directory / name)  # readers never see half a file
        return name

    # aiosmtpd handler hook: called with the message once DATA has ended
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        mail_from, rcpt_to = envelope.mail_from or "", list(envelope.rcpt_tos)
        name = self.save(mail_from, rcpt_to, envelope.original_content or b"")
        log(f"stored {name} from <{mail_from}> to {', '.join(rcpt_to)}")
        return f"250 OK: queued as {name}"


class SinkSMTP(SMTP):
    line_length_limit = 1024 * 1024  # lenient: a sink keeps what a client sends


async def serve_smtp(store: MailStore, host: str, port: int, stop: asyncio.Event) -> None:
    def session() -> SMTP:
        return SinkSMTP(
            store,
            hostname="localhost",
            ident="smtp-sink",
            data_size_limit=MAX_MESSAGE,
            enable_SMTPUTF8=True,
        )

    server = await asyncio.get_running_loop().create_server(session, host, port)
    log(f"SMTP on {host}:{port}")
    async with server:
        await stop.wait()


# --- HTTP ---------------------------------------------------------------------


def message_info(path: Path) -> dict[str, Any]:
    with path.open("rb") as f:
        headers = email.parser.BytesHeaderParser(policy=email.policy.default).parse(f)

    def header(name: str) -> str:
        try:
            return str(headers.get(name, ""))
        except Exception:  # malformed header: show it raw
            return str(headers.get_all(name, [""])[0])

    received = dt.datetime.fromtimestamp(path.stat().st_mtime).astimezone()
    return {
        "name": path.name,
        "from": header("From"),
        "to": header("To"),
        "cc": header("Cc"),
        "subject": header("Subject"),
        "date": header("Date"),
        "envelope_from": header("X-Envelope-From").strip("<>"),
        "envelope_to": [a.strip() for a in header("X-Envelope-To").split(",") if a.strip()],
        "received": received.isoformat(timespec="seconds"),
        "size": path.stat().st_size,
    }


def make_handler(store: MailStore) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def messages(self) -> list[dict[str, Any]]:
            return [message_info(p) for p in sorted(store.directory.glob("*.eml"))]

        def send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/":
                self.send(200, self.render_html().encode(), "text/html; charset=utf-8")
            elif path == "/api/messages":
                body = json.dumps(self.messages(), ensure_ascii=False, indent=1).encode()
                self.send(200, body, "application/json; charset=utf-8")
            elif path.startswith("/messages/") and NAME_RE.match(name := path[len("/messages/") :]):
                file = store.directory / name
                if file.is_file():
                    self.send(200, file.read_bytes(), "message/rfc822")
                else:
                    self.send(404, b"not found\n", "text/plain")
            else:
                self.send(404, b"not found\n", "text/plain")

        def do_DELETE(self) -> None:
            if self.path.split("?", 1)[0] != "/api/messages":
                self.send(404, b"not found\n", "text/plain")
                return
            files = list(store.directory.glob("*.eml"))
            for file in files:
                file.unlink(missing_ok=True)
            self.send(200, json.dumps({"deleted": len(files)}).encode(), "application/json")

        def render_html(self) -> str:
            row = (
                "<tr><td>{date}</td><td>{frm}</td><td>{to}</td>"
                "<td><a href='/messages/{name}'>{subject}</a></td></tr>"
            )
            rows = "".join(
                row.format(
                    date=html.escape(m["date"] or m["received"]),
                    frm=html.escape(m["from"]),
                    to=html.escape(m["to"] or ", ".join(m["envelope_to"])),
                    name=html.escape(m["name"]),
                    subject=html.escape(m["subject"] or "(no subject)"),
                )
                for m in reversed(self.messages())
            )
            return (
                "<!doctype html><html><head><meta charset='utf-8'><title>smtp-sink</title>"
                "<style>body{font-family:sans-serif}"
                "td,th{padding:2px 8px;text-align:left}</style></head>"
                f"<body><h1>smtp-sink</h1><p>{store.directory}</p><table>"
                "<tr><th>Date</th><th>From</th><th>To</th><th>Subject</th></tr>"
                f"{rows}</table></body></html>"
            )

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep the log for mail

    return Handler


# --- main ---------------------------------------------------------------------


async def main_async(args: argparse.Namespace, store: MailStore) -> None:
    log(f"storing mail in {store.directory}")

    httpd = ThreadingHTTPServer((args.host, args.http_port), make_handler(store))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    log(f"HTTP on http://{args.host}:{args.http_port}/")

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await serve_smtp(store, args.host, args.smtp_port, stop)
    finally:
        httpd.shutdown()
        log("stopped")


def main() -> None:
    default_maildir = Path(__file__).resolve().parents[2] / "var" / "mail"
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025)
    parser.add_argument("--maildir", default=str(default_maildir))
    args = parser.parse_args()
    asyncio.run(main_async(args, MailStore(Path(args.maildir).resolve())))


if __name__ == "__main__":
    main()
