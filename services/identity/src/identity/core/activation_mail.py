"""The activation mail of a 利用者仮申請 (pure): subject, plain text and HTML.

The only mail that carries a secret (the activation link), so identity sends it itself
(``adapters/outbound/smtp.py``) and the secret never leaves identity except to the mail
server. Same wording, layout and footer as the notification service's mails.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")
ACTIVATE_PATH = "/register/activate"
SUBJECT = "【能力評価システム】利用者本申請のご案内"


def jst(moment: datetime) -> str:
    local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(TOKYO)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}（日本時間）"


def activation_link(portal_base_url: str, token: str) -> str:
    return f"{portal_base_url.rstrip('/')}{ACTIVATE_PATH}?token={token}"


@dataclass(frozen=True)
class ActivationMail:
    to: str
    login_id: str
    employer_name: str
    link: str
    expires_at: datetime
    portal_url: str

    @property
    def subject(self) -> str:
        return SUBJECT

    def text(self) -> str:
        return (
            f"{self.employer_name}\nご担当者様\n\n"
            "能力評価システムの利用者仮申請を受け付けました。\n"
            "次のリンクを開いて利用者本申請を行い、パスワードを設定してください。\n\n"
            f"　ログインID：{self.login_id}\n"
            f"　有効期限　：{jst(self.expires_at)}\n\n"
            f"{self.link}\n\n"
            "・このリンクは一度だけ使用できます。有効期限を過ぎた場合は、再度、利用者仮申請を"
            "行ってください。\n"
            "・ログインIDは後から変更できません。忘れないように控えてください。\n"
            "・パスワードは、英大文字・英小文字と、数字または記号を混在させた8文字以上で、"
            "よく使われるパスワードやログインIDを含まないものを設定してください。\n"
            "・お心当たりのない場合は、このメールを破棄してください（リンクを開かなければ"
            "登録は行われず、期限後に削除されます）。\n\n"
            "――――――――――――――――――――――――――――――\n"
            "能力評価システム（建設技能者の能力評価・レベル判定）\n"
            f"{self.portal_url}\n"
            "このメールは送信専用のアドレスから自動でお送りしています。"
            "ご返信いただいてもお答えできません。\n"
        )

    def html(self) -> str:
        e = html.escape
        return (
            '<!doctype html><html lang="ja"><head><meta charset="utf-8">'
            f"<title>{e(SUBJECT)}</title></head>"
            '<body style="font-family:sans-serif;line-height:1.7;color:#1a1a1a">'
            f"<p>{e(self.employer_name)}<br>ご担当者様</p>"
            "<p>能力評価システムの利用者仮申請を受け付けました。<br>"
            "次のボタン（リンク）から利用者本申請を行い、パスワードを設定してください。</p>"
            '<table><tr><th align="left">ログインID</th>'
            f"<td>{e(self.login_id)}</td></tr>"
            f'<tr><th align="left">有効期限</th><td>{e(jst(self.expires_at))}</td></tr></table>'
            f'<p><a href="{e(self.link)}" style="display:inline-block;padding:8px 16px;'
            'background:#0b5cad;color:#fff;text-decoration:none">利用者本申請へ進む</a></p>'
            f"<p>ボタンが使えない場合は、次のアドレスを開いてください。<br>{e(self.link)}</p>"
            "<ul><li>このリンクは一度だけ使用できます。有効期限を過ぎた場合は、再度、"
            "利用者仮申請を行ってください。</li>"
            "<li>ログインIDは後から変更できません。忘れないように控えてください。</li>"
            "<li>お心当たりのない場合は、このメールを破棄してください。</li></ul>"
            f'<hr><p style="font-size:small">能力評価システム<br>{e(self.portal_url)}<br>'
            "このメールは送信専用のアドレスから自動でお送りしています。</p></body></html>"
        )
