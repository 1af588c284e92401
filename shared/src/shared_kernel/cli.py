"""What every command line shares: bad input is one line on standard error and exit status 2.

A command raises :class:`InvalidInput` for anything wrong with what it was given; its entry
point catches it, writes ``<prog>: <message>`` as one line on standard error and returns 2.
:class:`Parser` routes argparse's own usage errors the same way instead of printing the
usage block and exiting, each command choosing how its message reads (``error_format``).
Pure: argparse only.
"""

from __future__ import annotations

import argparse
import functools
from typing import Any, NoReturn

EXIT_INVALID = 2
# "usage: <what argparse says> (see <command> --help)"
USAGE_HINT = "usage: {message} (see {prog} --help)"


class InvalidInput(Exception):
    """Bad input or usage: one line for standard error; the command exits 2."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors raise :class:`InvalidInput`.

    ``error_format`` is the message, with ``{message}`` argparse's text (on one line) and
    ``{prog}`` the command: the top parser's ``prog``, also for its subcommands, whose
    parsers (``add_subparsers``) inherit the format.
    """

    def __init__(
        self,
        *args: Any,
        error_format: str = "{message}",
        command: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.error_format = error_format
        self.command = self.prog if command is None else command

    def add_subparsers(self, **kwargs: Any) -> Any:
        kwargs.setdefault(
            "parser_class",
            functools.partial(Parser, error_format=self.error_format, command=self.command),
        )
        return super().add_subparsers(**kwargs)

    def error(self, message: str) -> NoReturn:
        one_line = " ".join(message.splitlines())
        raise InvalidInput(self.error_format.format(message=one_line, prog=self.command))
