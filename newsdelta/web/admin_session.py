"""The admin's session: the token is entered once, on /admin, and a signed cookie stands for it until it expires.

The cookie is `<expiry>.<nonce>.<signature>`, the signature an HMAC-SHA256 under a key derived from the admin
token, so the server keeps no session state and changing the token ends every session. The cookie is HttpOnly
(no script reads it) and SameSite=Strict (no other site's page sends it). Each admin form also carries a CSRF
token, an HMAC of the session's nonce under the same key: a forged form cannot know it, so a browser that leaks
the cookie to a cross-site request still cannot be made to act.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import Request, Response

COOKIE = "newsdelta_admin"
COOKIE_PATH = "/admin"
LIFETIME_SECONDS = 8 * 3600  # a working day; then the token is asked for again


@dataclass(frozen=True, slots=True)
class AdminSession:
    expires: int  # Unix time
    csrf: str  # what each admin form sends back as its `csrf` field

    @property
    def expires_at(self) -> datetime:
        return datetime.fromtimestamp(self.expires, UTC)


def _key(admin_token: str) -> bytes:
    return hmac.new(admin_token.encode(), b"newsdelta admin session v1", hashlib.sha256).digest()


def _mac(admin_token: str, purpose: str, message: str) -> str:
    return hmac.new(_key(admin_token), f"{purpose}:{message}".encode(), hashlib.sha256).hexdigest()


def _session(admin_token: str, expires: int, nonce: str) -> AdminSession:
    return AdminSession(expires, _mac(admin_token, "csrf", nonce))


def new_session(admin_token: str, now: float) -> tuple[str, AdminSession]:
    """A fresh session: the cookie's value and what the pages need of it."""
    expires = int(now) + LIFETIME_SECONDS
    nonce = secrets.token_urlsafe(18)
    body = f"{expires}.{nonce}"
    return f"{body}.{_mac(admin_token, 'cookie', body)}", _session(admin_token, expires, nonce)


def read_session(admin_token: str | None, cookie: str | None, now: float) -> AdminSession | None:
    """The session a cookie stands for, or None for no cookie, a forged or altered one, or an expired one."""
    if not admin_token or not cookie or cookie.count(".") != 2:
        return None
    expiry, nonce, signature = cookie.split(".")
    if not hmac.compare_digest(signature, _mac(admin_token, "cookie", f"{expiry}.{nonce}")):
        return None
    if not expiry.isdigit() or int(expiry) <= now:
        return None
    return _session(admin_token, int(expiry), nonce)


def csrf_matches(session: AdminSession, given: str) -> bool:
    return hmac.compare_digest(session.csrf.encode(), given.encode())


def _secure(request: Request) -> bool:
    """Secure on HTTPS: as the request came, or as the site's public address says (TLS ended at a proxy)."""
    base_url: str | None = request.app.state.base_url
    return request.url.scheme == "https" or (base_url or "").startswith("https:")


def set_cookie(request: Request, response: Response, value: str) -> None:
    response.set_cookie(
        COOKIE,
        value,
        max_age=LIFETIME_SECONDS,
        path=COOKIE_PATH,
        secure=_secure(request),
        httponly=True,
        samesite="strict",
    )


def clear_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        COOKIE, path=COOKIE_PATH, secure=_secure(request), httponly=True, samesite="strict"
    )
