"""基準管理 pages in process (real runtime), the judgement service's ``/criteria`` API scripted
behind ``httpx.MockTransport`` as a small stateful fake: every screen of issue 21 and its
error cases (problems next to the fields, a stale save, submit refused, another 分野's 403,
own draft, the impact job, the YAML upload and its 1 MB limit, an outage).

The browser journey against the real services is ``tests/e2e/test_criteria_journey.py``.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import httpx
import pytest

from .conftest import HTML, csrf_of, running_portal

TODAY = "2026-12-08"
CATALOGUE = [
    {
        "name": "玉掛け技能講習",
        "codes": ["40040"],
        "aliases": ["玉掛技能講習"],
        "category": "技能講習",
    },
    {"name": "1級鉄筋施工技能士", "codes": [], "aliases": [], "category": "技能士"},
    {"name": "登録鉄筋基幹技能者", "codes": [], "aliases": [], "category": "登録基幹技能者"},
    {"name": "優秀施工者国土交通大臣顕彰", "codes": ["91002"], "aliases": [], "category": "表彰"},
]
TEKKIN_TABLE = {
    "source": "鉄筋技能者 能力評価基準",
    "levels": {
        "2": {"days": 645, "qualifications": {"all_of": ["玉掛け技能講習"]}},
        "3": {
            "days": 1505,
            "foreman": {"scope": "職長又は班長", "days": 645},
            "qualifications": {"all_of": ["1級鉄筋施工技能士"]},
        },
        "4": {
            "days": 2150,
            "foreman": {"scope": "職長", "days": 645},
            "qualifications": {"any_of": ["登録鉄筋基幹技能者", "優秀施工者国土交通大臣顕彰"]},
        },
    },
}


def answer(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    content = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
    return httpx.Response(
        status, headers={"content-type": "application/json", **(headers or {})}, content=content
    )


def refusal(status: int, code: str, message: str, **extra: Any) -> httpx.Response:
    return answer(status, {"code": code, "message": message, **extra})


class Judgement:
    """A fake of the judgement service's criteria API (and identity's login)."""

    def __init__(self) -> None:
        self.login_id = "kijun0001"
        self.role = "criteria_editor"
        self.trades = ["型枠"]
        self.drafts: dict[str, dict[str, Any]] = {}
        self.impact: dict[str, Any] | None = None
        self.impact_unavailable = False
        self.audit: list[dict[str, Any]] = []
        self.sent: list[tuple[str, str, httpx.Headers, bytes]] = []
        self.down = False

    # --- helpers ---------------------------------------------------------------------------

    def handles(self, trade: str) -> bool:
        return self.role == "criteria_approver" or trade in self.trades

    @staticmethod
    def problems(draft: dict[str, Any]) -> list[dict[str, Any]]:
        table = draft["table"]
        found = []
        if not table.get("source"):
            found.append(
                {
                    "path": "source",
                    "message_ja": "出典（基準の根拠となる資料）を入力してください",
                    "kind": "incomplete",
                }
            )
        for n in ("2", "3", "4"):
            if n not in table.get("levels", {}):
                found.append(
                    {
                        "path": f"levels.{n}",
                        "message_ja": f"レベル{n}の基準が入力されていません",
                        "kind": "incomplete",
                    }
                )
        for i, q in enumerate(draft["new_qualifications"]):
            for j, code in enumerate(q.get("codes", [])):
                if not re.fullmatch(r"\d{5}", code):
                    found.append(
                        {
                            "path": f"new_qualifications.{i}.codes.{j}",
                            "message_ja": f"資格コードは5桁の数字で入力してください（「{code}」）",
                            "kind": "invalid",
                        }
                    )
        return found

    def view(self, draft: dict[str, Any], with_problems: bool = True) -> dict[str, Any]:
        shown = {
            **draft,
            "status_ja": {
                "draft": "下書き",
                "submitted": "承認待ち",
                "approved": "承認済み（公開）",
                "returned": "差戻し",
                "withdrawn": "取下げ",
            }[draft["status"]],
        }
        if with_problems:
            problems = self.problems(draft)
            shown.update(
                problems=problems,
                submittable=not problems and draft["status"] in ("draft", "returned"),
            )
        return shown

    def trade_line(self, trade: str) -> dict[str, Any]:
        pending = sum(
            1
            for d in self.drafts.values()
            if d["trade"] == trade and d["status"] in ("draft", "submitted", "returned")
        )
        base = {
            "trade": trade,
            "upcoming": [],
            "pending_drafts": pending if self.handles(trade) else None,
        }
        if trade == "鉄筋":
            return {
                **base,
                "bodies_ja": "公益社団法人全国鉄筋工事業協会",
                "status": "judgeable",
                "status_ja": "判定できます",
                "version": "鉄筋@2019-10-08",
                "effective_from": "2019-10-08",
                "revision": 1,
                "versions_published": 1,
            }
        if trade == "型枠":
            return {
                **base,
                "bodies_ja": "一般社団法人日本型枠工事業協会",
                "status": "partial",
                "status_ja": "一部",
                "version": None,
                "effective_from": None,
                "revision": None,
                "versions_published": 0,
            }
        return {
            **base,
            "bodies_ja": "日本左官業組合連合会（未確認）",
            "status": "none",
            "status_ja": "未登録",
            "version": None,
            "effective_from": None,
            "revision": None,
            "versions_published": 0,
        }

    # --- the API ---------------------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = unquote(request.url.path)
        if path in ("/healthz", "/readyz", "/metrics"):
            raise httpx.ConnectError("refused", request=request)
        self.sent.append((request.method, path, request.headers, request.content))
        if path == "/sessions" and request.method == "POST":
            return answer(
                201,
                {
                    "access_token": "token-1",
                    "token_type": "bearer",
                    "expires_in": 900,
                    "login_id": self.login_id,
                    "role": self.role,
                    "employer_id": None,
                    "trades": self.trades,
                    "session_expires_at": "2099-01-01T00:00:00+00:00",
                },
                {"set-cookie": "noryoku_session=sid; HttpOnly; Path=/"},
            )
        if self.down:
            return refusal(503, "service_unavailable", "down")
        query = {k: v[0] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}
        body = (
            json.loads(request.content)
            if request.headers.get("content-type") == "application/json"
            else None
        )
        method = request.method
        if path == "/criteria/trades":
            return answer(200, [self.trade_line(t) for t in ("鉄筋", "型枠", "左官")])
        if m := re.fullmatch(r"/criteria/trades/(.+)", path):
            return self.trade(m[1], query)
        if path == "/criteria/qualifications":
            wanted = query.get("q", "")
            return answer(
                200,
                [
                    q
                    for q in CATALOGUE
                    if wanted in q["name"] or any(wanted in c for c in q["codes"])
                ],
            )
        if m := re.fullmatch(r"/criteria/versions/(.+)\.yaml", path):
            return httpx.Response(
                200,
                headers={
                    "content-type": "application/yaml; charset=utf-8",
                    "content-disposition": "attachment; filename*=UTF-8''"
                    + quote("鉄筋@2019-10-08.yaml"),
                },
                content="tables:\n- trade: 鉄筋\n".encode(),
            )
        if m := re.fullmatch(r"/criteria/versions/(.+)", path):
            return answer(
                200,
                {
                    "version_id": m[1],
                    "table": {"trade": "鉄筋", "effective_from": "2019-10-08", **TEKKIN_TABLE},
                    "qualifications": [],
                },
            )
        if path == "/criteria/drafts" and method == "POST":
            return self.create(body or {})
        if path == "/criteria/drafts/upload":
            return self.upload(request)
        if path == "/criteria/drafts":
            found = [
                self.view(d, False)
                for d in self.drafts.values()
                if self.handles(d["trade"])
                and (not query.get("status") or d["status"] == query["status"])
                and (not query.get("trade") or d["trade"] == query["trade"])
            ]
            return answer(200, found)
        if path == "/criteria/audit":
            if self.role != "criteria_approver":
                return refusal(403, "forbidden", "この操作を行う権限がありません。")
            return answer(200, self.audit)
        m = re.fullmatch(r"/criteria/drafts/([^/]+)(/.*)?", path)
        if m is None:
            return refusal(404, "not_found", "指定されたページまたはデータが見つかりません。")
        draft = self.drafts.get(m[1])
        if draft is None:
            return refusal(404, "draft_not_found", "該当する下書きがありません。")
        if not self.handles(draft["trade"]):
            return refusal(
                403,
                "other_trade",
                f"分野「{draft['trade']}」の基準を扱う権限がありません（担当分野のみ）。",
            )
        return self.on_draft(draft, m[2] or "", method, body or {})

    def trade(self, trade: str, query: dict[str, str]) -> httpx.Response:
        if trade not in ("鉄筋", "型枠", "左官"):
            return refusal(404, "unknown_trade", f"分野「{trade}」はありません")
        if query.get("on") and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", query["on"]):
            return refusal(
                422,
                "validation_error",
                "入力内容を読み取れません。",
                problems=[
                    {
                        "path": "on",
                        "message_ja": "日付（YYYY-MM-DD）で入力してください",
                        "kind": "invalid",
                    }
                ],
            )
        line = self.trade_line(trade)
        if trade != "鉄筋":
            return answer(
                200,
                {
                    **line,
                    "title": None,
                    "bodies": [],
                    "source": None,
                    "source_urls": [],
                    "provisional": None,
                    "notes": None,
                    "on": TODAY,
                    "levels": [],
                    "versions": [],
                },
            )

        def item(name: str, codes: list[str]) -> dict[str, Any]:
            return {
                "kind": "item",
                "item": name,
                "label": name,
                "codes": codes,
                "category": None,
                "includes": [],
            }

        levels = [
            {
                "level": 2,
                "days": 645,
                "foreman_scope": None,
                "foreman_days": 0,
                "qualifications": {
                    "kind": "all_of",
                    "label": "",
                    "min_days": None,
                    "children": [item("玉掛け技能講習", ["40040"])],
                },
                "provisional": False,
            },
            {
                "level": 3,
                "days": 1505,
                "foreman_scope": "職長又は班長",
                "foreman_days": 645,
                "qualifications": {
                    "kind": "all_of",
                    "label": "",
                    "min_days": None,
                    "children": [item("1級鉄筋施工技能士", [])],
                },
                "provisional": False,
            },
            {
                "level": 4,
                "days": 2150,
                "foreman_scope": "職長",
                "foreman_days": 645,
                "qualifications": {
                    "kind": "any_of",
                    "label": "",
                    "min_days": None,
                    "children": [
                        item("登録鉄筋基幹技能者", []),
                        item("優秀施工者国土交通大臣顕彰", ["91002"]),
                    ],
                },
                "provisional": False,
            },
        ]
        versions = [
            {
                "version_id": "鉄筋@2019-10-08",
                "effective_from": "2019-10-08",
                "revision": 1,
                "latest_revision": True,
                "superseded_by": None,
                "published_at": "2026-12-01T00:00:00+00:00",
                "published_by": "seed",
                "approved_by": None,
                "drafted_by": None,
                "draft_id": None,
                "reason": "同梱の基準マスタ（初期登録）",
                "in_force": True,
            }
        ]
        return answer(
            200,
            {
                **line,
                "title": "鉄筋技能者",
                "bodies": ["公益社団法人全国鉄筋工事業協会"],
                "source": "鉄筋技能者 能力評価基準",
                "source_urls": ["https://www.zentekkin.or.jp/191101_news/"],
                "provisional": False,
                "notes": None,
                "on": query.get("on", TODAY),
                "levels": levels,
                "versions": versions,
            },
        )

    def create(self, body: dict[str, Any], author: str | None = None) -> httpx.Response:
        trade = body.get("trade", "")
        if not self.handles(trade) or self.role != "criteria_editor":
            return refusal(
                403, "other_trade", f"分野「{trade}」の基準を扱う権限がありません（担当分野のみ）。"
            )
        if not body.get("corrects") and not body.get("effective_from"):
            return refusal(422, "effective_from_required", "適用開始日を入力してください")
        draft_id = f"CD-20261208-{len(self.drafts):06x}"
        draft = {
            "draft_id": draft_id,
            "trade": trade,
            "effective_from": body.get("effective_from") or "2019-10-08",
            "corrects": body.get("corrects"),
            "table": body.get("table") or {},
            "new_qualifications": body.get("new_qualifications") or [],
            "status": "draft",
            "author": author or self.login_id,
            "version": 1,
            "created_at": "2026-12-08T01:00:00+00:00",
            "updated_at": "2026-12-08T01:00:00+00:00",
            "submitted_at": None,
            "decided_at": None,
            "decided_by": None,
            "return_reason": None,
            "published_version": None,
            "rejudge_run_id": None,
        }
        self.drafts[draft_id] = draft
        return answer(201, self.view(draft))

    def upload(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("content-type") != "application/yaml":
            return refusal(
                415,
                "unsupported_media_type",
                "YAMLファイル（Content-Type: application/yaml）を送信してください",
            )
        text = request.content.decode()
        if "&" in text:
            return refusal(422, "yaml_anchor", "アンカー（&）は使えません（3行目）", problems=[])
        if "未知の資格" in text:
            return refusal(
                422,
                "invalid_upload",
                "アップロードされた表に1件の問題があるため、登録しませんでした",
                problems=[
                    {
                        "path": "levels.2.qualifications.all_of.0",
                        "message_ja": "資格「未知の資格」は資格カタログにありません。",
                        "kind": "invalid",
                    }
                ],
            )
        return self.create(
            {"trade": "型枠", "effective_from": TODAY, "table": {"source": "upload"}}
        )

    def on_draft(
        self, draft: dict[str, Any], rest: str, method: str, body: dict[str, Any]
    ) -> httpx.Response:
        if rest == "" and method == "GET":
            return answer(200, self.view(draft))
        if rest == "" and method == "PUT":
            days = [lv.get("days") for lv in body.get("table", {}).get("levels", {}).values()]
            if any(isinstance(d, str) for d in days):
                n = next(
                    k
                    for k, lv in body["table"]["levels"].items()
                    if isinstance(lv.get("days"), str)
                )
                return refusal(
                    422,
                    "validation_error",
                    "入力内容を読み取れません。項目ごとのメッセージを確認してください",
                    problems=[
                        {
                            "path": f"table.levels.{n}.days",
                            "message_ja": f"レベル{n}の就業日数は0以上の整数で入力してください",
                            "kind": "invalid",
                        }
                    ],
                    rejected=body,
                )
            if body.get("version") != draft["version"]:
                return refusal(
                    409,
                    "stale_draft",
                    f"あなたが編集を始めた版（{body.get('version')}）の後に、他の方が版{draft['version']}を保存しています。",
                    your_version=body.get("version"),
                    current_version=draft["version"],
                    rejected=body,
                )
            if draft["status"] not in ("draft", "returned"):
                return refusal(409, "not_editable", "承認待ちの下書きは変更できません")
            draft.update(
                table=body["table"],
                new_qualifications=body["new_qualifications"],
                version=draft["version"] + 1,
                status="draft",
            )
            if body.get("effective_from"):
                draft["effective_from"] = body["effective_from"]
            return answer(200, self.view(draft))
        if rest == "/submit":
            problems = self.problems(draft)
            if problems:
                return refusal(
                    422,
                    "has_problems",
                    f"この下書きには{len(problems)}件の問題があるため、承認依頼できません。",
                    problems=problems,
                )
            draft.update(status="submitted", submitted_at="2026-12-08T02:00:00+00:00")
            return answer(200, self.view(draft, False))
        if rest == "/withdraw":
            draft["status"] = "withdrawn"
            return answer(200, self.view(draft, False))
        if rest == "/diff":
            return answer(
                200,
                {
                    "draft_id": draft["draft_id"],
                    "against": "鉄筋@2019-10-08",
                    "changes": [
                        {
                            "level": 2,
                            "criterion": "days",
                            "criterion_ja": "就業日数",
                            "before": "645日",
                            "after": "700日",
                            "change": "changed",
                            "change_ja": "変更",
                            "summary_ja": "レベル2の就業日数：645日 → 700日",
                            "items_added": [],
                            "items_removed": [],
                        },
                        {
                            "level": 4,
                            "criterion": "qualifications",
                            "criterion_ja": "保有資格",
                            "before": "次のいずれか：A、B",
                            "after": "次のいずれか：A、C",
                            "change": "changed",
                            "change_ja": "変更",
                            "summary_ja": "…",
                            "items_added": ["C"],
                            "items_removed": ["B"],
                        },
                        {
                            "level": None,
                            "criterion": "catalogue",
                            "criterion_ja": "資格カタログ",
                            "before": None,
                            "after": "1級型枠施工技能士（資格コード 10301、区分 技能士）",
                            "change": "added",
                            "change_ja": "追加",
                            "summary_ja": "資格カタログに…を追加",
                            "items_added": [],
                            "items_removed": [],
                        },
                    ],
                },
            )
        if rest == "/impact" and method == "POST":
            if self.impact_unavailable:
                return refusal(
                    503,
                    "impact_unavailable",
                    "影響確認は現在利用できません（改定案の基準を組み立てられません）。",
                )
            self.impact = {
                "draft_id": draft["draft_id"],
                "trade": draft["trade"],
                "status": "running",
                "status_ja": "実行中",
                "phase": "workers",
                "phase_ja": "技能者の判定",
                "done": 50,
                "total": 200,
                "workers": 0,
                "counts": {"up": 0, "down": 0, "unchanged": 0},
                "lines": {"up": 0, "down": 0, "unchanged": 0},
                "sample": [],
                "as_of": TODAY,
                "version_in_force": None,
                "version_drafted": f"型枠@{TODAY}",
                "finished_at": None,
                "error": None,
            }
            return answer(202, self.impact)
        if rest == "/impact":
            if self.impact is None:
                return refusal(
                    404, "impact_not_found", "この下書きの影響確認はまだ実行されていません。"
                )
            return answer(200, self.impact)
        if rest == "/impact.csv":
            if self.impact is None or self.impact["status"] != "done":
                return refusal(
                    409,
                    "impact_not_done",
                    "影響確認が完了していません。完了後にダウンロードしてください。",
                )
            return httpx.Response(
                200,
                headers={"content-type": "text/csv; charset=utf-8"},
                content="\ufeff区分,技能者ID\r\n技能者,9900******0002\r\n".encode(),
            )
        if rest == "/approve":
            if self.role != "criteria_approver":
                return refusal(403, "forbidden", "この操作を行う権限がありません。")
            if draft["author"] == self.login_id:
                return refusal(
                    403,
                    "own_draft",
                    "自分が作成した下書きは承認できません。作成者以外の承認者が承認してください",
                )
            if not body.get("reason"):
                return refusal(
                    422,
                    "validation_error",
                    "入力内容を読み取れません。",
                    problems=[
                        {
                            "path": "reason",
                            "message_ja": "この項目を入力してください",
                            "kind": "invalid",
                        }
                    ],
                )
            if body.get("effective_from") and body["effective_from"] < TODAY:
                return refusal(
                    422,
                    "effective_from_past",
                    f"新しい版の適用開始日は今日（{TODAY}）以降にしてください",
                )
            if body.get("rejudge") and not draft["corrects"]:
                return refusal(
                    422,
                    "rejudge_needs_correction",
                    "再判定は訂正（同じ適用開始日の版の修正）のときだけ選べます",
                )
            effective = body.get("effective_from") or draft["effective_from"]
            draft.update(
                status="approved",
                decided_by=self.login_id,
                published_version=f"{draft['trade']}@{effective}",
            )
            return answer(
                200,
                {
                    "version": {
                        "version_id": draft["published_version"],
                        "trade": draft["trade"],
                        "effective_from": effective,
                        "revision": 1,
                    },
                    "draft": self.view(draft, False),
                    "rejudge": None,
                },
            )
        if rest == "/return":
            if body.get("reason") == " ":
                return refusal(422, "reason_required", "差戻しの理由を入力してください")
            if not body.get("reason"):
                return refusal(
                    422,
                    "validation_error",
                    "入力内容を読み取れません。",
                    problems=[
                        {
                            "path": "reason",
                            "message_ja": "この項目を入力してください",
                            "kind": "invalid",
                        }
                    ],
                )
            draft.update(status="returned", return_reason=body["reason"], decided_by=self.login_id)
            return answer(200, self.view(draft, False))
        return refusal(404, "not_found", "見つかりません")


Portal = tuple[httpx.AsyncClient, Judgement]


@pytest.fixture
async def portal() -> AsyncIterator[Portal]:
    fake = Judgement()
    async with running_portal(fake) as client:
        yield client, fake


async def log_in(
    client: httpx.AsyncClient, fake: Judgement, role: str, login_id: str
) -> httpx.Response:
    fake.role, fake.login_id = role, login_id
    page = await client.get("/login", headers=HTML)
    done = await client.post(
        "/login",
        data={"csrf_token": csrf_of(page), "login_id": login_id, "password": "Pw12345678"},
        headers=HTML,
    )
    assert done.status_code == 303, done.text
    return done


def text_of(page: httpx.Response) -> str:
    """The page's text without tags (what a reader sees), spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))


def fields_of(page: httpx.Response) -> dict[str, str]:
    """The values a browser would post for the draft form (inputs, textareas, selects,
    checked checkboxes); no button."""
    form = page.text[page.text.index('id="draft-form"') :]
    form = form[: form.index("</form>")]
    fields: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]*)"', tag)
        if not name or 'type="submit"' in tag:
            continue
        if 'type="checkbox"' in tag and "checked" not in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        fields[name[1]] = _unescape(value[1]) if value else ("on" if "checkbox" in tag else "")
    for name, value in re.findall(
        r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S
    ):
        fields[name] = _unescape(value)
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', options) or re.search(
            r'<option value="([^"]*)"', options
        )
        fields[name] = _unescape(chosen[1]) if chosen else ""
    return fields


def _unescape(text: str) -> str:
    return (
        text.replace("&#34;", '"')
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
    )


async def post_form(
    client: httpx.AsyncClient, page: httpx.Response, action: str, **changes: str
) -> httpx.Response:
    data = {**fields_of(page), **changes, "action": action, "csrf_token": csrf_of(page)}
    url = re.search(r'<form method="post" action="([^"]+)" class="form form--wide', page.text)
    assert url
    return await client.post(url[1], data=data, headers=HTML)


async def new_draft(client: httpx.AsyncClient, fake: Judgement) -> tuple[str, httpx.Response]:
    page = await client.get("/criteria/drafts/new?trade=型枠", headers=HTML)
    assert page.status_code == 200, page.text
    done = await client.post(
        "/criteria/drafts/new",
        data={
            "csrf_token": csrf_of(page),
            "trade": "型枠",
            "kind": "new",
            "effective_from": TODAY,
            "start": "empty",
        },
        headers=HTML,
    )
    assert done.status_code == 303, done.text
    draft_page = await client.get(done.headers["location"], headers=HTML)
    return done.headers["location"], draft_page


# --- menu and master -------------------------------------------------------------------------


async def test_criteria_staff_land_on_the_criteria_menu_with_their_navigation(
    portal: Portal,
) -> None:
    client, fake = portal
    done = await log_in(client, fake, "criteria_editor", "kijun0001")
    assert done.headers["location"] == "/criteria"
    menu = await client.get("/criteria", headers=HTML)
    assert menu.status_code == 200
    text = text_of(menu)
    assert "担当分野" in text and "型枠" in text and "下書きを作成" in text
    assert "基準編集者（能力評価実施団体）" in text
    for label in ("基準管理", "基準マスタ一覧", "下書き"):
        assert f">{label}</a>" in menu.text
    assert (await client.get("/menu", headers=HTML)).status_code == 403  # the employer's menu
    assert (await client.get("/criteria/approvals", headers=HTML)).status_code == 403
    assert (await client.get("/criteria/audit", headers=HTML)).status_code == 403

    await client.post("/logout", data={"csrf_token": csrf_of(menu)}, headers=HTML)
    done = await log_in(client, fake, "criteria_approver", "shonin001")
    assert done.headers["location"] == "/criteria"
    menu = await client.get("/criteria", headers=HTML)
    assert "承認待ちの下書き" in menu.text and ">監査ログ</a>" in menu.text
    assert (await client.get("/criteria/drafts/upload", headers=HTML)).status_code == 403


async def test_the_master_list_names_versions_by_trade_and_date_and_filters_by_status(
    portal: Portal,
) -> None:
    client, fake = portal
    await log_in(client, fake, "criteria_editor", "kijun0001")
    page = await client.get("/criteria/trades", headers=HTML)
    text = text_of(page)
    assert "鉄筋（2019年10月8日施行）" in text
    assert "鉄筋@2019-10-08" not in page.text  # never the internal id
    assert "判定可" in text and "一部" in text and "未登録" in text
    assert 'class="table-wrap"' in page.text
    assert "担当" in text  # 型枠 is the editor's
    partial = await client.get("/criteria/trades?status=partial", headers=HTML)
    rows = re.findall(r'<th scope="row"><a href="/criteria/trades/[^"]+">([^<]+)</a>', partial.text)
    assert rows == ["型枠"]


async def test_a_trades_table_reads_as_the_official_criteria_with_history_and_yaml(
    portal: Portal,
) -> None:
    client, fake = portal
    await log_in(client, fake, "criteria_editor", "kijun0001")
    page = await client.get("/criteria/trades/鉄筋", headers=HTML)
    assert page.status_code == 200
    text = text_of(page)
    assert "鉄筋の判定基準" in text
    assert "645日以上" in text and "1,505日以上" in text and "職長又は班長として" in text
    assert "玉掛け技能講習 〔40040〕" in text
    assert "次のいずれか1つ" in text and "●" in text
    assert "初期登録（システム同梱の基準）" in text and "適用中" in text
    assert "この分野の下書きを作成" not in text  # 鉄筋 is not the editor's 分野
    yaml = await client.get("/criteria/versions/鉄筋@2019-10-08.yaml")
    assert yaml.status_code == 200 and yaml.text.startswith("tables:")
    assert "attachment" in yaml.headers["content-disposition"]
    on = await client.get("/criteria/trades/鉄筋?on=yesterday", headers=HTML)
    assert on.status_code == 200 and "日付（YYYY-MM-DD）で入力してください" in on.text
    kata = await client.get("/criteria/trades/型枠", headers=HTML)
    assert "この分野の判定基準はまだ登録されていません" in kata.text
    assert "この分野の下書きを作成" in kata.text
    missing = await client.get("/criteria/trades/存在しない", headers=HTML)
    assert missing.status_code == 404 and "分野「存在しない」はありません" in missing.text


# --- drafts ----------------------------------------------------------------------------------


async def test_an_editor_builds_a_draft_with_the_form_round_trips_and_saves_it(
    portal: Portal,
) -> None:
    client, fake = portal
    await log_in(client, fake, "criteria_editor", "kijun0001")
    url, page = await new_draft(client, fake)
    assert "下書き（CD-20261208-000000）を作成しました" in page.text
    # the stored draft's problems, next to their fields
    assert re.search(
        r'id="f-source-error">.*出典（基準の根拠となる資料）を入力してください', page.text
    )
    assert re.search(r'id="f-levels-4-error">.*レベル4の基準が入力されていません', page.text)
    # a condition for level 2, found in the catalogue by code, added without JavaScript
    page = await post_form(client, page, "root|2")
    assert "レベル2に保有資格の条件を追加しました" in page.text
    assert "変更はまだ保存されていません" in page.text
    page = await post_form(
        client, page, "search|levels.2.qualifications", **{"find.levels.2.qualifications": "40040"}
    )
    assert "「40040」の検索結果（1件）" in page.text
    assert 'value="add|levels.2.qualifications|玉掛け技能講習"' in page.text
    page = await post_form(client, page, "add|levels.2.qualifications|玉掛け技能講習")
    assert "「玉掛け技能講習」を追加しました" in page.text
    assert fake.drafts["CD-20261208-000000"]["version"] == 1  # nothing saved yet
    # an unknown search term: the way to propose it
    page = await post_form(
        client,
        page,
        "search|levels.2.qualifications",
        **{"find.levels.2.qualifications": "型枠施工"},
    )
    assert "一致する資格は資格カタログにありません" in page.text
    saved = await post_form(
        client, page, "save", **{"levels.2.days": "６４５", "source": "型枠技能者 能力評価基準"}
    )
    assert saved.status_code == 303 and saved.headers["location"] == url
    method, path, _, body = fake.sent[-1]
    assert (method, path) == ("PUT", "/criteria/drafts/CD-20261208-000000")
    sent = json.loads(body)
    assert sent["version"] == 1
    assert sent["table"]["levels"] == {
        "2": {"days": 645, "qualifications": {"all_of": ["玉掛け技能講習"]}}
    }
    assert sent["effective_from"] == TODAY
    after = await client.get(url, headers=HTML)
    assert "下書きを保存しました（版2）" in after.text
    assert "出典（基準の根拠となる資料）を入力してください" not in after.text


async def test_a_correction_starts_from_the_published_version(portal: Portal) -> None:
    client, fake = portal
    fake.trades = ["鉄筋"]
    await log_in(client, fake, "criteria_editor", "kijun0001")
    page = await client.get("/criteria/drafts/new?trade=鉄筋", headers=HTML)
    assert "公開済みの版の訂正" in page.text
    assert (
        '<option value="鉄筋@2019-10-08" selected>鉄筋（2019年10月8日施行）（適用中）</option>'
        in page.text
    )
    done = await client.post(
        "/criteria/drafts/new",
        data={
            "csrf_token": csrf_of(page),
            "trade": "鉄筋",
            "kind": "correction",
            "corrects": "鉄筋@2019-10-08",
            "start": "copy",
        },
        headers=HTML,
    )
    assert done.status_code == 303
    create = next(
        json.loads(b) for m, p, _, b in fake.sent if (m, p) == ("POST", "/criteria/drafts")
    )
    assert create["corrects"] == "鉄筋@2019-10-08" and "effective_from" not in create
    assert create["table"] == TEKKIN_TABLE  # the version's table, without trade and date
    draft = await client.get(done.headers["location"], headers=HTML)
    text = text_of(draft)
    assert "鉄筋（2019年10月8日施行）の訂正" in text
    assert "訂正する版と同じ日。変更できません" in text
    assert 'name="effective_from"' not in draft.text
    # a new version without a date: the service's message next to the date
    page = await client.get("/criteria/drafts/new?trade=鉄筋", headers=HTML)
    refused = await client.post(
        "/criteria/drafts/new",
        data={
            "csrf_token": csrf_of(page),
            "trade": "鉄筋",
            "kind": "new",
            "effective_from": "",
            "start": "empty",
        },
        headers=HTML,
    )
    assert refused.status_code == 422
    assert re.search(r'id="f-effective_from-error">.*適用開始日を入力してください', refused.text)


async def test_unreadable_input_comes_back_next_to_its_field_with_everything_typed_kept(
    portal: Portal,
) -> None:
    client, fake = portal
    await log_in(client, fake, "criteria_editor", "kijun0001")
    _, page = await new_draft(client, fake)
    refused = await post_form(
        client, page, "save", **{"levels.3.days": "千五百", "source": "残る出典"}
    )
    assert refused.status_code == 422
    assert re.search(
        r'id="f-levels-3-days-error">.*レベル3の就業日数は0以上の整数で入力してください',
        refused.text,
    )
    assert 'value="千五百"' in refused.text and "残る出典" in refused.text
    assert "Traceback" not in refused.text


async def test_a_proposed_qualification_can_be_added_and_its_problems_land_on_its_fields(
    portal: Portal,
) -> None:
    client, fake = portal
    await log_in(client, fake, "criteria_editor", "kijun0001")
    url, page = await new_draft(client, fake)
    page = await post_form(client, page, "newqual")
    page = await post_form(client, page, "root|3")
    page = await post_form(
        client,
        page,
        "search|levels.3.qualifications",
        **{
            "new_qualifications.0.name": "1級型枠施工技能士",
            "new_qualifications.0.codes": "123",
            "new_qualifications.0.category": "技能士",
            "find.levels.3.qualifications": "型枠",
        },
    )
    assert 'value="add|levels.3.qualifications|1級型枠施工技能士"' in page.text
    assert "新規提案" in page.text
    page = await post_form(client, page, "add|levels.3.qualifications|1級型枠施工技能士")
    saved = await post_form(client, page, "save")
    assert saved.status_code == 303
    sent = json.loads(fake.sent[-1][3])
    assert sent["new_qualifications"][0]["name"] == "1級型枠施工技能士"
    assert sent["table"]["levels"]["3"]["qualifications"] == {"all_of": ["1級型枠施工技能士"]}
    after = await client.get(url, headers=HTML)
    assert re.search(
        r'id="f-new_qualifications-0-codes-error">.*資格コードは5桁の数字で入力してください（「123」）',
        after.text,
    )


async def test_a_stale_save_shows_both_versions_keeps_the_input_and_can_overwrite(
    portal: Portal,
) -> None:
    client, fake = portal
    await log_in(client, fake, "criteria_editor", "kijun0001")
    _, page = await new_draft(client, fake)
    draft = fake.drafts["CD-20261208-000000"]
    draft.update(
        version=3, table={"source": "他の方の出典", "levels": {"2": {"days": 700}}}
    )  # someone else saved
    stale = await post_form(client, page, "save", **{"levels.2.days": "645", "source": "私の出典"})
    assert stale.status_code == 409
    text = text_of(stale)
    assert "ほかの方が先に保存しています" in text
    assert "保存されている内容（版3）" in text and "あなたの入力（未保存）" in text
    assert "700日以上" in text and "645日以上" in text
    assert "他の方の出典" in text
    assert (
        'value="645"' in stale.text and "私の出典" in stale.text
    )  # the input is still in the form
    assert draft["table"]["source"] == "他の方の出典"  # nothing overwritten
    over = await post_form(client, stale, "overwrite")
    assert over.status_code == 303
    assert json.loads(fake.sent[-1][3])["version"] == 3
    assert draft["table"]["source"] == "私の出典"


async def test_submit_is_refused_while_problems_remain_then_accepted(portal: Portal) -> None:
    client, fake = portal
    await log_in(client, fake, "criteria_editor", "kijun0001")
    url, page = await new_draft(client, fake)
    refused = await post_form(client, page, "submit", source="出典")
    assert refused.status_code == 422
    assert "保存しましたが、承認依頼はできませんでした" in refused.text
    assert "承認依頼できません" in refused.text
    assert re.search(r'id="f-levels-3-error">.*レベル3の基準が入力されていません', refused.text)
    assert fake.drafts["CD-20261208-000000"]["status"] == "draft"
    changes = {"levels.2.days": "645", "levels.3.days": "1505", "levels.4.days": "2150"}
    done = await post_form(client, refused, "submit", **changes)
    assert done.status_code == 303
    assert fake.drafts["CD-20261208-000000"]["status"] == "submitted"
    page = await client.get(url, headers=HTML)
    assert "承認を依頼しました" in page.text and "承認を依頼中です" in page.text
    assert 'id="draft-form"' not in page.text  # read-only now
    # withdraw needs the confirmation
    token = csrf_of(page)
    nope = await client.post(f"{url}/withdraw", data={"csrf_token": token}, headers=HTML)
    assert nope.status_code == 422 and "取り下げる場合は" in nope.text
    done = await client.post(
        f"{url}/withdraw", data={"csrf_token": token, "confirm": "yes"}, headers=HTML
    )
    assert done.status_code == 303
    assert fake.drafts["CD-20261208-000000"]["status"] == "withdrawn"


async def test_another_trades_draft_is_the_portals_403_page(portal: Portal) -> None:
    client, fake = portal
    fake.role = "criteria_editor"
    fake.trades = ["鉄筋"]
    fake.create({"trade": "鉄筋", "effective_from": TODAY, "table": {}}, author="other0001")
    fake.trades = ["型枠"]
    await log_in(client, fake, "criteria_editor", "kijun0001")
    page = await client.get("/criteria/drafts/CD-20261208-000000", headers=HTML)
    assert page.status_code == 403
    assert (
        "表示する権限がありません" in page.text
        and "分野「鉄筋」の基準を扱う権限がありません" in page.text
    )
    assert (await client.get("/criteria/drafts/new?trade=鉄筋", headers=HTML)).status_code == 403
    assert (
        await client.get("/criteria/drafts/CD-20261208-000000/diff", headers=HTML)
    ).status_code == 403
    missing = await client.get("/criteria/drafts/CD-nothing", headers=HTML)
    assert missing.status_code == 404 and "該当する下書きがありません" in missing.text


# --- diff and impact -------------------------------------------------------------------------


async def test_the_diff_reads_before_and_after_per_level(portal: Portal) -> None:
    client, fake = portal
    await log_in(client, fake, "criteria_editor", "kijun0001")
    url, _ = await new_draft(client, fake)
    page = await client.get(f"{url}/diff", headers=HTML)
    text = text_of(page)
    assert "比較対象： 鉄筋（2019年10月8日施行）" in text
    assert "レベル2" in text and "645日" in text and "700日" in text and "変更" in text
    assert "追加：「C」" in text and "削除：「B」" in text
    assert (
        "表全体・資格カタログ" in text
        and "1級型枠施工技能士（資格コード 10301、区分 技能士）" in text
    )


async def test_the_impact_preview_shows_progress_then_counts_sample_and_csv(portal: Portal) -> None:
    client, fake = portal
    await log_in(client, fake, "criteria_editor", "kijun0001")
    url, _ = await new_draft(client, fake)
    page = await client.get(f"{url}/impact", headers=HTML)
    assert "まだ実行されていません" in page.text and "影響確認を開始" in page.text
    fake.impact_unavailable = True
    refused = await client.post(f"{url}/impact", data={"csrf_token": csrf_of(page)}, headers=HTML)
    assert refused.status_code == 303  # not the 503 outage page: the service's own reason
    page = await client.get(f"{url}/impact", headers=HTML)
    assert "影響確認を開始できませんでした。影響確認は現在利用できません" in page.text
    fake.impact_unavailable = False
    started = await client.post(f"{url}/impact", data={"csrf_token": csrf_of(page)}, headers=HTML)
    assert started.status_code == 303
    running = await client.get(f"{url}/impact", headers=HTML)
    assert '<meta http-equiv="refresh" content="2">' in running.text
    assert '<progress id="impact-progress" max="100" value="25">' in running.text
    assert "技能者の判定：50件／200件" in text_of(running)
    csv = await client.get(f"{url}/impact.csv", headers=HTML)
    assert csv.status_code == 303  # not done yet: back to the page with the message
    assert fake.impact is not None
    fake.impact.update(
        status="done",
        status_ja="完了",
        done=200,
        workers=12,
        finished_at="2026-12-08T03:00:00+00:00",
        counts={"up": 3, "down": 1, "unchanged": 8},
        lines={"up": 0, "down": 2, "unchanged": 5},
        sample=[
            {
                "kind": "worker",
                "kind_ja": "技能者",
                "worker_id": "9900******0002",
                "line_id": None,
                "application_date": TODAY,
                "requested_level": 4,
                "level_before": 1,
                "level_after": 3,
                "change": "up",
                "change_ja": "上昇",
                "criterion_ja": f"判定基準 判定基準なし → 型枠@{TODAY}",
                "version_before": None,
                "version_after": f"型枠@{TODAY}",
            }
        ],
    )
    done = await client.get(f"{url}/impact", headers=HTML)
    text = text_of(done)
    assert "http-equiv" not in done.text
    assert "技能者（この分野の12人） 3人 1人 8人" in text
    assert "判定済みの申請明細 0件 2件 5件" in text
    assert "9900******0002" in text and "レベル1 → レベル3" in text and "上昇" in text
    assert "改定案：型枠（2026年12月8日施行）" in text
    csv = await client.get(f"{url}/impact.csv", headers=HTML)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]


# --- approvals and audit ---------------------------------------------------------------------


async def _submitted(
    fake: Judgement, author: str = "kijun0001", corrects: str | None = None
) -> str:
    fake.role, fake.trades = "criteria_editor", ["型枠"]
    fake.create(
        {
            "trade": "型枠",
            "effective_from": TODAY,
            "corrects": corrects,
            "table": {"source": "s", "levels": {"2": {}, "3": {}, "4": {}}},
        },
        author=author,
    )
    draft_id = list(fake.drafts)[-1]
    fake.drafts[draft_id].update(status="submitted", submitted_at="2026-12-08T02:00:00+00:00")
    return draft_id


async def test_an_approver_reviews_and_approves_a_draft(portal: Portal) -> None:
    client, fake = portal
    draft_id = await _submitted(fake)
    await log_in(client, fake, "criteria_approver", "shonin001")
    queue = await client.get("/criteria/approvals", headers=HTML)
    assert "承認待ち（1件" in queue.text and f"/criteria/approvals/{draft_id}" in queue.text
    page = await client.get(f"/criteria/approvals/{draft_id}", headers=HTML)
    text = text_of(page)
    assert "差分" in text and "影響確認はまだ実行されていません" in text
    assert "公開後、この基準で判定された完了済みの判定を再判定する" in text
    token = csrf_of(page)
    approve = f"/criteria/approvals/{draft_id}/approve"
    # the reason is required (the service's message next to the field)
    no_reason = await client.post(
        approve, data={"csrf_token": token, "effective_from": TODAY}, headers=HTML
    )
    assert no_reason.status_code == 422
    assert re.search(r'id="f-reason-error">.*この項目を入力してください', no_reason.text)
    past = await client.post(
        approve,
        data={"csrf_token": token, "effective_from": "2020-01-01", "reason": "r"},
        headers=HTML,
    )
    assert past.status_code == 422 and re.search(
        r'id="f-effective_from-error">.*今日（2026-12-08）以降', past.text
    )
    rejudge = await client.post(
        approve,
        data={"csrf_token": token, "effective_from": TODAY, "reason": "r", "rejudge": "on"},
        headers=HTML,
    )
    assert rejudge.status_code == 422 and re.search(r'id="f-rejudge-error">.*訂正', rejudge.text)
    assert 'name="rejudge" checked' in rejudge.text  # what was chosen is kept
    done = await client.post(
        approve,
        data={"csrf_token": token, "effective_from": TODAY, "reason": "型枠の基準の登録"},
        headers=HTML,
    )
    assert (
        done.status_code == 303
        and done.headers["location"] == "/criteria/trades/%E5%9E%8B%E6%9E%A0"
    )
    body = json.loads(fake.sent[-1][3])
    assert body == {"reason": "型枠の基準の登録", "rejudge": False, "effective_from": TODAY}
    after = await client.get(done.headers["location"], headers=HTML)
    assert "型枠（2026年12月8日施行）を承認し、公開しました" in after.text


async def test_an_approver_cannot_approve_his_own_draft_and_returns_need_a_reason(
    portal: Portal,
) -> None:
    client, fake = portal
    draft_id = await _submitted(fake, author="shonin001")
    await log_in(client, fake, "criteria_approver", "shonin001")
    page = await client.get(f"/criteria/approvals/{draft_id}", headers=HTML)
    own = await client.post(
        f"/criteria/approvals/{draft_id}/approve",
        data={"csrf_token": csrf_of(page), "effective_from": TODAY, "reason": "r"},
        headers=HTML,
    )
    assert own.status_code == 403
    assert "自分が作成した下書きは承認できません" in own.text
    assert "承認して公開する" in own.text  # the approval page, not the bare 403 page
    assert fake.drafts[draft_id]["status"] == "submitted"
    no_reason = await client.post(
        f"/criteria/approvals/{draft_id}/return",
        data={"csrf_token": csrf_of(page), "return_reason": ""},
        headers=HTML,
    )
    assert no_reason.status_code == 422
    assert re.search(r'id="f-return_reason-error">.*この項目を入力してください', no_reason.text)
    blank = await client.post(
        f"/criteria/approvals/{draft_id}/return",
        data={"csrf_token": csrf_of(page), "return_reason": " "},
        headers=HTML,
    )
    assert re.search(r'id="f-return_reason-error">.*差戻しの理由を入力してください', blank.text)
    done = await client.post(
        f"/criteria/approvals/{draft_id}/return",
        data={"csrf_token": csrf_of(page), "return_reason": "レベル4の資格を確認してください"},
        headers=HTML,
    )
    assert done.status_code == 303
    assert fake.drafts[draft_id]["status"] == "returned"


async def test_the_audit_log_for_approvers(portal: Portal) -> None:
    client, fake = portal
    fake.audit = [
        {
            "id": "1",
            "at": "2026-12-08T01:00:00Z",
            "actor": "kijun0001",
            "role": "criteria_editor",
            "action": "draft_created",
            "trade": "型枠",
            "draft_id": "CD-1",
            "version_id": None,
            "reason": None,
            "rejudge_run_id": None,
        },
        {
            "id": "2",
            "at": "2026-12-08T05:00:00Z",
            "actor": "shonin001",
            "role": "criteria_approver",
            "action": "published",
            "trade": "型枠",
            "draft_id": "CD-1",
            "version_id": f"型枠@{TODAY}",
            "reason": "登録",
            "rejudge_run_id": None,
        },
    ]
    await log_in(client, fake, "criteria_approver", "shonin001")
    page = await client.get("/criteria/audit", headers=HTML)
    text = text_of(page)
    rows = re.findall(r'<td class="nowrap">([^<]+)</td>\s*<td>型枠', page.text)
    assert rows == ["公開", "下書きの作成"]  # newest first
    assert "型枠（2026年12月8日施行）" in text and "基準承認者" in text
    assert "2026年12月8日 14:00" in text  # Japan time


# --- YAML upload -----------------------------------------------------------------------------


async def test_a_yaml_upload_becomes_a_draft_and_refusals_are_shown_with_their_place(
    portal: Portal,
) -> None:
    client, fake = portal
    await log_in(client, fake, "criteria_editor", "kijun0001")
    page = await client.get("/criteria/drafts/upload", headers=HTML)
    token = csrf_of(page)

    async def upload(content: bytes) -> httpx.Response:
        return await client.post(
            "/criteria/drafts/upload",
            data={"csrf_token": token},
            files={"file": ("kata.yaml", content, "application/octet-stream")},
            headers=HTML,
        )

    anchor = await upload(b"tables:\n- &a trade: x\n")
    assert anchor.status_code == 422 and "アンカー（&amp;）は使えません（3行目）" in anchor.text
    invalid = await upload(
        "tables:\n- levels: {2: {qualifications: {all_of: [未知の資格]}}}\n".encode()
    )
    assert invalid.status_code == 422
    assert (
        "levels.2.qualifications.all_of.0" in invalid.text
        and "資格「未知の資格」は資格カタログにありません" in invalid.text
    )
    done = await upload(b"tables:\n- trade: x\n")
    assert done.status_code == 303 and done.headers["location"].startswith("/criteria/drafts/CD-")
    assert fake.sent[-1][2]["content-type"] == "application/yaml"
    big = await upload(b"#" * (1024 * 1024 + 100 * 1024))  # past 1 MB and the framing allowance
    assert big.status_code == 413
    assert "アップロードできる判定基準のファイル（YAML）は1MBまでです" in big.text
    just_over = await upload(b"#" * (1024 * 1024 + 10))  # within the framing allowance
    assert just_over.status_code == 413 and "1MBまでです" in just_over.text
    assert not any(
        path == "/criteria/drafts/upload" and len(body) > 1024 * 1024
        for _, path, _, body in fake.sent
    )


# --- outages ---------------------------------------------------------------------------------


async def test_an_unavailable_judgement_service_is_the_japanese_503_page(portal: Portal) -> None:
    client, fake = portal
    await log_in(client, fake, "criteria_editor", "kijun0001")
    fake.down = True
    for path in ("/criteria", "/criteria/trades", "/criteria/trades/鉄筋", "/criteria/drafts"):
        page = await client.get(path, headers=HTML)
        assert page.status_code == 503, path
        assert "レベル判定サービスに接続できない" in page.text and "Traceback" not in page.text
