"""The shared command-line parser: argparse's usage errors become one InvalidInput line."""

from __future__ import annotations

import pytest

from shared_kernel.cli import USAGE_HINT, InvalidInput, Parser

pytestmark = pytest.mark.unit


def test_a_usage_error_raises_instead_of_exiting() -> None:
    parser = Parser(prog="tool")
    parser.add_argument("--count", type=int, required=True)
    with pytest.raises(InvalidInput) as raised:
        parser.parse_args(["--count", "many"])
    assert str(raised.value) == "argument --count: invalid int value: 'many'"


def test_the_message_format_names_the_command() -> None:
    parser = Parser(prog="python -m tool", error_format=USAGE_HINT)
    with pytest.raises(InvalidInput) as raised:
        parser.parse_args(["--bogus"])
    assert str(raised.value) == (
        "usage: unrecognized arguments: --bogus (see python -m tool --help)"
    )
    japanese = Parser(
        prog="admin", error_format="引数が正しくありません: {message}（{prog} --help を参照）"
    )
    with pytest.raises(InvalidInput) as raised:
        japanese.parse_args(["--bogus"])
    assert str(raised.value) == (
        "引数が正しくありません: unrecognized arguments: --bogus（admin --help を参照）"
    )


def test_subcommands_inherit_the_format_and_name_the_top_command() -> None:
    parser = Parser(prog="feed", error_format=USAGE_HINT)
    commands = parser.add_subparsers(dest="command", required=True)
    synthetic = commands.add_parser("synthetic")
    synthetic.add_argument("--count", type=int, required=True)
    assert isinstance(synthetic, Parser)
    with pytest.raises(InvalidInput) as raised:
        parser.parse_args(["synthetic"])
    assert str(raised.value) == (
        "usage: the following arguments are required: --count (see feed --help)"
    )
    with pytest.raises(InvalidInput, match=r"^usage: the following arguments are required"):
        parser.parse_args([])


def test_the_message_is_one_line() -> None:
    parser = Parser(prog="tool")
    with pytest.raises(InvalidInput) as raised:
        parser.error("first\nsecond")
    assert str(raised.value) == "first second"


def test_help_still_prints_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    parser = Parser(prog="tool", description="A tool.")
    with pytest.raises(SystemExit) as raised:
        parser.parse_args(["--help"])
    assert raised.value.code == 0
    assert "A tool." in capsys.readouterr().out
