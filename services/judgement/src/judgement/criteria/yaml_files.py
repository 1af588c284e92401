"""A criteria table as a YAML file: what an editor uploads, what an export gives.

Both have the packaged master's shape (``master/tables/*.yaml``): a document with one
``tables`` entry and, for catalogue items the table adds, a ``qualifications`` section.

An upload is untrusted text. ``yaml.safe_load`` builds no objects, but it expands anchors
and aliases (a few hundred bytes of nested aliases make billions of nodes) and follows any
nesting; so the text is first read as parser events — any anchor, alias or explicit tag,
more than one document, nesting deeper than ``MAX_DEPTH`` or more than ``MAX_EVENTS``
events is refused before a single node is built — and only then loaded. Over ``MAX_BYTES``
the upload is refused unread (413). Every refusal is an :class:`UploadRefused` with a
Japanese message; nothing is stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml
from pydantic import ValidationError

from judgement.core.criteria_admin import QualificationDraft, TableDraft
from judgement.core.criteria_check import Problem, structure_problems
from shared_kernel.errors import DomainError

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 24
MAX_EVENTS = 200_000
SECTIONS = ("tables", "qualifications")


class UploadRefused(DomainError):
    """An upload that is not read (413 or 422 by its code): a code, a Japanese message and
    the problems found in the file."""

    def __init__(self, code: str, message_ja: str, problems: Sequence[Problem] = ()) -> None:
        self.problems = list(problems)
        super().__init__(
            code, message_ja, details={"problems": [p.model_dump() for p in self.problems]}
        )

    @property
    def message_ja(self) -> str:
        return self.message


def _line(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return f"（{mark.line + 1}行目）" if mark is not None else ""


def _scan(text: str) -> None:
    """Refuse what must not be loaded, reading parser events only (nothing is built)."""
    depth = documents = events = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            events += 1
            if events > MAX_EVENTS:
                raise UploadRefused(
                    "yaml_too_large",
                    "YAMLの要素が多すぎます。1つの判定基準の表だけを入れてください",
                )
            if isinstance(event, yaml.AliasEvent):
                raise UploadRefused(
                    "yaml_alias",
                    f"YAMLの別名（*{event.anchor}）は使えません。値をそのまま書いてください"
                    f"（{event.start_mark.line + 1}行目）",
                )
            anchor = getattr(event, "anchor", None)
            if anchor is not None:
                raise UploadRefused(
                    "yaml_anchor",
                    f"YAMLのアンカー（&{anchor}）は使えません（{event.start_mark.line + 1}行目）",
                )
            tag = getattr(event, "tag", None)  # the parser leaves untagged nodes untagged
            if tag is not None:
                raise UploadRefused(
                    "yaml_tag",
                    f"YAMLのタグ（{tag}）は使えません（{event.start_mark.line + 1}行目）",
                )
            if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise UploadRefused("yaml_too_deep", "YAMLの入れ子が深すぎます")
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                depth -= 1
            elif isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise UploadRefused(
                        "yaml_documents", "1つのファイルに入れられるYAML文書は1つだけです"
                    )
    except yaml.YAMLError as exc:
        raise UploadRefused("invalid_yaml", f"YAMLとして読み取れません{_line(exc)}") from None


def parse(data: bytes) -> dict[str, Any]:
    """The uploaded document (a mapping), or :class:`UploadRefused`."""
    if len(data) > MAX_BYTES:
        raise UploadRefused("payload_too_large", "アップロードできるファイルは1MBまでです")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UploadRefused("not_utf8", "ファイルをUTF-8で保存したYAMLにしてください") from None
    if "\x00" in text:
        raise UploadRefused("invalid_character", "使用できない文字（NUL文字）が含まれています")
    if not text.strip():
        raise UploadRefused("empty_upload", "ファイルが空です")
    _scan(text)
    try:
        content = yaml.load(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise UploadRefused("invalid_yaml", f"YAMLとして読み取れません{_line(exc)}") from None
    except (ValueError, RecursionError, OverflowError):
        # e.g. an integer of more digits than Python converts
        raise UploadRefused("invalid_yaml", "YAMLの値を読み取れません") from None
    if not isinstance(content, dict):
        raise UploadRefused(
            "not_a_table_file",
            "判定基準の表のファイル（tables: に表を1つ入れたYAML）をアップロードしてください",
        )
    return content


def draft_content(
    document: Mapping[Any, Any],
) -> tuple[TableDraft, list[QualificationDraft]]:
    """The table and new catalogue items of an uploaded document (packaged master shape)."""
    unknown = [str(k) for k in document if k not in SECTIONS]
    if unknown:
        raise UploadRefused(
            "unsupported_section",
            "アップロードできるのは判定基準の表（tables）と新しい資格（qualifications）だけです"
            f"（「{'」「'.join(unknown)}」は使えません）",
        )
    tables = document.get("tables")
    if not isinstance(tables, list) or len(tables) != 1:
        raise UploadRefused(
            "one_table", "1つのファイルに判定基準の表（tables）を1つだけ入れてください"
        )
    problems: list[Problem] = []
    table: TableDraft | None = None
    try:
        table = TableDraft.model_validate(tables[0])
    except ValidationError as exc:
        problems += structure_problems(exc.errors(), ("tables", 0))
    items: list[QualificationDraft] = []
    raw_items = document.get("qualifications") or []
    if not isinstance(raw_items, list):
        problems.append(
            Problem(path="qualifications", message_ja="一覧（リスト）で入力してください")
        )
        raw_items = []
    for i, raw in enumerate(raw_items):
        try:
            items.append(QualificationDraft.model_validate(raw))
        except ValidationError as exc:
            problems += structure_problems(exc.errors(), ("qualifications", i))
    if problems or table is None:
        raise UploadRefused("unreadable_table", "ファイルの内容を読み取れません", problems)
    if table.trade is None or table.effective_from is None:
        raise UploadRefused(
            "table_identity_missing",
            "表に分野（trade）と適用開始日（effective_from）を入れてください",
        )
    return table, items


class _Dumper(yaml.SafeDumper):  # type: ignore[misc]
    """Never anchors and aliases (an upload refuses them): repeated values are written out."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(document: Mapping[str, Any], header: Sequence[str] = ()) -> str:
    """YAML text of a master document (comments first), as the packaged files are written."""
    body: str = yaml.dump(
        dict(document),
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=100,
    )
    comments = "".join(f"# {line}\n" for line in header)
    return comments + body
