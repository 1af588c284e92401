"""レベル診断 → 代行申請に追加 → 申請 in a real browser, and the 代行申請 path with the keyboard
only (issue 25).

The employer is made through the services' APIs, as README's walk-through does (仮申請, the
activation link from the mail sink, 本申請, 個人情報利用申請 for three demo workers with the
signed form; the test stack approves complete consent applications): 髙橋 健太 (鉄筋, reaches
level 2 today), 佐藤 大輔 (簡略型: certainly rejected) and 山﨑 隆 (建築大工, level 3). The
helpers and the shared browser are the other journeys' (``test_portal_journey``,
``test_rejudgement_journey``); axe runs on every screen (``shot``, conftest ``AXE``).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from .test_portal_journey import activation_token, browser, log_in, shot
from .test_rejudgement_journey import SIGNED_FORM, ok, until

__all__ = ["browser"]  # the module-scoped browser fixture of the journey, shared

Stack = Any
PASSWORD = "Shindan-e2e-2026"
WORKERS = [
    {"worker_id": "99000000000001", "name": "髙橋 健太", "name_kana": "タカハシ ケンタ",
     "birth_date": "1994-07-15"},
    {"worker_id": "99000000000004", "name": "佐藤 大輔", "name_kana": "サトウ ダイスケ",
     "birth_date": "1985-12-01"},
    {"worker_id": "99000000000005", "name": "山﨑 隆", "name_kana": "ヤマサキ タカシ",
     "birth_date": "1975-04-08"},
]  # fmt: skip
EMPLOYER = {
    "employer_name": "株式会社診断建設",
    "representative_name": "髙﨑 誠一",
    "postal_code": "100-0005",
    "address": "東京都千代田区丸の内1-1",
    "phone_number": "03-1234-5678",
}


@dataclass(frozen=True)
class Employer:
    login_id: str
    password: str


@pytest.fixture(scope="module")
def demo_employer(stack: Stack) -> Employer:
    """An employer with an account and approved consents of three demo workers."""
    run = uuid.uuid4().hex[:6]
    login_id, address = f"shindan{run}", f"outlook.{stack.run}.{run}@example.jp"
    employer_id = f"3{int(time.time() * 1000) % 10**13:013d}"
    with httpx.Client(timeout=30) as http:
        identity, consent = stack.url("identity"), stack.url("consent")
        registration = {
            "login_id": login_id,
            "email": address,
            "employer_id": employer_id,
            "employer_name": EMPLOYER["employer_name"],
            "address": EMPLOYER["address"],
            "representative_name": EMPLOYER["representative_name"],
            "phone_number": EMPLOYER["phone_number"],
        }
        ok(http.post(f"{identity}/registrations", json=registration), 201)
        activation = {
            "token": activation_token(stack.sink, address),
            "new_password": PASSWORD,
            "new_password_confirmation": PASSWORD,
        }
        ok(http.post(f"{identity}/activations", json=activation))
        session = {"login_id": login_id, "password": PASSWORD}
        token = ok(http.post(f"{identity}/sessions", json=session), 201)["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        items = ("view_ccus_data", "proxy_application", "card_issuance", "fee")
        filed = ok(
            http.post(
                f"{consent}/consent-applications",
                json={
                    "employer": EMPLOYER,
                    "workers": WORKERS,
                    "consent_items": dict.fromkeys(items, True),
                },
                headers=auth,
            ),
            201,
        )
        for each in filed["consents"]:
            ok(
                http.put(
                    f"{consent}/consents/{each['consent_id']}/signed-form",
                    content=SIGNED_FORM,
                    headers={**auth, "X-File-Name": "signed.pdf"},
                ),
                200,
                201,
            )
        wanted = {w["worker_id"] for w in WORKERS}
        until(
            "the three workers selectable",
            lambda: (
                wanted
                <= {
                    w["worker_id"]
                    for w in ok(http.get(f"{stack.url('application')}/workers", headers=auth))
                }
                or None
            ),
        )
    return Employer(login_id, PASSWORD)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context: BrowserContext = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="ja-JP"
    )
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


def new_draft(page: Page, base: str) -> str:
    page.goto(base + "/applications")
    page.get_by_role("button", name="新しい代行申請を作成").click()
    expect(page).to_have_url(re.compile(r"/applications/AP-\d{8}-[0-9A-Z]{6}$"))
    return page.url.rsplit("/", 1)[1]


@pytest.mark.timeout(240)
def test_outlook_adds_a_worker_who_can_apply_now_and_the_draft_is_filed(
    stack: Stack, demo_employer: Employer, page: Page
) -> None:
    base = stack.portal
    log_in(page, base, demo_employer.login_id, demo_employer.password)
    expect(page).to_have_url(base + "/menu")
    application_id = new_draft(page, base)  # 「代行申請に追加」 adds to the newest draft
    page.get_by_label("郵便番号").fill("100-0005")
    page.get_by_label("都道府県").select_option("東京都")
    page.get_by_label("市区町村・番地").fill("千代田区丸の内1-1")
    page.get_by_label("宛名").fill("株式会社診断建設 総務部")
    page.get_by_label("電話番号").fill("03-1234-5678")
    page.get_by_label(re.compile("^経歴証明")).check()
    page.get_by_label(re.compile("^カード発行に関する同意")).check()
    page.get_by_role("button", name="一時保存").click()
    expect(page.locator(".notice--success")).to_contain_text("保存しました")

    # --- レベル診断 ------------------------------------------------------------------------
    page.goto(base + "/menu")
    page.get_by_role("link", name=re.compile("レベル診断")).first.click()
    expect(page.get_by_role("heading", name="レベル診断", exact=True)).to_be_visible()
    table = page.locator("table.outlook")
    yamazaki = table.locator("tbody tr", has_text="山﨑 隆")
    expect(yamazaki).to_contain_text("建築大工")  # his CCUS 職種 name the 分野
    expect(yamazaki.get_by_role("link", name=re.compile("代行申請に追加"))).to_have_count(1)
    shot(page, "outlook-01-table")
    page.set_viewport_size({"width": 375, "height": 800})
    shot(page, "outlook-02-table-phone")
    page.set_viewport_size({"width": 1280, "height": 800})
    # 髙橋's 職種 name no 分野: asked for 鉄筋, he reaches level 2 and can apply now
    page.get_by_label("分野").select_option("鉄筋")
    page.get_by_label("今すぐ申請できる").check()
    page.get_by_role("button", name="絞り込む").click()
    row = table.locator("tbody tr", has_text="髙橋 健太")
    expect(row).to_contain_text("鉄筋")
    expect(row).to_contain_text("レベル2")
    expect(table.locator("tbody tr", has_text="佐藤 大輔")).to_have_count(0)  # 簡略型
    shot(page, "outlook-03-table-tekkin")
    row.get_by_role("link", name=re.compile("代行申請に追加")).click()

    # --- the line form: worker, 分野 and level preselected ------------------------------------
    expect(page).to_have_url(re.compile(rf"/applications/{application_id}/lines/new\?"))
    expect(page.locator("#f-worker_id")).to_have_value("99000000000001")
    expect(page.locator("#f-trade")).to_have_value("鉄筋")
    expect(page.get_by_role("radio", name=re.compile("レベル2"))).to_be_checked()
    shot(page, "outlook-04-line")
    page.get_by_role("button", name="この技能者を追加").click()
    expect(page.locator(".notice--success").first).to_contain_text("髙橋 健太さんを追加しました")
    expect(page.locator("main")).to_contain_text("髙橋 健太")
    page.get_by_role("button", name="確認画面へ").click()
    expect(page.get_by_text("申請ボタンの押し忘れが多いため注意")).to_be_visible()
    expect(page.locator("main")).to_contain_text("基準を満たす見込み")  # previewed on the way
    expect(page.locator("#doomed")).to_have_count(0)
    shot(page, "outlook-05-confirm")
    page.get_by_role("button", name="申請", exact=True).click()
    expect(page.get_by_role("heading", name="申請が完了しました")).to_be_visible()
    shot(page, "outlook-06-done")
    page.goto(base + "/applications")
    expect(page.locator("tr", has_text=application_id)).to_contain_text(
        re.compile("申請済|判定中|判定完了")  # filed (the demo judgement may already be done)
    )
    shot(page, "outlook-07-applications")


# --- keyboard only ----------------------------------------------------------------------------


def focused(page: Page, predicate: str) -> bool:
    script = f"(() => {{ const el = document.activeElement; return !!el && ({predicate}); }})()"
    return bool(page.evaluate(script))


def tab_to(page: Page, predicate: str, limit: int = 150) -> None:
    """Tab until the focused element matches ``predicate`` (JavaScript on ``el``)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused(page, predicate):
            return
    raise AssertionError(f"Tab never reached {predicate} on {page.url}")


def by_id(element_id: str) -> str:
    return f"el.id === {element_id!r}"


def by_text(text: str) -> str:
    return f"(el.textContent || '').trim() === {text!r}"


def type_into(page: Page, element_id: str, text: str) -> None:
    tab_to(page, by_id(element_id))
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def choose(page: Page, element_id: str, value: str, limit: int = 80) -> None:
    """A closed select moved with the arrow keys until it shows ``value``."""
    tab_to(page, by_id(element_id))
    for _ in range(limit):
        if focused(page, f"el.value === {value!r}"):
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"{element_id} never showed {value}")


@pytest.mark.timeout(240)
def test_the_application_path_with_the_keyboard_only(
    stack: Stack, demo_employer: Employer, page: Page
) -> None:
    """New draft → add a worker → confirm (the 簡略型 line needs the explicit confirmation,
    ticked with Space) → 申請: Tab, Enter, Space and typing, never a mouse click."""
    base = stack.portal
    log_in(page, base, demo_employer.login_id, demo_employer.password)
    expect(page).to_have_url(base + "/menu")
    page.goto(base + "/applications")
    tab_to(page, by_text("新しい代行申請を作成"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/applications/AP-\d{8}-[0-9A-Z]{6}$"))
    application_id = page.url.rsplit("/", 1)[1]
    type_into(page, "f-delivery_address-postal_code", "100-0005")
    choose(page, "f-delivery_address-prefecture", "東京都")
    type_into(page, "f-delivery_address-city_address", "千代田区丸の内1-1")
    type_into(page, "f-delivery_address-addressee", "株式会社診断建設 総務部")
    type_into(page, "f-delivery_address-phone", "03-1234-5678")
    for name in ("career_certified", "card_issuance_consented"):
        tab_to(page, by_id(f"f-declarations-{name}"))
        page.keyboard.press("Space")
    tab_to(page, by_text("＋ 技能者追加"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/lines/new"))

    # the worker: each arrow press chooses (and, with JavaScript, reloads with his consent)
    for _ in range(5):
        if page.locator("#f-worker_id").input_value() == "99000000000004":
            break
        tab_to(page, by_id("f-worker_id"))
        page.keyboard.press("ArrowDown")
        page.wait_for_load_state()
        page.wait_for_timeout(300)
    expect(page.locator("#f-worker_id")).to_have_value("99000000000004")
    expect(page.get_by_text("個人情報利用申請時に入力した情報")).to_be_visible()
    choose(page, "f-trade", "鉄筋")
    tab_to(page, "el.name === 'requested_level'")
    page.keyboard.press("Space")  # the first level (レベル2)
    expect(page.get_by_role("radio", name=re.compile("レベル2"))).to_be_checked()
    shot(page, "keyboard-01-line")
    tab_to(page, by_text("この技能者を追加"))
    page.keyboard.press("Enter")
    expect(page.locator(".notice--success").first).to_contain_text("佐藤 大輔さんを追加しました")
    tab_to(page, by_text("確認画面へ"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(base + f"/applications/{application_id}/confirm")
    doomed = page.locator("#doomed")
    expect(doomed).to_contain_text("佐藤 大輔")
    expect(doomed).to_contain_text("簡略型")
    expect(doomed).to_contain_text("円")  # the fee it would cost
    shot(page, "keyboard-02-confirm-doomed")
    tab_to(page, by_text("申請"))
    page.keyboard.press("Enter")  # not confirmed: the browser (required) keeps the page
    expect(page).to_have_url(base + f"/applications/{application_id}/confirm")
    tab_to(page, by_id("f-accept_rejected"))
    page.keyboard.press("Space")
    expect(page.locator("#f-accept_rejected")).to_be_checked()
    tab_to(page, by_text("申請"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="申請が完了しました")).to_be_visible()
    expect(page.locator(".panel__number")).to_have_text(application_id)
    shot(page, "keyboard-03-done")
