"""Links into the employer portal that mails carry (paths of the portal's screens)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

ACTIVATION = "/register/activate"
LOGIN = "/login"
CONSENTS = "/consents"
APPLICATION = "/applications/{application_id}"
RESULTS = "/results"
RESULT = "/results/{application_id}"
RESULT_LINE = "/results/{application_id}?detail={line_id}"  # 結果確認 with the line's 詳細
NOTICE = "/results/{application_id}/notices/{notice_id}"


@dataclass(frozen=True)
class Links:
    base_url: str

    def _url(self, path: str, **params: str) -> str:
        quoted = {k: quote(v, safe="") for k, v in params.items()}
        return self.base_url.rstrip("/") + path.format(**quoted)

    def portal(self) -> str:
        return self.base_url.rstrip("/") + "/"

    def activation(self) -> str:
        return self._url(ACTIVATION)

    def login(self) -> str:
        return self._url(LOGIN)

    def consents(self) -> str:
        return self._url(CONSENTS)

    def application(self, application_id: str) -> str:
        return self._url(APPLICATION, application_id=application_id)

    def result(self, application_id: str) -> str:
        return self._url(RESULT, application_id=application_id)

    def results(self) -> str:
        return self._url(RESULTS)

    def result_line(self, application_id: str, line_id: str) -> str:
        return self._url(RESULT_LINE, application_id=application_id, line_id=line_id)

    def notice(self, application_id: str, notice_id: str) -> str:
        return self._url(NOTICE, application_id=application_id, notice_id=notice_id)
