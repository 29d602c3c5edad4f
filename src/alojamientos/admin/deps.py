"""The operator's browser session: a signed cookie, its CSRF token, and the dependency every page uses."""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import Response
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from alojamientos.auth.models import Operator
from alojamientos.config import Environment, Settings
from alojamientos.db import SessionDep
from alojamientos.observability.metrics import ERRORS
from alojamientos.pricing.service import pricing

log = logging.getLogger(__name__)

PREFIX = "/admin"
SESSION_COOKIE = "aloj_admin"
LOGIN_COOKIE = "aloj_admin_login"  # the login form's CSRF token, before there is a session
SESSION_MAX_AGE = 12 * 60 * 60
LOGIN_MAX_AGE = 60 * 60
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequired(Exception):
    """No valid session: the page answers with a redirect to the login form."""


class CsrfRejected(Exception):
    """A state-changing request without this session's token: refused with 403."""


@dataclass(frozen=True, slots=True)
class AdminSession:
    """Plain values, not the ORM row: error pages render after the request's transaction rolled back."""

    operator_id: int
    email: str
    csrf: str

    @property
    def actor(self) -> str:
        return f"operator:{self.email}"


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _serializer(settings: Settings, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.signing_key, salt=f"alojamientos.admin.{salt}")


def secure_cookies(settings: Settings) -> bool:
    return settings.env not in (Environment.development, Environment.testing)


def _fingerprint(operator: Operator) -> str:
    """Changes with the password hash, so a password change ends every other session."""
    return operator.password_hash[-12:]


def _set_cookie(response: Response, settings: Settings, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PREFIX,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(settings),
    )


def start_session(response: Response, settings: Settings, operator: Operator) -> None:
    payload = {"op": operator.id, "fp": _fingerprint(operator), "csrf": secrets.token_urlsafe(32)}
    _set_cookie(
        response, settings, SESSION_COOKIE, _serializer(settings, "session").dumps(payload), SESSION_MAX_AGE
    )
    response.delete_cookie(LOGIN_COOKIE, path=PREFIX)


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)


def _read_session(request: Request) -> dict[str, Any] | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        data = _serializer(_settings(request), "session").loads(raw, max_age=SESSION_MAX_AGE)
    except SignatureExpired:
        return None  # 12 hours passed: log in again
    except BadSignature:
        _forged("session")
        return None
    return data if isinstance(data, dict) else None


def _forged(cookie: str) -> None:
    """A cookie not signed with our key (tampered, or signed before SECRET_KEY changed): counted."""
    ERRORS.labels(f"admin.{cookie}_cookie").inc()
    log.warning("admin.cookie_rejected", extra={"cookie": cookie})


def set_login_cookie(request: Request, response: Response, token: str) -> None:
    """The login form's token, kept in its own signed cookie (double submit, before any session)."""
    settings = _settings(request)
    _set_cookie(response, settings, LOGIN_COOKIE, _serializer(settings, "login").dumps(token), LOGIN_MAX_AGE)


def login_token_valid(request: Request, submitted: str) -> bool:
    raw = request.cookies.get(LOGIN_COOKIE)
    if not raw or not submitted:
        return False
    try:
        expected = _serializer(_settings(request), "login").loads(raw, max_age=LOGIN_MAX_AGE)
    except SignatureExpired:
        return False  # the form sat open for an hour: the page asks to reload
    except BadSignature:
        _forged("login")
        return False
    return isinstance(expected, str) and hmac.compare_digest(expected, submitted)


async def _check_csrf(request: Request, expected: str) -> None:
    submitted = request.headers.get(CSRF_HEADER)
    if submitted is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get(CSRF_FIELD)
            submitted = value if isinstance(value, str) else None
    if not submitted or not hmac.compare_digest(submitted, expected):
        raise CsrfRejected


async def current_session(request: Request, session: SessionDep) -> AdminSession | None:
    """The logged-in operator, or None (the login page uses it to skip the form)."""
    data = _read_session(request)
    if data is None or not isinstance(data.get("op"), int):
        return None
    operator = await session.get(Operator, data["op"])
    if operator is None or not operator.active or data.get("fp") != _fingerprint(operator):
        return None
    return AdminSession(operator_id=operator.id, email=operator.email, csrf=str(data.get("csrf", "")))


async def require_operator(request: Request, session: SessionDep) -> AdminSession:
    """Every admin page: a valid session, and on POST this session's CSRF token."""
    admin = await current_session(request, session)
    if admin is None:
        raise LoginRequired
    if request.method not in _SAFE_METHODS:
        await _check_csrf(request, admin.csrf)
    request.state.admin = admin
    request.state.tz = await pricing.timezone(session)
    return admin


def local_tz(request: Request) -> ZoneInfo:
    tz = getattr(request.state, "tz", None)
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo("America/Argentina/Buenos_Aires")


CurrentAdmin = Annotated[AdminSession, Depends(require_operator)]
MaybeAdmin = Annotated[AdminSession | None, Depends(current_session)]
