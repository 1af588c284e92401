"""基準管理 (issue 21) in a real browser, on the portal's process stack (conftest.py).

型枠 has no table today. A body's editor (``criteria_editor`` bound to 型枠, created with
``python -m identity create-user`` as an operator would) logs in, lands on 基準管理, reads
the master list and 鉄筋's table, and enters 型枠's table as a draft through the structured
form **without JavaScript** (test-fixture numbers in the shape of judgement-rules.md §4:
L2 645 days + 玉掛け技能講習; L3 1,505 days + 職長又は班長 645 + 1級型枠施工技能士; L4 2,150
days + 職長 645 + 登録型枠基幹技能者 or 優秀施工者国土交通大臣顕彰 — the two 型枠 items are not
in the catalogue, so the draft proposes them with test codes). On the way: the submission
refused while levels are missing, a field the service cannot read shown next to it, the
catalogue searched and items added by form round trips. Then the 差分, the 影響確認 on
three 型枠 workers published through the CCUS feed (``python -m judgement feed file``), the
submission; the approver (``criteria_approver``) finds it in the queue, is refused without a
reason, approves it; the 監査ログ. Finally the judgement service judges a 型枠 worker with the
new table (``POST /preview/worker``, as the stack's evaluator) and the pages fit 375 px.

Screenshots go to ``var/test-artifacts/portal/criteria/`` (those of docs/criteria-admin.md's
guide were taken from here).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import AXE
from .test_portal_journey import ARTIFACTS, browser, log_in

__all__ = ["browser"]  # the module-scoped browser fixture of the journey, shared

Stack = Any
SHOTS = ARTIFACTS / "criteria"
EDITOR_PASSWORD = "Kijun-e2e-2026"
APPROVER_PASSWORD = "Shonin-e2e-2026"
TRADE = "型枠"
KATA_1 = ("1級型枠施工技能士", "10301", "技能士")  # test codes: not known CCUS codes
KATA_KIKAN = ("登録型枠基幹技能者", "00099", "登録基幹技能者")
# 型枠 workers: (技能者ID, days, foreman days, qualifications) → the level the new table gives
WORKERS = [
    ("98000000000101", 800, 0, ["玉掛け", "1級型枠"], 2),
    ("98000000000102", 1700, 700, ["玉掛け", "1級型枠"], 3),
    ("98000000000103", 2300, 900, ["玉掛け", "1級型枠", "基幹"], 4),
]


def shot(page: Page, name: str, full: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)
    AXE.check(page, f"criteria-{name}")


def run(
    stack: Stack, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> str:
    done = subprocess.run(
        [sys.executable, "-m", *args],
        env={**stack.env, **(env or {})},
        input=stdin.encode() if stdin is not None else None,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, (args, done.stderr.decode(errors="replace"))
    return done.stdout.decode()


def tokyo_today() -> date:
    return datetime.now(ZoneInfo("Asia/Tokyo")).date()


def work_days(count: int, until: date) -> list[date]:
    """The last ``count`` Monday–Saturday dates before ``until``, oldest first."""
    days: list[date] = []
    day = until - timedelta(days=1)
    while len(days) < count:
        if day.weekday() < 6:
            days.append(day)
        day -= timedelta(days=1)
    return days[::-1]


def kata_workers(today: date) -> list[dict[str, Any]]:
    records = {
        "玉掛け": {"code": "40040", "name": "玉掛け技能講習", "acquired_on": "2012-05-10"},
        "1級型枠": {"code": KATA_1[1], "name": KATA_1[0], "acquired_on": "2016-09-01"},
        "基幹": {"code": KATA_KIKAN[1], "name": KATA_KIKAN[0], "acquired_on": "2024-02-01"},
    }
    workers = []
    for n, (worker_id, count, foreman, held, _) in enumerate(WORKERS):
        days = work_days(count, today)
        workers.append(
            {
                "worker_id": worker_id,
                "registration_type": "detailed",
                "registered_on": days[0].isoformat(),
                "name": ["型枠 一郎", "型枠 二郎", "型枠 三郎"][n],
                "name_kana": ["カタワク イチロウ", "カタワク ジロウ", "カタワク サブロウ"][n],
                "birth_date": "1980-04-01",
                "occupations": [],
                "qualifications": [records[h] for h in held],
                "work_history": [
                    {
                        "date": d.isoformat(),
                        "site_id": f"S{10000000 + n * 1000 + i // 60:08d}",
                        "role": "foreman" if i >= count - foreman else "worker",
                        "occupation_code": None,
                    }
                    for i, d in enumerate(days)
                ],
            }
        )
    return workers


@pytest.fixture(scope="module")
def staff(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A 型枠 editor and an approver (identity's admin command line), and 型枠 workers in CCUS."""
    run_id = stack.run[:6]
    editor, approver = f"kijun{run_id}", f"shonin{run_id}"
    binding = {"IDENTITY_JUDGEMENT_URL": stack.url("judgement")}  # 分野 are checked there
    run(
        stack, "identity", "create-user", "--role", "criteria_editor", "--trade", TRADE,
        "--login-id", editor, "--email", f"{editor}@example.jp",
        stdin=EDITOR_PASSWORD + "\n", env=binding,
    )  # fmt: skip
    run(
        stack, "identity", "create-user", "--role", "criteria_approver",
        "--login-id", approver, "--email", f"{approver}@example.jp",
        stdin=APPROVER_PASSWORD + "\n", env=binding,
    )  # fmt: skip
    feed = tmp_path_factory.mktemp("kata") / "kata-workers.json"
    feed.write_text(json.dumps(kata_workers(tokyo_today()), ensure_ascii=False), encoding="utf-8")
    out = run(stack, "judgement", "feed", "file", str(feed))
    assert json.loads(out.strip().splitlines()[-1])["published"] == len(WORKERS), out
    yield {"editor": editor, "approver": approver}


def no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert page.viewport_size is not None
    assert width <= page.viewport_size["width"], (page.url, width)


def search_and_add(page: Page, target: str, query: str, name: str) -> None:
    page.locator(f"#f-find-{target.replace('.', '-')}").fill(query)
    page.locator(f'button[value="search|{target}"]').click()
    page.locator(f'button[value="add|{target}|{name}"]').click()
    expect(page.locator('p.notice--info[role="status"]')).to_contain_text(
        f"「{name}」を追加しました"
    )


@pytest.mark.timeout(400)
def test_a_body_enters_a_table_and_the_approver_publishes_it(
    stack: Stack, browser: Browser, staff: dict[str, str]
) -> None:
    editor_ctx = browser.new_context(
        viewport={"width": 1280, "height": 900},
        locale="ja-JP",
        java_script_enabled=False,  # every screen works without JavaScript
        accept_downloads=True,
    )
    AXE.without_javascript(editor_ctx)
    approver_ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    try:
        journey(stack, staff, editor_ctx.new_page(), approver_ctx.new_page())
    except BaseException:
        for n, open_page in enumerate([*editor_ctx.pages, *approver_ctx.pages]):
            open_page.screenshot(path=str(SHOTS / f"failure-{n}.png"), full_page=True)
        raise
    finally:
        editor_ctx.close()
        approver_ctx.close()


def journey(stack: Stack, staff: dict[str, str], page: Page, approver: Page) -> None:
    base = stack.portal
    today = tokyo_today()

    # --- 基準管理メニュー, 基準マスタ一覧, 鉄筋's table --------------------------------------
    log_in(page, base, staff["editor"], EDITOR_PASSWORD)
    expect(page).to_have_url(base + "/criteria")
    expect(page.locator("main")).to_contain_text("担当分野")
    expect(page.locator("main table")).to_contain_text(TRADE)
    shot(page, "01-menu-editor")
    page.get_by_role("link", name="基準マスタ一覧").first.click()
    expect(page.locator("#trades")).to_contain_text("鉄筋（2019年10月8日施行）")
    assert "鉄筋@2019-10-08" not in page.content()
    shot(page, "02-master-list")
    page.locator("#f-status").select_option("partial")
    page.get_by_role("button", name="表示").click()
    expect(page.locator("#trades tbody tr", has_text=TRADE)).to_contain_text("一部")
    expect(page.locator("#trades tbody tr", has_text="鉄筋")).to_have_count(0)
    page.goto(f"{base}/criteria/trades/鉄筋")
    expect(page.locator("#criteria-table")).to_contain_text("玉掛け技能講習〔40040〕")
    expect(page.locator("#criteria-table")).to_contain_text("職長又は班長として")
    shot(page, "03-trade-table")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("^YAMLで出力")).click()
    assert Path(download.value.path()).read_text(encoding="utf-8").count("trade: 鉄筋") == 1

    # --- a new draft for 型枠 ----------------------------------------------------------------
    page.goto(f"{base}/criteria/trades/{TRADE}")
    expect(page.locator("main")).to_contain_text("この分野の判定基準はまだ登録されていません")
    page.get_by_role("link", name="この分野の下書きを作成").click()
    page.locator("#f-effective_from").fill(today.isoformat())
    shot(page, "04-draft-new")
    page.get_by_role("button", name="下書きを作成").click()
    expect(page.locator(".notice--success")).to_contain_text("を作成しました")
    draft_url = page.url
    draft_id = draft_url.rsplit("/", 1)[1]
    expect(page.locator("#f-levels-4-error")).to_contain_text("レベル4の基準が入力されていません")
    page.locator('button[value="submit"]').click()  # nothing entered yet: refused
    expect(page.locator(".error-summary")).to_contain_text("承認依頼できません")
    shot(page, "05-draft-submit-refused")

    # --- the structured form, round trip by round trip ---------------------------------------
    page.locator("#f-source").fill("型枠技能者 能力評価基準（e2e テスト用の値）")
    for level, days, scope, foreman in (
        ("2", "645", "", ""),
        ("3", "1,505", "職長又は班長", "645"),
        ("4", "2150", "職長", "645"),
    ):
        page.locator(f"#f-levels-{level}-days").fill(days)
        if scope:
            page.locator(f"#f-levels-{level}-foreman-scope").select_option(scope)
            page.locator(f"#f-levels-{level}-foreman-days").fill(foreman)
    page.locator('button[value="newqual"]').click()
    page.locator('button[value="newqual"]').click()
    for index, (name, code, category) in enumerate((KATA_1, KATA_KIKAN)):
        page.locator(f"#f-new_qualifications-{index}-name").fill(name)
        page.locator(f"#f-new_qualifications-{index}-codes").fill(code)
        page.locator(f"#f-new_qualifications-{index}-category").select_option(category)
    for level in ("2", "3", "4"):
        page.locator(f'button[value="root|{level}"]').click()
    search_and_add(page, "levels.2.qualifications", "玉掛", "玉掛け技能講習")
    search_and_add(page, "levels.3.qualifications", "型枠施工", KATA_1[0])
    page.locator("#f-levels-4-qualifications-kind").select_option("any_of")
    search_and_add(page, "levels.4.qualifications", KATA_KIKAN[1], KATA_KIKAN[0])
    page.locator("#f-find-levels-4-qualifications").fill("91002")
    page.locator('button[value="search|levels.4.qualifications"]').click()
    expect(page.locator(".search-results")).to_contain_text("優秀施工者国土交通大臣顕彰")
    shot(page, "06-draft-search")
    page.locator('button[value="add|levels.4.qualifications|優秀施工者国土交通大臣顕彰"]').click()
    expect(page.locator("#f-levels-3-days")).to_have_value("1,505")  # every value kept
    page.locator("#f-levels-2-days").fill("六四五")  # not a number: the service says so
    page.locator('button[value="save"]').click()
    expect(page.locator("#f-levels-2-days-error")).to_contain_text(
        "レベル2の就業日数は0以上の整数で入力してください"
    )
    expect(page.locator("#f-new_qualifications-1-name")).to_have_value(KATA_KIKAN[0])  # kept
    shot(page, "07-draft-field-error")
    page.locator("#f-levels-2-days").fill("645")
    page.locator('button[value="save"]').click()
    expect(page.locator(".notice--success")).to_contain_text("下書きを保存しました")
    expect(page.locator(".error-summary")).to_have_count(0)  # nothing left to solve
    shot(page, "08-draft-form")

    # --- 差分, 影響確認 --------------------------------------------------------------------------
    page.get_by_role("link", name="差分").click()
    expect(page.locator("main")).to_contain_text("この分野で初めての版です")
    expect(page.locator("main")).to_contain_text("1,505日")
    expect(page.locator("main")).to_contain_text(
        f"{KATA_1[0]}（資格コード {KATA_1[1]}、区分 技能士）"
    )
    shot(page, "09-diff")
    page.get_by_role("link", name="影響確認").click()
    page.get_by_role("button", name="影響確認を開始").click()
    unavailable = page.locator(".notice--error", has_text="影響確認は現在利用できません")
    if unavailable.count():
        # the judgement service does not provide drafted masters to the preview yet
        # (docs/criteria-admin.md "Impact preview": 503 impact_unavailable until wired)
        impact_done = False
    else:
        expect(page.locator("#result-title")).to_be_visible(timeout=90_000)  # meta refresh
        text = page.locator(".impact-counts").inner_text()
        assert re.search(r"技能者（この分野の3人）\s+3人\s+0人\s+0人", text), text
        expect(page.locator("main table").last).to_contain_text("レベル1 → レベル4")
        impact_done = True
    shot(page, "10-impact")

    # --- 承認を依頼 ------------------------------------------------------------------------------
    page.get_by_role("link", name="内容の入力").click()
    page.locator('button[value="submit"]').click()
    expect(page.locator(".notice--success")).to_contain_text("承認を依頼しました")
    expect(page.locator(".status--submitted").first).to_have_text("承認待ち")

    # --- the approver ---------------------------------------------------------------------------
    log_in(approver, base, staff["approver"], APPROVER_PASSWORD)
    expect(approver).to_have_url(base + "/criteria")
    approver.get_by_role("link", name=re.compile("承認待ちの下書き")).click()
    row = approver.locator("tbody tr", has_text=TRADE)
    expect(row).to_contain_text(staff["editor"])
    shot(approver, "11-approval-queue")
    row.get_by_role("link", name=re.compile("確認する")).click()
    expect(approver.locator("#diff-title")).to_be_visible()
    if impact_done:
        expect(approver.locator(".impact-counts")).to_contain_text("3人")
    expect(approver.locator("#f-effective_from")).to_have_value(today.isoformat())
    approver.get_by_role("button", name="承認して公開する").click()  # no reason
    expect(approver.locator("#f-reason-error")).to_contain_text("入力してください")
    shot(approver, "12-approval-reason-missing")
    approver.locator("#f-reason").fill("型枠の能力評価基準の登録（e2e）")
    approver.get_by_role("button", name="承認して公開する").click()
    name = f"{TRADE}（{today.year}年{today.month}月{today.day}日施行）"
    expect(approver.locator(".notice--success")).to_contain_text(f"{name}を承認し、公開しました")
    expect(approver.locator("#criteria-table")).to_contain_text(f"{KATA_1[0]}〔{KATA_1[1]}〕")
    expect(approver.locator("main")).to_contain_text("判定可")
    shot(approver, "13-published")
    approver.get_by_role("link", name="監査ログ").first.click()
    for action in ("下書きの作成", "下書きの保存", "承認依頼", "承認", "公開"):
        expect(approver.locator("tbody")).to_contain_text(action)
    shot(approver, "14-audit")

    # --- the editor sees it published; the pages fit a phone ---------------------------------
    page.goto(draft_url)
    expect(page.locator(".notice--success")).to_contain_text(f"{name}として公開されました")
    page.set_viewport_size({"width": 375, "height": 800})
    for path in (
        "/criteria",
        "/criteria/trades",
        f"/criteria/trades/{TRADE}",
        draft_url,
        f"{draft_url}/diff",
    ):
        page.goto(path if path.startswith("http") else base + path)
        no_horizontal_scroll(page)
    page.goto(f"{base}/criteria/trades/{TRADE}")
    shot(page, "15-trade-phone")

    # --- the judgement service judges 型枠 with the new table --------------------------------
    evaluator, password = stack.staff("evaluator")
    with httpx.Client(timeout=30) as client:
        login = client.post(
            f"{stack.url('identity')}/sessions", json={"login_id": evaluator, "password": password}
        )
        assert login.status_code == 201, login.text
        token = login.json()["access_token"]
        for worker_id, _, _, _, level in WORKERS:
            preview = client.post(
                f"{stack.url('judgement')}/preview/worker",
                json={
                    "worker_id": worker_id,
                    "trade": TRADE,
                    "requested_level": level,
                    "application_date": today.isoformat(),
                },
                headers={"Authorization": f"Bearer {token}"},
            )
            assert preview.status_code == 200, preview.text
            result = preview.json()
            assert result["criteria_version"] == f"{TRADE}@{today.isoformat()}", result
            assert (result["decision"], result["eligible_level"]) == ("approved", level), result
    assert draft_id.startswith("CD-")
