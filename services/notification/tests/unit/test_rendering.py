"""Rendering: Japanese subjects and bodies, MIME encoding; no mail carries a secret."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest

from notification.adapters.outbound.templates import JinjaRenderer
from notification.core import applications, compose, mails
from notification.core.applications import ApplicationMails
from notification.core.compose import Draft
from notification.core.formatting import date_ja, jst, yen
from notification.core.links import Links
from notification.core.mails import Rendered
from notification.core.message import build_message

LINKS = Links("https://portal.example.jp/")
NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
FROM = "能力評価システム <no-reply@noryoku-hyoka.example.jp>"


@pytest.fixture(scope="module")
def renderer() -> JinjaRenderer:
    return JinjaRenderer()


def render(renderer: JinjaRenderer, draft: Draft) -> Rendered:
    subject, text, html = renderer.render(draft.template, draft.context)
    return Rendered(subject, text, html)


def stored(renderer: JinjaRenderer, draft: Draft, to: str = "taro@example.jp") -> mails.Mail:
    doc = mails.intent(
        template=draft.template,
        trigger=draft.trigger,
        recipient=to,
        rendered=render(renderer, draft),
        from_address=FROM,
        now=NOW,
    )
    assert doc.id == mails.mail_id(draft.template, draft.trigger.key, to)
    return doc


def parse(message: EmailMessage) -> EmailMessage:
    """The message as a mail client reads it back from the wire."""
    wire = message.as_bytes(policy=email.policy.SMTP)
    parsed = email.message_from_bytes(wire, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def bodies(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    return str(plain.get_content()), str(html.get_content())  # type: ignore[attr-defined]


def test_formatting_in_japan_time() -> None:
    assert jst(datetime(2026, 11, 20, 15, 30, tzinfo=UTC)) == "2026年11月21日 00:30（日本時間）"
    assert jst("2026-11-20T00:05:00+00:00") == "2026年11月20日 09:05（日本時間）"
    assert date_ja("2026-11-20") == "2026年11月20日"
    assert date_ja(datetime(2026, 11, 20, 16, 0, tzinfo=UTC)) == "2026年11月21日"
    assert yen(12000) == "12,000円"


def test_no_template_carries_a_secret_any_more() -> None:
    """Issue 22: the temporary-password mail is gone (identity mails the activation link)."""
    assert "temporary_password" not in compose.TEMPLATES
    assert not hasattr(compose, "temporary_password")


def test_headers_are_rfc2047_utf8_and_decode_back(renderer: JinjaRenderer, samples: Any) -> None:
    doc = stored(renderer, compose.consent_granted(samples.consent_granted(), LINKS))
    message = build_message(doc, {}, NOW)
    wire = message.as_bytes(policy=email.policy.SMTP)
    head = wire.split(b"\r\n\r\n", 1)[0]
    head.decode("ascii")  # every header line is plain ASCII on the wire
    assert b"Subject: =?utf-8?" in head
    assert b"From: =?utf-8?" in head and b"<no-reply@noryoku-hyoka.example.jp>" in head
    assert b"Content-Type: multipart/alternative" in head

    parsed = parse(message)
    assert parsed["Subject"] == "【能力評価システム】個人情報利用申請 承認のお知らせ（髙﨑 𠮷男様）"
    assert parsed["From"].addresses[0].display_name == "能力評価システム"
    assert parsed["To"] == "taro@example.jp"
    assert parsed["Message-ID"] == doc.message_id
    assert parsed["Auto-Submitted"] == "auto-generated"
    parts = [p.get_content_type() for p in parsed.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parsed.iter_parts())
    text, html = bodies(parsed)
    assert "氏名　　：髙﨑 𠮷男（タカサキ ヨシオ）" in text
    assert "　　・CCUS登録情報の閲覧" in text
    assert "有効期限：2027年11月18日まで" in text
    assert '<html lang="ja">' in html and "髙﨑 𠮷男（タカサキ ヨシオ）" in html


def test_message_id_is_deterministic() -> None:
    one = mails.message_id("temporary_password:e1:a@example.jp", FROM)
    assert one == mails.message_id("temporary_password:e1:a@example.jp", FROM)
    assert one != mails.message_id("temporary_password:e1:b@example.jp", FROM)
    assert one.startswith("<") and one.endswith("@noryoku-hyoka.example.jp>")


def test_a_newline_in_data_cannot_add_a_header(renderer: JinjaRenderer, samples: Any) -> None:
    doc = stored(renderer, compose.consent_granted(samples.consent_granted(), LINKS))
    doc = doc.changed(subject="件名\r\nBcc: victim@example.jp")
    parsed = parse(build_message(doc, {}, NOW))
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "件名 Bcc: victim@example.jp"


def test_every_template_renders_a_japanese_subject(renderer: JinjaRenderer, samples: Any) -> None:
    drafts = [
        compose.account_activated(samples.activated(), LINKS),
        compose.consent_granted(samples.consent_granted(), LINKS),
        compose.consent_rejected(samples.consent_rejected(), LINKS),
        compose.application_received(samples.submitted(), LINKS),
        compose.draft_reminder(samples.reminder(), LINKS),
    ]
    app = samples.application_id(1)
    subjects = {d.template: render(renderer, d).subject for d in drafts}
    assert subjects == {
        "account_activated": "【能力評価システム】利用者本登録完了のお知らせ",
        "consent_granted": "【能力評価システム】個人情報利用申請 承認のお知らせ（髙﨑 𠮷男様）",
        "consent_rejected": (
            "【能力評価システム】個人情報利用申請 差戻しのお知らせ（技能者ID 10000000000002）"
        ),
        "application_received": (
            f"【能力評価システム】レベル判定代行申請 申請受領のお知らせ（申請番号 {app}）"
        ),
        "draft_reminder": (
            f"【能力評価システム】申請ボタンの押し忘れにご注意ください（申請番号 {app}）"
        ),
    }
    for draft in drafts:
        rendered = render(renderer, draft)
        assert "能力評価システム（建設技能者の能力評価・レベル判定）" in rendered.text
        assert "https://portal.example.jp/" in rendered.html


def test_consent_rejected_carries_the_reason(renderer: JinjaRenderer, samples: Any) -> None:
    rendered = render(renderer, compose.consent_rejected(samples.consent_rejected(), LINKS))
    assert "■ 差戻しの理由\n同意書の署名欄に技能者本人の署名がありません。\n" in rendered.text
    assert "同意書の署名欄に技能者本人の署名がありません。" in rendered.html
    assert "差戻し日時：2026年11月19日 13:00（日本時間）" in rendered.text


def test_application_received_lists_workers_levels_and_fee(
    renderer: JinjaRenderer, samples: Any
) -> None:
    rendered = render(renderer, compose.application_received(samples.submitted(workers=3), LINKS))
    text = rendered.text
    assert "■ 申請した技能者（3名）" in text
    assert "1. 髙﨑 𠮷男（技能者ID 10000000000001）" in text
    assert "　　分野：鉄筋　申請レベル：レベル2　手数料：4,000円" in text
    assert "3. 佐藤 一郎（技能者ID 10000000000003）" in text
    assert "　　分野：鉄筋　申請レベル：レベル4　手数料：4,000円" in text
    assert "■ 手数料の合計：12,000円" in text
    assert "受付日時：2026年11月20日 09:05（日本時間）" in text
    assert f"https://portal.example.jp/applications/{samples.application_id(1)}" in text
    assert "12,000円" in rendered.html


def test_draft_reminder_links_to_the_draft(renderer: JinjaRenderer, samples: Any) -> None:
    rendered = render(renderer, compose.draft_reminder(samples.reminder(), LINKS))
    assert "申請ボタンの押し忘れにご注意ください。" in rendered.text
    url = f"https://portal.example.jp/applications/{samples.application_id(1)}"
    assert f"下書きを開いて内容を確認し、「申請」ボタンを押してください。\n{url}\n" in rendered.text
    assert f'href="{url}"' in rendered.html


def _application(samples: Any, *steps: Any) -> ApplicationMails:
    doc = None
    for n, (step, envelope) in enumerate(steps):
        outcome = step(envelope.event, f"e{n}", envelope.type, NOW, doc)
        assert outcome is not None
        doc = outcome[0]
    assert doc is not None
    assert doc.id == doc.application_id
    return doc


def test_judgement_completed_lists_every_worker(renderer: JinjaRenderer, samples: Any) -> None:
    doc = _application(
        samples,
        (applications.submitted, samples.submitted(workers=3)),
        (applications.judged, samples.judged(1, 1)),
        (applications.judged, samples.judged(1, 2, approved=False)),
        (applications.withdrawn, samples.withdrawn(1, 3)),
    )
    drafts = compose.application_mails(doc, LINKS)
    assert [d.template for d in drafts] == ["judgement_completed"]
    rendered = render(renderer, drafts[0])
    app = samples.application_id(1)
    assert rendered.subject == f"【能力評価システム】レベル判定完了のお知らせ（申請番号 {app}）"
    text = rendered.text
    assert "■ 判定結果（承認 1名・不承認 1名・取下げ 1名）" in text
    assert (
        "1. 髙﨑 𠮷男（技能者ID 10000000000001）\n"
        "　　分野　　　：鉄筋\n"
        "　　申請レベル：レベル2\n"
        "　　判定結果　：承認\n"
        "　　判定レベル：レベル2\n"
    ) in text
    assert (
        "2. 山田 花子（技能者ID 10000000000002）\n"
        "　　分野　　　：鉄筋\n"
        "　　申請レベル：レベル3\n"
        "　　判定結果　：不承認\n"
        "　　判定レベル：レベル2\n"
        "　　実施団体　：公益社団法人 全国鉄筋工事業協会\n"
        "　　・1級鉄筋施工技能士がCCUSに登録されていません\n"
    ) in text
    assert "3. 佐藤 一郎（技能者ID 10000000000003）" in text
    assert "判定結果　：取下げ（判定は行っていません）" in text
    assert f"https://portal.example.jp/results/{app}" in text
    assert "結果通知書（PDF）の準備ができましたら、あらためてメールでお知らせします。" in text
    assert "承認" in rendered.html and "不承認" in rendered.html


def test_notice_links_in_the_result_mail_when_they_are_there(
    renderer: JinjaRenderer, samples: Any
) -> None:
    doc = _application(
        samples,
        (applications.judged, samples.judged(1, 1)),
        (applications.notice_generated, samples.notice(1, 1)),
        (applications.submitted, samples.submitted(workers=1)),
    )
    drafts = compose.application_mails(doc, LINKS)
    assert [d.template for d in drafts] == ["judgement_completed"]
    rendered = render(renderer, drafts[0])
    url = f"https://portal.example.jp/results/{samples.application_id(1)}/notices/N-{samples.application_id(1)}-1"
    assert f"　　結果通知書：{url}\n" in rendered.text
    assert f'href="{url}"' in rendered.html
    assert "上記のリンクまたは結果確認画面からダウンロードできます" in rendered.text


def test_follow_up_mail_links_every_notice(renderer: JinjaRenderer, samples: Any) -> None:
    doc = _application(
        samples,
        (applications.submitted, samples.submitted(workers=2)),
        (applications.judged, samples.judged(1, 1)),
        (applications.judged, samples.judged(1, 2, approved=False)),
        (applications.notice_generated, samples.notice(1, 2)),
        (applications.notice_generated, samples.notice(1, 1)),
    )
    drafts = compose.application_mails(doc, LINKS)
    assert [d.template for d in drafts] == ["judgement_completed", "result_notices"]
    result, notices = (render(renderer, d) for d in drafts)
    assert "結果通知書：" not in result.text  # decided before any notice existed
    app = samples.application_id(1)
    assert notices.subject == f"【能力評価システム】結果通知書発行のお知らせ（申請番号 {app}）"
    assert (
        f"1. 髙﨑 𠮷男（技能者ID 10000000000001）　鉄筋　レベル2　承認\n"
        f"　　https://portal.example.jp/results/{app}/notices/N-{app}-1\n"
        f"2. 山田 花子（技能者ID 10000000000002）　鉄筋　レベル3　不承認\n"
        f"　　https://portal.example.jp/results/{app}/notices/N-{app}-2\n"
    ) in notices.text
    assert drafts[1].trigger.key == app and drafts[1].trigger.event_id == "e4"
