#!/usr/bin/env python3
"""Wait until a local server really answers (stdlib only; used by start.sh).

    wait_ready.py mongo HOST:PORT [--timeout S] [--pid PID]   # OP_MSG {ping: 1} -> ok: 1
    wait_ready.py smtp  HOST:PORT [--timeout S] [--pid PID]   # 220 greeting, NOOP -> 250
    wait_ready.py http  URL       [--timeout S] [--pid PID]   # HTTP 200
    wait_ready.py tcp   HOST:PORT [--timeout S] [--pid PID]   # accepts connections

Retries until the timeout; with --pid, gives up as soon as that process is gone.
Exit code 0 = ready, 1 = not ready.
"""

from __future__ import annotations

import argparse
import socket
import struct
import sys
import time
import urllib.request

# --- minimal BSON (just enough for {ping: 1} and its reply) -----------------


def bson_encode(doc: dict[str, object]) -> bytes:
    out = b""
    for key, value in doc.items():
        name = key.encode() + b"\x00"
        if isinstance(value, bool):
            out += b"\x08" + name + (b"\x01" if value else b"\x00")
        elif isinstance(value, int):
            out += b"\x10" + name + struct.pack("<i", value)
        elif isinstance(value, str):
            data = value.encode() + b"\x00"
            out += b"\x02" + name + struct.pack("<i", len(data)) + data
        else:
            raise TypeError(f"unsupported BSON value: {value!r}")
    return struct.pack("<i", len(out) + 5) + out + b"\x00"


def bson_decode(data: bytes) -> dict[str, object]:
    """Decodes the top-level fields of a BSON document (nested docs kept raw)."""
    (length,) = struct.unpack_from("<i", data, 0)
    pos, end = 4, length - 1
    doc: dict[str, object] = {}
    while pos < end:
        kind = data[pos]
        pos += 1
        name_end = data.index(b"\x00", pos)
        name = data[pos:name_end].decode()
        pos = name_end + 1
        if kind == 0x01:  # double
            (doc[name],) = struct.unpack_from("<d", data, pos)
            pos += 8
        elif kind == 0x02:  # string
            (n,) = struct.unpack_from("<i", data, pos)
            doc[name] = data[pos + 4 : pos + 3 + n].decode()
            pos += 4 + n
        elif kind in (0x03, 0x04):  # document, array
            (n,) = struct.unpack_from("<i", data, pos)
            doc[name] = data[pos : pos + n]
            pos += n
        elif kind == 0x08:  # bool
            doc[name] = data[pos] == 1
            pos += 1
        elif kind == 0x10:  # int32
            (doc[name],) = struct.unpack_from("<i", data, pos)
            pos += 4
        elif kind in (0x09, 0x11, 0x12):  # datetime, timestamp, int64
            (doc[name],) = struct.unpack_from("<q", data, pos)
            pos += 8
        else:  # anything else: stop, we have what we need
            break
    return doc


def recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed")
        buf += chunk
    return buf


def mongo_command(host: str, port: int, command: dict[str, object]) -> dict[str, object]:
    """Sends one OP_MSG (opcode 2013) command and returns the reply document."""
    body = struct.pack("<I", 0) + b"\x00" + bson_encode(command)  # flags, section kind 0
    header = struct.pack("<iiii", 16 + len(body), 1, 0, 2013)
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(header + body)
        length, _req, _resp, opcode = struct.unpack("<iiii", recv_exact(sock, 16))
        reply = recv_exact(sock, length - 16)
    if opcode != 2013 or reply[4] != 0:
        raise ValueError(f"unexpected reply (opcode {opcode})")
    return bson_decode(reply[5:])


# --- checks -------------------------------------------------------------------


def split_addr(addr: str) -> tuple[str, int]:
    host, _, port = addr.rpartition(":")
    return host or "127.0.0.1", int(port)


def check_mongo(target: str) -> None:
    host, port = split_addr(target)
    reply = mongo_command(host, port, {"ping": 1, "$db": "admin"})
    if reply.get("ok") != 1:
        raise ValueError(f"ping failed: {reply}")


def check_smtp(target: str) -> None:
    with socket.create_connection(split_addr(target), timeout=5) as sock:
        f = sock.makefile("rb")
        if not f.readline().startswith(b"220"):
            raise ValueError("no 220 greeting")
        sock.sendall(b"NOOP\r\n")
        if not f.readline().startswith(b"250"):
            raise ValueError("NOOP not accepted")
        sock.sendall(b"QUIT\r\n")
        f.readline()


def check_http(url: str) -> None:
    with urllib.request.urlopen(url, timeout=5) as resp:
        if resp.status != 200:
            raise ValueError(f"HTTP {resp.status}")


def check_tcp(target: str) -> None:
    socket.create_connection(split_addr(target), timeout=5).close()


CHECKS = {"mongo": check_mongo, "smtp": check_smtp, "http": check_http, "tcp": check_tcp}


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rpartition(")")[2].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie has exited too


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("kind", choices=sorted(CHECKS))
    parser.add_argument("target")
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--pid", type=int, help="give up when this process has exited")
    args = parser.parse_args()

    deadline = time.monotonic() + args.timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            CHECKS[args.kind](args.target)
            return 0
        except Exception as exc:  # any failure means "not yet"
            last_error = exc
        if args.pid and not pid_alive(args.pid):
            print(f"[infra] {args.kind} {args.target}: process {args.pid} exited", file=sys.stderr)
            return 1
        time.sleep(0.3)
    print(
        f"[infra] {args.kind} {args.target}: not ready after {args.timeout:g} s ({last_error})",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
