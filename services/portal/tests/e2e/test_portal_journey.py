"""A new employer's whole journey through the portal in a real browser (Chromium).

仮申請 → the temporary password from the mail in the SMTP sink → 本申請 → ログイン →
メニュー → 個人情報利用申請 (three workers, the signed form uploaded; the demo stack approves
complete applications) → 代行申請 (levels 2 and 3, the required 職長・班長 years first
forgotten; a third worker whose CCUS data needs an evaluator) → 判定プレビュー → 確認 →
申請 → 「申請が完了しました」 → the evaluator confirms the third judgement →
結果確認 with 詳細 → 結果通知書 PDF; the same line form without JavaScript; phone width;
the operations screen for an operator. Screenshots of every screen go to
``var/test-artifacts/portal/``.
"""

from __future__ import annotations

import email
import email.policy
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from .conftest import AXE

Stack = Any  # the ``stack`` fixture of conftest.py (ports, environment, staff accounts)

PASSWORD = "Genba-Tanto-2026"
WORKERS = [
    ("99000000000001", "髙橋 健太", "タカハシ ケンタ", "1994-07-15"),
    ("99000000000002", "𠮷野 翔太", "ヨシノ ショウタ", "1988-02-29"),
    ("99000000000006", "濵田 由美", "ハマダ ユミ", "1990-08-19"),
]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--lang=ja",
]


@pytest.fixture(scope="module")
def browser(stack: Stack) -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=stack.chromium, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


ARTIFACTS = Path(__file__).resolve().parents[4] / "var" / "test-artifacts" / "portal"


def shot(page: Page, name: str) -> None:
    """A screenshot of the screen, and axe-core on it (conftest ``AXE``)."""
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    AXE.check(page, name)


def activation_link(sink_url: str, address: str, timeout: float = 90) -> str:
    """The activation link of the mail identity sent to ``address`` (its path and query)."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=sink_url, timeout=30) as sink:  # a busy sink lists slowly
        while time.monotonic() < deadline:
            for message in sink.get("/api/messages").json():
                if message["to"] == address and "利用者本申請のご案内" in message["subject"]:
                    raw = sink.get(f"/messages/{message['name']}").content
                    mail = email.message_from_bytes(raw, policy=email.policy.default)
                    body = mail.get_body(("plain",))
                    assert body is not None
                    text = body.get_content()
                    assert "仮パスワード" not in text
                    found = re.search(r"https?://[^/\s]+(/register/activate\?token=\S+)", text)
                    assert found, text
                    return found.group(1)
            time.sleep(0.3)
    raise AssertionError(f"no activation mail for {address} within {timeout}s")


def activation_token(sink_url: str, address: str) -> str:
    return activation_link(sink_url, address).split("token=", 1)[1]


def log_in(page: Page, base: str, login_id: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("ログインID").fill(login_id)
    page.locator("#f-password").fill(password)
    page.get_by_role("button", name="ログイン", exact=True).click()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="ログアウト").click()
    expect(page.locator(".notice")).to_contain_text("ログアウトしました。")


def no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] if page.viewport_size else True, width


@pytest.mark.timeout(300)
def test_a_new_employer_applies_and_reads_the_result(stack: Stack, browser: Browser) -> None:
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="ja-JP", accept_downloads=True
    )
    page = context.new_page()
    try:
        journey(stack, browser, page)
    except BaseException:
        for n, open_page in enumerate(context.pages + browser.contexts[-1].pages):
            open_page.screenshot(path=str(ARTIFACTS / f"failure-{n}.png"), full_page=True)
        raise
    finally:
        context.close()


def journey(stack: Stack, browser: Browser, page: Page) -> None:
    base = stack.portal
    run = uuid.uuid4().hex[:6]
    login_id = f"kensetsu{run}"
    address = f"e2e.{stack.run}.{run}@example.jp"
    employer_id = f"1{int(time.time() * 1000) % 10**13:013d}"

    # --- ポータル, 利用者仮申請 -------------------------------------------------------------
    page.goto(base + "/")
    expect(page.get_by_role("heading", name="初めての方は仮申請から")).to_be_visible()
    expect(page.get_by_role("heading", name="本登録完了後は、ここからログイン")).to_be_visible()
    shot(page, "01-portal")
    page.get_by_role("link", name="利用者仮申請へ進む").click()
    expect(page.get_by_text("忘れないように！！")).to_be_visible()
    page.get_by_role("button", name="仮申請する").click()
    expect(page.locator("#f-login_id-error")).to_have_text(re.compile("ログインID"))
    shot(page, "02-register-errors")
    page.get_by_label("ログインID").fill(login_id)
    page.get_by_label("本申請用リンクの送信先メールアドレス").fill(address)
    page.get_by_label("事業者ID").fill(employer_id)
    page.get_by_label("商号又は名称").fill("株式会社髙﨑建設")
    page.get_by_label("所在地").fill("東京都千代田区丸の内1-1")
    page.get_by_label("代表者名").fill("髙﨑 誠一")
    page.get_by_label("電話番号").fill("03-1234-5678")
    page.get_by_role("button", name="仮申請する").click()
    expect(page.get_by_role("heading", name="仮申請を受け付けました")).to_be_visible()
    shot(page, "03-register-done")

    # --- 利用者本申請 (the link from the mail), ログイン -------------------------------------
    page.goto(base + activation_link(stack.sink, address))
    expect(page).to_have_url(base + "/register/activate")  # the token left the address bar
    expect(page.locator("main")).to_contain_text(login_id)
    page.locator("#f-new_password").fill("Password1")  # too common: refused
    page.get_by_label("新しいパスワード（確認）").fill("Password1")
    page.get_by_role("button", name="本申請する").click()
    expect(page.locator(".error-summary")).to_contain_text("よく使われている")
    page.locator("#f-new_password").fill(PASSWORD)
    page.get_by_label("新しいパスワード（確認）").fill(PASSWORD)
    shot(page, "04-activate")
    page.get_by_role("button", name="本申請する").click()
    expect(page.get_by_role("heading", name="利用者本登録が完了しました")).to_be_visible()
    shot(page, "05-activate-done")
    page.get_by_role("link", name="ログイン", exact=True).last.click()
    page.get_by_label("ログインID").fill(login_id)
    page.locator("#f-password").fill("wrong-password-1A")
    page.get_by_role("button", name="ログイン", exact=True).click()
    expect(page.locator(".error-summary")).to_contain_text(
        "ログインIDまたはパスワードが正しくありません"
    )
    shot(page, "06-login-error")
    page.locator("#f-password").fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    expect(page).to_have_url(base + "/menu")
    expect(page.locator("main")).to_contain_text(employer_id)
    shot(page, "07-menu")

    # --- 個人情報利用申請 ----------------------------------------------------------------------
    page.get_by_role("link", name="個人情報利用申請").first.click()
    expect(page.get_by_label("商号又は名称")).to_have_value("株式会社髙﨑建設")  # prefilled
    for index, (worker_id, name, kana, born) in enumerate(WORKERS):
        if index:
            page.get_by_role("button", name="＋ 技能者を追加").click()
        page.locator(f"#f-workers-{index}-worker_id").fill(worker_id)
        page.locator(f"#f-workers-{index}-name").fill(name)
        page.locator(f"#f-workers-{index}-name_kana").fill(kana)
        page.locator(f"#f-workers-{index}-birth_date").fill(born)
    page.get_by_role("button", name="個人情報利用申請をする").click()  # the items not ticked
    expect(page.locator("#f-consent_items-fee-error")).to_be_visible()
    expect(page.locator("#f-workers-2-name_kana")).to_have_value("ハマダ ユミ")  # kept
    shot(page, "08-consent-errors")
    for item in ("view_ccus_data", "proxy_application", "card_issuance", "fee"):
        page.locator(f"#f-consent_items-{item}").check()
    page.get_by_role("button", name="個人情報利用申請をする").click()
    expect(page.locator(".notice--success")).to_contain_text("個人情報利用申請を受け付けました")
    shot(page, "09-consents-filed")
    with page.expect_download() as download:
        page.get_by_role("link", name="個人情報利用同意書のダウンロード").first.click()
    form_pdf = Path(download.value.path())
    assert form_pdf.read_bytes().startswith(b"%PDF-")
    assert download.value.suggested_filename.startswith("個人情報利用同意書_")
    for _ in WORKERS:  # the signed forms (here: the downloaded form itself)
        upload = page.locator("form.upload-form").first
        upload.get_by_label(re.compile("署名後添付")).set_input_files(form_pdf)
        upload.get_by_role("button", name="添付する").click()
        expect(page.locator(".notice--success")).to_contain_text("個人情報利用申請が承認されました")
    expect(page.locator("#consent-list .status--approved")).to_have_count(3)
    shot(page, "10-consents-approved")

    # --- 代行申請 (parent, worker lines, preview, confirmation, 申請) ----------------------------
    page.get_by_role("link", name="レベル判定代行申請").first.click()
    page.get_by_role("button", name="新しい代行申請を作成").click()
    expect(page).to_have_url(re.compile(r"/applications/AP-\d{8}-[0-9A-Z]{6}$"))
    application_id = page.url.rsplit("/", 1)[1]
    page.get_by_label("郵便番号").fill("100-0005")
    page.get_by_label("都道府県").select_option("東京都")
    page.get_by_label("市区町村・番地").fill("千代田区丸の内1-1")
    page.get_by_label("宛名").fill("株式会社髙﨑建設 総務部")
    page.get_by_label("電話番号").fill("03-1234-5678")
    page.get_by_label(re.compile("^経歴証明")).check()
    page.get_by_label(re.compile("^カード発行に関する同意")).check()
    shot(page, "11-application-parent")
    lines = [("99000000000001", "鉄筋", "2"), ("99000000000002", "電気工事", "3")]
    lines.append(("99000000000006", "硝子工事", "2"))
    for worker_id, trade, level in lines:
        page.get_by_role("button", name="＋ 技能者追加").click()
        page.locator("#f-worker_id").select_option(worker_id)  # reloads (JS)
        expect(page.get_by_text("個人情報利用申請時に入力した情報")).to_be_visible()
        expect(page.get_by_label("起算点（就業開始日）")).not_to_have_value("")  # from CCUS
        expect(page.locator("[data-foreman]")).to_be_hidden()
        page.get_by_label("分野").select_option(trade)
        page.get_by_role("radio", name=re.compile(f"レベル{level}")).check()
        if level == "3":
            expect(page.locator("[data-foreman]")).to_be_visible()
            shot(page, "12-line-level3")
            page.get_by_role("button", name="この技能者を追加").click()  # 入力漏れ
            expect(page.locator("#f-foreman-years-error")).to_contain_text("職長")
            expect(page.locator("#f-leader-months-error")).to_contain_text("班長")
            shot(page, "13-line-level3-missing-foreman")
            for field in ("foreman-years", "foreman-months", "leader-years", "leader-months"):
                page.locator(f"#f-{field}").fill("0")
        page.get_by_role("button", name="この技能者を追加").click()
        expect(page.locator(".notice--success").first).to_contain_text("申請はまだ完了していません")
    page.get_by_role("button", name="全員の判定プレビュー").click()
    expect(page.locator(".preview")).to_have_count(3)
    expect(page.locator(".preview--ok")).to_have_count(3)
    shot(page, "14-application-preview")

    # --- before 申請: the line form without JavaScript; the unsubmitted drafts' banner ----------
    plain = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="ja-JP", java_script_enabled=False
    )
    AXE.without_javascript(plain)
    nojs = plain.new_page()
    log_in(nojs, base, login_id, PASSWORD)
    nojs.goto(base + "/applications")
    nojs.get_by_role("button", name="新しい代行申請を作成").click()
    nojs.get_by_role("button", name="＋ 技能者追加").click()
    expect(nojs.locator("[data-foreman]")).to_be_visible()  # nothing hides it without JS
    nojs.locator("#f-worker_id").select_option("99000000000001")
    nojs.get_by_role("button", name="この技能者を選択（同意内容と就業期間を表示）").click()
    expect(nojs.get_by_text("個人情報利用申請時に入力した情報")).to_be_visible()
    shot(nojs, "17-line-without-javascript")
    nojs.get_by_label("分野").select_option("鉄筋")
    nojs.get_by_role("radio", name=re.compile("レベル2")).check()
    nojs.get_by_role("button", name="この技能者を追加").click()
    nojs.goto(base + "/menu")
    expect(nojs.locator(".banner")).to_contain_text("未申請の代行申請があります")
    expect(nojs.locator(".banner")).to_contain_text(application_id)
    shot(nojs, "18-menu-draft-banner")
    nojs.set_viewport_size({"width": 390, "height": 844})
    nojs.reload()
    no_horizontal_scroll(nojs)
    nojs.screenshot(path=str(ARTIFACTS / "19-menu-phone.png"))
    plain.close()

    page.get_by_role("button", name="確認画面へ").click()
    expect(page.get_by_text("申請ボタンの押し忘れが多いため注意")).to_be_visible()
    key = page.locator("input[name=idempotency_key]").input_value()
    assert re.fullmatch(r"[0-9a-f-]{36}", key)
    shot(page, "15-application-confirm")
    page.get_by_role("button", name="申請", exact=True).click()
    expect(page.get_by_role("heading", name="申請が完了しました")).to_be_visible()
    expect(page.locator(".panel__number")).to_have_text(application_id)
    shot(page, "16-application-done")

    # --- the evaluator confirms the judgement that needs a review ------------------------------
    log_out(page)
    evaluator, evaluator_password = stack.staff("evaluator")
    log_in(page, base, evaluator, evaluator_password)
    expect(page).to_have_url(base + "/review")
    page.get_by_role("link", name="判定結果の審査").first.click()
    item = page.locator("article.review-item").filter(has_text="濵田 由美")
    for _ in range(40):  # the judgement arrives asynchronously
        if item.count():
            break
        time.sleep(0.5)
        page.reload()
    expect(item).to_contain_text("資格コードの誤登録の可能性があります")
    shot(page, "20-review-judgements")
    item.get_by_role("button", name="変更して確定する").click()
    expect(page.locator(".field__error").first).to_be_visible()  # level and reason required
    shot(page, "21-review-override-refused")
    page.locator("article.review-item").filter(has_text="濵田 由美").get_by_role(
        "button", name="この結果で確定する"
    ).click()
    expect(page.locator(".notice--success")).to_contain_text("濵田 由美さんの判定を確定しました")
    page.get_by_role("link", name="個人情報利用申請の審査").first.click()
    shot(page, "22-review-consents")
    log_out(page)

    # --- レベル判定結果確認, 詳細, 結果通知書 -------------------------------------------------
    log_in(page, base, login_id, PASSWORD)
    page.goto(f"{base}/results/{application_id}")
    notices = page.get_by_role("link", name="結果通知書出力")
    for _ in range(60):  # judgement → JudgementCompleted → document → ResultNoticeGenerated
        if notices.count() == 3:
            break
        time.sleep(0.5)
        page.reload()
    expect(notices).to_have_count(3)
    expect(page.locator("main")).to_contain_text(f"事業者ID{employer_id}")
    rows = page.locator("tbody tr")
    expect(rows.filter(has_text="髙橋 健太")).to_contain_text("承認")
    expect(rows.filter(has_text="髙橋 健太")).to_contain_text("判定レベル：レベル2（ブルー）")
    expect(rows.filter(has_text="𠮷野 翔太")).to_contain_text("判定レベル：レベル3（シルバー）")
    shot(page, "23-results")
    rows.filter(has_text="𠮷野 翔太").get_by_role("link", name="詳細").click()
    detail = page.locator("#detail")
    expect(detail).to_contain_text("経歴申告情報とCCUSからの取得情報との整合結果")
    expect(detail).to_contain_text("CCUSの情報が優先されます")
    expect(detail).to_contain_text("第一種電気工事士免状取得者")  # a CCUS qualification
    expect(detail.locator("caption", has_text="レベル3（シルバー）の基準")).to_be_visible()
    shot(page, "24-results-detail")
    with page.expect_download() as download:
        detail.get_by_role("link", name="結果通知書出力（PDF）").click()
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF-") and len(pdf) > 10_000
    assert download.value.suggested_filename.startswith("結果通知書_RN-")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/applications/{application_id}")
    no_horizontal_scroll(page)
    page.screenshot(path=str(ARTIFACTS / "25-application-phone.png"))
    page.set_viewport_size({"width": 1280, "height": 800})
    log_out(page)

    # --- the operations screen ----------------------------------------------------------------
    operator, operator_password = stack.staff("operator")
    log_in(page, base, operator, operator_password)
    expect(page).to_have_url(base + "/ops")
    page.goto(base + "/ops?refresh=0")
    table = page.locator("table.ops-table")
    for service in ("identity", "consent", "application", "judgement", "notification", "document"):
        expect(table.locator("tr", has_text=service).locator(".health--ok")).to_have_count(2)
    lag = page.locator(
        "section", has=page.get_by_role("heading", name="コンシューマーラグ（グループ別）")
    )
    expect(lag).to_contain_text(f"e2e-portal-{stack.run}.judgement.judgements")
    expect(page.get_by_role("heading", name="デッドレター件数")).to_be_visible()
    expect(page.get_by_role("heading", name="直近の障害")).to_be_visible()
    shot(page, "26-operations")
    page.get_by_role("link", name="デッドレターの確認と再投入").click()
    expect(page.get_by_role("heading", name="デッドレター", exact=True)).to_be_visible()
    expect(page.get_by_text("デッドレターはありません。")).to_be_visible()  # every service answered
    expect(page.get_by_text("一覧を取得できませんでした")).to_have_count(0)
    shot(page, "27-dead-letters")
