#!/usr/bin/env python3
"""Local SMTP sink for development (Python stdlib only).

Accepts every message on SMTP (default 127.0.0.1:1025; HELO/EHLO, MAIL, RCPT,
DATA, RSET, NOOP, QUIT; no AUTH/TLS) and stores it as an .eml file in the mail
directory (default <repo>/var/mail), with the envelope in X-Envelope-From /
X-Envelope-To headers put in front of the message.

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

MAX_LINE = 1024 * 1024
NAME_RE = re.compile(r"^[0-9T_-]+\.eml$")
ADDR_RE = re.compile(r"^\s*(?:FROM|TO)\s*:\s*<?([^>\s]*)>?", re.IGNORECASE)


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


class SMTPSession:
    def __init__(
        self, store: MailStore, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.store, self.reader, self.writer = store, reader, writer
        self.mail_from: str | None = None
        self.rcpt_to: list[str] = []

    async def reply(self, line: str) -> None:
        self.writer.write(line.encode() + b"\r\n")
        await self.writer.drain()

    async def run(self) -> None:
        await self.reply("220 localhost ESMTP smtp-sink ready")
        while True:
            line = await self.reader.readline()
            if not line:
                return
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            verb, _, arg = text.partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                self.reset()
                await self.reply(
                    "250-localhost\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 52428800"
                )
            elif verb == "HELO":
                self.reset()
                await self.reply("250 localhost")
            elif verb == "MAIL":
                m = ADDR_RE.match(arg)
                if not m or not arg.upper().lstrip().startswith("FROM"):
                    await self.reply("501 Syntax: MAIL FROM:<address>")
                    continue
                self.reset()
                self.mail_from = m.group(1)
                await self.reply("250 OK")
            elif verb == "RCPT":
                m = ADDR_RE.match(arg)
                if self.mail_from is None:
                    await self.reply("503 Need MAIL first")
                elif not m or not m.group(1) or not arg.upper().lstrip().startswith("TO"):
                    await self.reply("501 Syntax: RCPT TO:<address>")
                else:
                    self.rcpt_to.append(m.group(1))
                    await self.reply("250 OK")
            elif verb == "DATA":
                if not self.rcpt_to:
                    await self.reply("503 Need RCPT first")
                    continue
                await self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = await self.read_data()
                if data is None:
                    return
                name = self.store.save(self.mail_from or "", self.rcpt_to, data)
                log(f"stored {name} from <{self.mail_from}> to {', '.join(self.rcpt_to)}")
                self.reset()
                await self.reply(f"250 OK: queued as {name}")
            elif verb == "RSET":
                self.reset()
                await self.reply("250 OK")
            elif verb == "NOOP":
                await self.reply("250 OK")
            elif verb == "VRFY":
                await self.reply("252 Cannot VRFY user")
            elif verb == "QUIT":
                await self.reply("221 Bye")
                return
            else:
                await self.reply("502 Command not implemented")

    def reset(self) -> None:
        self.mail_from, self.rcpt_to = None, []

    async def read_data(self) -> bytes | None:
        lines: list[bytes] = []
        while True:
            line = await self.reader.readline()
            if not line:
                return None
            if line in (b".\r\n", b".\n"):
                return b"".join(lines)
            if line.startswith(b".."):
                line = line[1:]  # dot-unstuffing
            lines.append(line)


async def serve_smtp(store: MailStore, host: str, port: int, stop: asyncio.Event) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await SMTPSession(store, reader, writer).run()
        except (ConnectionError, asyncio.LimitOverrunError, ValueError) as exc:
            log(f"connection error: {exc}")
        finally:
            writer.close()

    server = await asyncio.start_server(handle, host, port, limit=MAX_LINE)
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
