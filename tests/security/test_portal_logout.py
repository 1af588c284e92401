"""Issue 22, finding 4 in the portal: its cookie kept working after logout until the token
expired (15 minutes). The portal now checks a logged-in cookie's session against the
sessions that ended: its own logout at once, any other ending (a password change, a logout
elsewhere) within AUTH_REVOCATION_REFRESH_SECONDS.
"""

from __future__ import annotations

import httpx
import pytest

from shared_kernel.infra.testing import eventually

from .conftest import HTML, PASSWORD, Stack, login
from .test_access_matrix import csrf_of
from .test_sessions import NEW_PASSWORD, new_employer

pytestmark = pytest.mark.timeout(600)


async def portal_log_in(client: httpx.AsyncClient, login_id: str, password: str) -> None:
    page = await client.get("/login", headers=HTML)
    done = await client.post(
        "/login",
        data={"csrf_token": csrf_of(page), "login_id": login_id, "password": password},
        headers=HTML,
    )
    assert done.status_code == 303, done.text[:300]


def browser(stack: Stack, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=stack.portal, client=(address, 50010)),
        base_url="http://portal.test",
        event_hooks=stack.hooks(),
    )


async def test_a_copy_of_the_portal_cookie_opens_nothing_after_logout(stack: Stack) -> None:
    login_id = "deguchiPt2026"
    await new_employer(stack, stack.client("identity"), login_id)
    async with browser(stack, "192.0.2.61") as client:
        await portal_log_in(client, login_id, PASSWORD)
        menu = await client.get("/menu", headers=HTML)
        assert menu.status_code == 200
        copied = client.cookies["noryoku_portal"]  # e.g. left on a shared computer
        out = await client.post("/logout", data={"csrf_token": csrf_of(menu)}, headers=HTML)
        assert out.status_code == 303
    async with browser(stack, "192.0.2.62") as replay:
        replay.cookies.set("noryoku_portal", copied)
        again = await replay.get("/menu", headers=HTML)  # at once: no wait for any poll
        assert again.status_code == 303 and again.headers["location"].startswith("/login")
        # nothing reached a service with the old token
        stack.portal_services.sent.clear()
        assert (await replay.get("/applications", headers=HTML)).status_code == 303
        assert [s for s in stack.portal_services.sent if "applications" in s[1]] == []


async def test_a_password_change_elsewhere_ends_the_portal_cookie_within_the_window(
    stack: Stack,
) -> None:
    login_id = "kaeruPt2026"
    identity = stack.client("identity")
    await new_employer(stack, identity, login_id)
    async with browser(stack, "192.0.2.63") as client:
        await portal_log_in(client, login_id, PASSWORD)
        assert (await client.get("/menu", headers=HTML)).status_code == 200
        # the same user changes the password in another session (another browser)
        other = await login(identity, login_id, PASSWORD)
        identity.cookies.clear()
        token = other.json()["access_token"]
        changed = await identity.put(
            "/me/password",
            headers={
                "Authorization": f"Bearer {token}",
                "Cookie": f"noryoku_session={other.cookies['noryoku_session']}",
            },
            json={
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "new_password_confirmation": NEW_PASSWORD,
            },
        )
        assert changed.status_code == 200, changed.text
        identity.cookies.clear()

        async def sent_to_login() -> bool:
            page = await client.get("/menu", headers=HTML)
            return page.status_code == 303 and page.headers["location"].startswith("/login")

        await eventually(sent_to_login, timeout=15)
