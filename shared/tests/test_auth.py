"""Token verification with identity's public keys (JWKS), key rollover, ended sessions,
identity being down or started late — with keys generated here and identity scripted
(``httpx.MockTransport``). The whole stack's behaviour: tests/security."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from shared_kernel.infra.auth import (
    ALGORITHM,
    ISSUER,
    Authenticator,
    IdentityClient,
    NoRevocations,
    RemoteKeys,
    RemoteRevocations,
    SigningKey,
    StaticKeys,
    issue_token,
    jwks_of,
    load_signing_keys,
)
from shared_kernel.infra.http import ApiError
from shared_kernel.infra.settings import DEVELOPMENT_SECRET
from shared_kernel.principal import Principal

pytestmark = pytest.mark.unit
EMPLOYER = Principal(subject="kensetsu01", role="employer", employer_id="1" * 14, session="s-1")


class Identity:
    """A scripted identity: its JWKS, its list of ended sessions, up or down."""

    def __init__(self, *keys: SigningKey) -> None:
        self.keys = list(keys)
        self.ended: list[dict[str, str]] = []
        self.up = True
        self.calls: list[str] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request.url.path)
        if not self.up:
            raise httpx.ConnectError("identity is down")
        if request.url.path == "/.well-known/jwks.json":
            return httpx.Response(200, json=jwks_of(self.keys))
        if request.url.path == "/sessions/revocations":
            now = datetime.now(UTC).isoformat()
            body = {"revoked": self.ended, "next_since": now, "complete": True}
            return httpx.Response(200, json={**body, "keep_seconds": 960})
        return httpx.Response(404)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def remote(identity: Identity, clock: Clock, max_stale: float = 60.0) -> Authenticator:
    client = IdentityClient("http://identity", transport=httpx.MockTransport(identity.handle))
    keys = RemoteKeys(client, clock=clock)
    revocations = RemoteRevocations(
        client, refresh_seconds=5, max_stale_seconds=max_stale, clock=clock
    )
    return Authenticator(keys, revocations, client=client)


async def refused(auth: Authenticator, token: str) -> tuple[int, str]:
    with pytest.raises(ApiError) as caught:
        await auth.authenticate(token)
    return caught.value.status, caught.value.code


async def test_a_token_verifies_with_identitys_published_key_and_names_its_session() -> None:
    key = SigningKey.generate()
    auth = remote(Identity(key), Clock())
    token = issue_token(key, EMPLOYER)
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "kid": key.kid, "typ": "JWT"}
    assert await auth.authenticate(token) == EMPLOYER


async def test_forged_tokens_are_refused() -> None:
    key = SigningKey.generate()
    auth = remote(Identity(key), Clock())
    claims = {"sub": "nobody01", "role": "operator", "iss": ISSUER, "sid": "x"}
    claims |= {"iat": datetime.now(UTC), "exp": datetime.now(UTC) + timedelta(minutes=5)}
    forged = {
        # the published development placeholder of the old shared HS256 secret
        "HS256 with the placeholder": jwt.encode(claims, DEVELOPMENT_SECRET, algorithm="HS256"),
        "HS256 with the public key": jwt.encode(claims, key.jwk["x"], algorithm="HS256"),
        "another Ed25519 key": issue_token(SigningKey.generate(), EMPLOYER),
        "alg none": jwt.encode(claims, None, algorithm="none"),
        "no sid": jwt.encode(
            {k: v for k, v in claims.items() if k != "sid"},
            key.private,
            algorithm=ALGORITHM,
            headers={"kid": key.kid},
        ),
        "expired": issue_token(key, EMPLOYER, timedelta(seconds=-1)),
        "garbage": "not.a.token",
    }
    for what, token in forged.items():
        assert await refused(auth, token) == (401, "unauthenticated"), what
    with pytest.raises(ValueError, match="sid"):
        issue_token(key, EMPLOYER.model_copy(update={"session": None}))


async def test_rollover_two_published_keys_both_verify_and_a_removed_one_stops() -> None:
    old, new = SigningKey.generate(), SigningKey.generate()
    identity = Identity(old)
    clock = Clock()
    auth = remote(identity, clock)
    before = issue_token(old, EMPLOYER)
    assert await auth.authenticate(before) == EMPLOYER
    # identity publishes the new key and signs with it: a token with the new kid makes the
    # verifier read the keys again at once
    identity.keys = [new, old]
    clock.now += 11
    after = issue_token(new, EMPLOYER)
    assert await auth.authenticate(after) == EMPLOYER
    assert await auth.authenticate(before) == EMPLOYER  # both during the rollover
    # the old key is withdrawn: gone at the next scheduled read
    identity.keys = [new]
    assert isinstance(auth.keys, RemoteKeys)
    await auth.keys.fetch()
    assert await refused(auth, before) == (401, "unauthenticated")
    assert await auth.authenticate(after) == EMPLOYER


async def test_made_up_kids_make_identity_read_at_most_once_per_ten_seconds() -> None:
    key = SigningKey.generate()
    identity = Identity(key)
    clock = Clock()
    auth = remote(identity, clock)
    await auth.authenticate(issue_token(key, EMPLOYER))
    identity.calls.clear()
    for _ in range(50):
        await refused(auth, issue_token(SigningKey.generate(), EMPLOYER))
    assert identity.calls.count("/.well-known/jwks.json") == 0  # the first read was < 10 s ago
    clock.now += 10
    for _ in range(50):
        await refused(auth, issue_token(SigningKey.generate(), EMPLOYER))
    assert identity.calls.count("/.well-known/jwks.json") == 1


async def test_identity_started_later_503_until_it_answers() -> None:
    key = SigningKey.generate()
    identity = Identity(key)
    identity.up = False
    clock = Clock()
    auth = remote(identity, clock)
    token = issue_token(key, EMPLOYER)
    assert await refused(auth, token) == (503, "auth_unavailable")
    identity.up = True
    clock.now += 10
    assert await auth.authenticate(token) == EMPLOYER


async def test_an_ended_session_is_refused_from_the_next_poll_and_a_stale_list_is_503() -> None:
    key = SigningKey.generate()
    identity = Identity(key)
    clock = Clock()
    auth = remote(identity, clock, max_stale=60)
    token = issue_token(key, EMPLOYER)
    assert await auth.authenticate(token) == EMPLOYER
    identity.ended.append({"sid": "s-1", "at": datetime.now(UTC).isoformat()})
    # until the next poll (every AUTH_REVOCATION_REFRESH_SECONDS) the token still works …
    assert await auth.authenticate(token) == EMPLOYER
    assert isinstance(auth.revocations, RemoteRevocations)
    await auth.revocations.sync()  # … the poll: refused from now on
    assert await refused(auth, token) == (401, "session_revoked")
    other = issue_token(key, EMPLOYER.model_copy(update={"session": "s-2"}))
    # identity unreachable: a list younger than max_stale is trusted …
    identity.up = False
    clock.now += 59
    assert await auth.authenticate(other) == EMPLOYER.model_copy(update={"session": "s-2"})
    # … an older one is not: 503, and what is known to have ended stays refused
    clock.now += 2
    assert await refused(auth, other) == (503, "auth_unavailable")
    assert await refused(auth, token) == (401, "session_revoked")
    identity.up = True
    assert (await auth.authenticate(other)).session == "s-2"  # a successful poll at once


async def test_a_token_living_longer_than_an_ended_session_is_listed_is_refused() -> None:
    key = SigningKey.generate()
    auth = remote(Identity(key), Clock())
    assert isinstance(auth.revocations, RemoteRevocations)
    await auth.revocations.sync()  # identity says: listed for 960 s
    assert await refused(auth, issue_token(key, EMPLOYER, timedelta(hours=1))) == (
        401,
        "unauthenticated",
    )
    assert await auth.authenticate(issue_token(key, EMPLOYER, timedelta(minutes=15)))


async def test_a_session_ended_here_is_refused_at_once() -> None:
    key = SigningKey.generate()
    auth = remote(Identity(key), Clock())
    token = issue_token(key, EMPLOYER)
    assert await auth.authenticate(token)
    auth.end_session("s-1")  # the portal's logout: no wait for the next poll
    assert await refused(auth, token) == (401, "session_revoked")
    static = Authenticator(StaticKeys.of([key]), NoRevocations())
    assert await static.authenticate(token)
    static.end_session("s-1")
    assert await refused(static, token) == (401, "session_revoked")


def test_signing_keys_are_read_from_pem_blocks_and_each_one_published() -> None:
    first, second = SigningKey.generate(), SigningKey.generate()
    keys = load_signing_keys(first.pem() + second.pem())
    assert [k.kid for k in keys] == [first.kid, second.kid]
    assert load_signing_keys(first.pem().replace("\n", "\\n"))[0].kid == first.kid  # one line
    published: dict[str, Any] = json.loads(json.dumps(jwks_of(keys)))
    assert [k["kid"] for k in published["keys"]] == [first.kid, second.kid]
    assert all("d" not in k for k in published["keys"])  # never the private part
    for bad in ("", "changethis", first.pem() + first.pem()):
        with pytest.raises(ValueError):
            load_signing_keys(bad)


async def test_a_verified_token_is_remembered_until_it_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = SigningKey.generate()
    now = [datetime.now(UTC).timestamp()]
    auth = Authenticator(StaticKeys.of([key]), NoRevocations(), clock=lambda: now[0])
    token = issue_token(key, EMPLOYER, timedelta(minutes=5))
    decoded: list[str] = []
    real_decode = jwt.decode

    def counting(*args: Any, **kwargs: Any) -> Any:
        decoded.append("decode")
        return real_decode(*args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting)
    first = await auth.authenticate(token)
    again = await auth.authenticate(token)
    assert first == again == EMPLOYER and first is not again  # each caller its own copy
    assert decoded == ["decode"]  # the second use was not decoded again
    # a changed token is verified in full (and refused), never taken for the remembered one
    head, payload, signature = token.split(".")
    changed = f"{head}.{payload}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"
    assert await refused(auth, changed) == (401, "unauthenticated")
    # past its expiry the remembered verification is dropped: the token is checked in full
    # again (which refuses an expired token: test_forged_tokens_are_refused)
    now[0] += 5 * 60 + 1
    decoded.clear()
    await auth.verify(token)  # (not expired by the real clock jwt checks against)
    assert decoded == ["decode"]


async def test_a_remembered_token_is_refused_once_ended_sessions_are_kept_shorter() -> None:
    key = SigningKey.generate()
    revocations = NoRevocations()
    auth = Authenticator(StaticKeys.of([key]), revocations)
    token = issue_token(key, EMPLOYER, timedelta(minutes=30))
    assert await auth.authenticate(token) == EMPLOYER
    revocations.keep_seconds = 960  # identity now lists an ended session for 16 minutes
    assert await refused(auth, token) == (401, "unauthenticated")
