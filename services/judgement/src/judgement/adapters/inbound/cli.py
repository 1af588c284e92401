"""``python -m judgement evaluate FILE [FILE…]``: judge §5 requests from files, for operators.

Each FILE holds one evaluation request (judgement-rules.md §5) or a JSON array of them;
``-`` reads standard input. One result object is printed per request, one per line, in
input order. Nothing is printed unless every request could be judged: invalid input
(unreadable file, bad JSON, a request that does not fit §5 such as a level outside 2–4 or
an impossible date, an unknown trade, a trade without criteria) exits with status 2 and one
line on standard error naming the file and the problem. ``--master PATH`` adds master
files or directories to the packaged criteria master (to try a new trade's table).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import IO, Any

from pydantic import ValidationError

from judgement.core.engine import evaluate
from judgement.core.errors import CriteriaNotAvailable, MasterError, UnknownTrade
from judgement.core.master import Master
from judgement.core.models import EvaluationRequest
from judgement.criteria import default_master, load_master
from shared_kernel.cli import USAGE_HINT, InvalidInput, Parser

PROG = "python -m judgement evaluate"
EXIT_INVALID = 2
EXIT_INTERNAL = 1


def _parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=PROG,
        error_format=USAGE_HINT,
        description="Judge CCUS level requests (judgement-rules.md §5) read from JSON files.",
    )
    parser.add_argument(
        "files", nargs="+", metavar="FILE", help="request file (object or array); - = stdin"
    )
    parser.add_argument(
        "--master",
        action="append",
        default=[],
        metavar="PATH",
        help="extra criteria master file or directory (repeatable)",
    )
    return parser


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def _location(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "request"


def describe_validation_error(error: ValidationError) -> str:
    """The first problem of a pydantic error, as ``where: what (got value)``."""
    first = error.errors()[0]
    message = str(first["msg"]).removeprefix("Value error, ")
    value: Any = first.get("input")
    got = ""
    if isinstance(value, str | int | float | bool) and str(value) not in message:
        got = f" (got {json.dumps(value, ensure_ascii=False)})"
    more = f"; {error.error_count() - 1} more problem(s)" if error.error_count() > 1 else ""
    return f"{_location(first['loc'])}: {message}{got}{more}"


def _read(name: str, stdin: IO[str]) -> str:
    if name == "-":
        return stdin.read()
    try:
        with open(name, encoding="utf-8") as handle:
            return handle.read()
    except UnicodeDecodeError:
        raise InvalidInput(f"{name}: cannot read: not UTF-8 text") from None
    except OSError as exc:
        raise InvalidInput(f"{name}: cannot read: {exc.strerror or exc}") from None


def _judge_file(name: str, master: Master, stdin: IO[str]) -> list[str]:
    text = _read(name, stdin)
    try:
        content = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{name}: bad JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise InvalidInput(f"{name}: bad JSON: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise InvalidInput(f"{name}: bad JSON: {exc}") from None
    many = isinstance(content, list)
    requests = content if many else [content]
    if not requests:
        raise InvalidInput(f"{name}: no request (empty array)")
    lines = []
    for index, raw in enumerate(requests):
        where = f"{name}[{index}]" if many else name
        try:
            request = EvaluationRequest.model_validate(raw)
        except ValidationError as exc:
            raise InvalidInput(
                f"{where}: invalid request: {describe_validation_error(exc)}"
            ) from None
        try:
            result = evaluate(request, master)
        except UnknownTrade as exc:
            raise InvalidInput(f"{where}: unknown trade {exc.trade!r}: {exc.message_ja}") from None
        except CriteriaNotAvailable as exc:
            raise InvalidInput(
                f"{where}: trade {exc.trade!r} cannot be judged: {exc.message_ja}"
            ) from None
        lines.append(json.dumps(result.model_dump(mode="json"), ensure_ascii=False))
    return lines


def write_out(stream: IO[str], text: str) -> None:
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        stream.flush()
        buffer.write(text.encode("utf-8"))
        buffer.flush()
    else:
        stream.write(text)


def run(
    argv: Sequence[str],
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    """Entry point of ``evaluate``; returns the exit status, never raises."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    try:
        args = _parser().parse_args(list(argv))
        try:
            master = load_master(args.master) if args.master else default_master()
        except MasterError as exc:
            raise InvalidInput(f"criteria master: {exc}") from None
        lines: list[str] = []
        for name in args.files:
            lines.extend(_judge_file(name, master, stdin))
        write_out(stdout, "".join(line + "\n" for line in lines))
        return 0
    except InvalidInput as exc:
        write_out(stderr, f"{PROG}: {one_line(str(exc))}\n")
        return EXIT_INVALID
    except BrokenPipeError:
        return EXIT_INTERNAL
    except Exception as exc:  # the CLI promises one line, never a traceback
        write_out(stderr, f"{PROG}: internal error: {one_line(f'{type(exc).__name__}: {exc}')}\n")
        return EXIT_INTERNAL


def main() -> int:
    return run(sys.argv[2:] if sys.argv[1:2] == ["evaluate"] else sys.argv[1:])
