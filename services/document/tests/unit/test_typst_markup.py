"""Text and values written into Typst source print literally (pure)."""

from __future__ import annotations

from string import punctuation

import pytest

from document.adapters.outbound import typst_markup
from document.adapters.outbound.typst_markup import Code, call, content, escape, value


@pytest.mark.parametrize(
    ("text", "markup"),
    [
        ("𠮷野 翔太", "𠮷野 翔太"),  # kanji, kana, spaces as they are
        ("髙﨑　誠", "髙﨑　誠"),  # a full-width space too
        ('#import "x"', '\\#import \\"x\\"'),
        ("*bold*", "\\*bold\\*"),
        ("$math$", "\\$math\\$"),
        ("_emph_ `raw`", "\\_emph\\_ \\`raw\\`"),
        ("<b>株式会社</b>", "\\<b\\>株式会社\\<\\/b\\>"),
        ("@ref", "\\@ref"),
        ("] #set page(width: 1cm) [", "\\] \\#set page\\(width\\: 1cm\\) \\["),
        ("a\\b", "a\\\\b"),
        ("// x", "\\/\\/ x"),
        ("- a", "\\- a"),
        ("1. a", "1\\. a"),
        ("= a", "\\= a"),
        ("~ -- ...", "\\~ \\-\\- \\.\\.\\."),
        ("http://x.jp", "http\\:\\/\\/x\\.jp"),
        ("\\u{41}", "\\\\u\\{41\\}"),  # never a Unicode escape
        ("株式会社（髙﨑）・建設＃", "株式会社（髙﨑）・建設＃"),  # full-width forms: not markup
    ],
)
def test_markup_characters_are_escaped(text: str, markup: str) -> None:
    assert escape(text) == markup


def test_every_ascii_punctuation_character_is_escaped_and_nothing_else() -> None:
    assert escape(punctuation) == "".join("\\" + c for c in punctuation)
    letters = "abcXYZ019 ｱｲｳ漢字かな"
    assert escape(letters) == letters


def test_line_breaks_become_spaces_and_controls_are_dropped() -> None:
    # a newline would end a paragraph (two) or start a heading or list on the next line
    assert escape("a\n\n= b\r\nc\td\u2028e\x85f") == "a  \\= b  c d e f"
    assert escape("a\x00b\x1bc\x7fd\x9fe") == "abcde"
    assert escape("a\ud800b") == "a\ufffdb"  # a lone surrogate (from JSON) cannot be encoded
    escape("a\ud800b").encode()


def test_a_backslash_never_escapes_what_follows_it() -> None:
    """Each backslash written is followed by the character it escapes: an odd number of
    backslashes before a character of the text is impossible."""
    for text in ("\\", "\\\\", "\\]", "a\\", "\\\n]"):
        escaped = escape(text)
        assert content(text) == f"[{escaped}]"
        # read back: every escape is a backslash and one character
        out, i = [], 0
        while i < len(escaped):
            if escaped[i] == "\\":
                out.append(escaped[i + 1])
                i += 2
            else:
                out.append(escaped[i])
                i += 1
        assert "".join(out) == text.replace("\n", " ")


def test_values() -> None:
    assert value(None) == "none"
    assert value(True) == "true" and value(False) == "false"
    assert value(1414) == "1414" and value(-3) == "-3"
    assert value("*x*") == "[\\*x\\*]"
    assert value([]) == "()"
    assert value(["a"]) == "([a], )"  # one element: still an array
    assert value((1, 2)) == "(1, 2, )"
    assert value({}) == "(:)"
    assert value({"name": "x", "level": 3}) == '("name": [x], "level": 3)'
    assert value({'a"\\': 1}) == '("a\\"\\\\": 1)'  # keys are string literals
    assert value(Code('rgb("#fff")')) == 'rgb("#fff")'


@pytest.mark.parametrize("item", [1.5, b"x", object(), {1: "x"}])
def test_unknown_values_are_refused(item: object) -> None:
    with pytest.raises(TypeError):
        value(item)


def test_string_literals() -> None:
    assert typst_markup.string('a"b\\c\nd') == '"a\\"b\\\\c d"'


def test_main_source_calls_the_template() -> None:
    assert call("result_notice.typ", "notice", {"n": "RN-1"}) == (
        '#import "result_notice.typ": notice, pdf_title\n'
        '#let data = ("n": [RN\\-1])\n'
        "#notice(data)\n"
        "#set document(title: pdf_title(data))\n"
    )
    for module, function in (("x.py", "f"), ("../x.typ", "f"), ("x.typ", "f()")):
        with pytest.raises(ValueError):
            call(module, function, {})
