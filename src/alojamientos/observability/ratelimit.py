"""Rate limits for login and webhooks, counted in Redis per client IP (fixed one-minute windows).

The counting is the `limits` library's fixed-window strategy (https://limits.readthedocs.io) on its
async Redis storage, driven through redis-py's asyncio client (`implementation="redispy"`) over the
application's own connection pool. An admitted request costs one Redis round trip (`limits` runs
INCRBY and, on a window's first hit, EXPIRE in one Lua script), a signed webhook a second (INCRBY -1,
its hit given back), a refused one a second (TTL, for `Retry-After`). A window starts at its key's
first hit and lasts `window` seconds.

nginx limits first (see deploy/nginx/); this is the second line, and the only one on a plain host.
Redis holds nothing that loses data: when it is unreachable or slow the request goes through
(booking keeps working), the failure is counted in `alojamientos_errors_total{where="ratelimit.redis"}`
and logged as `ratelimit.redis_unavailable` at most once per minute.

Wiring (inside the security-headers, metrics and request-id middlewares, so a 429 carries them too):

    app.add_middleware(RateLimitMiddleware, redis_getter=lambda: app.state.redis)
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import FixedWindowRateLimiter
from redis.asyncio import Redis
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from alojamientos.observability.metrics import ERRORS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    """`limit` requests per `window` seconds per client IP for requests matching `methods` and `path`.

    `path` ending in `/` matches every path under it; otherwise it must match exactly.
    `signed_free`: a request the application marks as signed (`mark_signed`, once its signature
    verified) is given back after its answer, so only unsigned ones use the budget: an unsigned
    Mercado Pago hint, a bad signature, an unknown path. Every request counts while it runs, so a
    parallel burst can't pass the budget; an IP over it is refused everything until the window ends.
    For webhooks: the provider sends as fast as its traffic (Meta, at 50 messages a second, is one IP
    or a few), and only a sender that can't sign is cut off.
    """

    name: str
    path: str
    limit: int
    window: int = 60
    methods: frozenset[str] = frozenset({"POST"})
    signed_free: bool = False
    item: RateLimitItem = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "item", RateLimitItemPerSecond(max(self.limit, 1), self.window))

    def matches(self, method: str, path: str) -> bool:
        if method not in self.methods:
            return False
        if self.path.endswith("/"):
            return path.startswith(self.path)
        return path == self.path or path == self.path + "/"


def default_rules(*, login_per_minute: int = 10, webhooks_per_minute: int = 300) -> list[Rule]:
    """Login 10 a minute (API token and admin form share it), 300 unsigned webhooks a minute (a signed
    one is given back); 0 turns one off."""
    return [
        Rule("login", "/api/v1/auth/token", login_per_minute),
        Rule("login", "/admin/login", login_per_minute),  # one budget for both ways of logging in
        Rule("webhooks", "/api/v1/webhooks/", webhooks_per_minute, signed_free=True),
    ]


# One `limits` limiter per (Redis client, key prefix), sharing the client's connection pool; it goes
# with the client (the app's lifespan closes and replaces it).
_limiters: weakref.WeakKeyDictionary[Redis, dict[str, FixedWindowRateLimiter]] = weakref.WeakKeyDictionary()


def _limiter(redis: Redis, key_prefix: str) -> FixedWindowRateLimiter:
    by_prefix = _limiters.setdefault(redis, {})
    limiter = by_prefix.get(key_prefix)
    if limiter is None:
        storage = RedisStorage(
            "async+redis://",
            implementation="redispy",
            key_prefix=key_prefix,
            connection_pool=redis.connection_pool,  # type: ignore[arg-type]
        )
        limiter = by_prefix[key_prefix] = FixedWindowRateLimiter(storage)
    return limiter


async def _hit(
    redis: Redis, key_prefix: str, item: RateLimitItem, identifier: str, redis_timeout: float
) -> int | None:
    limiter = _limiter(redis, key_prefix)
    async with asyncio.timeout(redis_timeout):
        if await limiter.hit(item, identifier):
            return None
        reset_at = await limiter.storage.get_expiry(item.key_for(identifier))
    return max(1, math.ceil(reset_at - time.time()))


async def _give_back(
    redis: Redis, key_prefix: str, item: RateLimitItem, identifier: str, redis_timeout: float
) -> int | None:
    """Undo one `_hit` (a request that turned out not to count); None, like an admitted hit."""
    limiter = _limiter(redis, key_prefix)
    async with asyncio.timeout(redis_timeout):
        await limiter.storage.incr(item.key_for(identifier), item.get_expiry(), amount=-1)
    return None


def mark_signed(request: Request) -> None:
    """The request carried a valid provider signature: a `signed_free` rule gives its hit back."""
    request.scope.setdefault("state", {})[_SIGNED] = True


_SIGNED = "alojamientos.ratelimit.signed"


_Ask = Callable[[Redis, str, RateLimitItem, str, float], Awaitable[int | None]]


async def over_limit(
    redis: Redis, key: str, limit: int, window: int = 60, *, redis_timeout: float = 0.5
) -> int | None:
    """Counts one hit on `key` (a Redis key prefix) in its fixed window of `window` seconds.

    Returns None while the count is within `limit`, else the seconds until the window resets (for
    `Retry-After`, 1 to `window`). Redis errors and timeouts are raised: each caller decides whether
    to let the request through (the middleware) or to refuse it (work that must not run unbounded).
    """
    return await _hit(redis, key, RateLimitItemPerSecond(limit, window), "all", redis_timeout)


RedisGetter = Callable[[], "Redis | None"]


class RateLimitMiddleware:
    """Pure ASGI middleware: over the limit → 429 `rate_limited` with `Retry-After` (JSON for the API, a
    short Spanish HTML page under /admin, where a person filled in the login form).

    `redis_getter` is called for every limited request (the client is created in the app's lifespan,
    after the middleware stack); `None` means Redis is not configured and nothing is limited.
    The client IP is the first hop of `X-Forwarded-For` when present (nginx sets it to the peer
    address, overwriting anything the client sent), else the socket peer.
    """

    def __init__(
        self,
        app: ASGIApp,
        redis_getter: RedisGetter,
        rules: Sequence[Rule] | None = None,
        *,
        login_per_minute: int = 10,
        webhooks_per_minute: int = 300,
        key_prefix: str = "alojamientos:ratelimit",
        trust_forwarded_for: bool = True,
        redis_timeout: float = 0.5,
        backoff_seconds: float = 5.0,
        log_interval: float = 60.0,
    ) -> None:
        self.app = app
        self.redis_getter = redis_getter
        chosen = (
            rules
            if rules is not None
            else default_rules(login_per_minute=login_per_minute, webhooks_per_minute=webhooks_per_minute)
        )
        self.rules: tuple[Rule, ...] = tuple(r for r in chosen if r.limit > 0)  # 0 or less: not limited
        self.key_prefix = key_prefix
        self.trust_forwarded_for = trust_forwarded_for
        self.redis_timeout = redis_timeout
        self.backoff_seconds = backoff_seconds
        self.log_interval = log_interval
        self._skip_until = 0.0  # after a failure, Redis is not asked again for backoff_seconds
        self._last_logged = -math.inf

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        path: str = scope["path"]
        rule = next((r for r in self.rules if r.matches(method, path)), None)
        if rule is None:
            await self.app(scope, receive, send)
            return
        ip = self._client_ip(scope)
        retry_after = await self._check(rule, ip, _hit)
        if retry_after is not None:
            await self._reject(send, rule, retry_after, path)
            return
        await self.app(scope, receive, send)
        if rule.signed_free and scope.get("state", {}).get(_SIGNED):
            await self._check(rule, ip, _give_back)

    def _client_ip(self, scope: Scope) -> str:
        if self.trust_forwarded_for:
            for name, value in scope["headers"]:
                if name == b"x-forwarded-for":
                    first: str = value.decode("latin-1").split(",")[0].strip()
                    if first:
                        return first[:64]
        client = scope.get("client")
        return str(client[0]) if client else "unknown"

    def _redis(self) -> Redis | None:
        try:
            return self.redis_getter()
        except AttributeError:  # app.state.redis before the lifespan ran
            return None

    async def _check(self, rule: Rule, ip: str, ask: _Ask) -> int | None:
        """Seconds until the window resets when over the limit; None to let the request through.
        `ask`: `_hit` counts this request, `_give_back` undoes that."""
        if time.monotonic() < self._skip_until:
            return None
        redis = self._redis()
        if redis is None:
            return None
        try:
            return await ask(redis, self.key_prefix, rule.item, f"{rule.name}/{ip}", self.redis_timeout)
        except Exception as exc:  # any Redis failure (refused, timeout, auth, OOM) must not block a request
            self._redis_failed(exc)
            return None

    def _redis_failed(self, exc: BaseException) -> None:
        ERRORS.labels("ratelimit.redis").inc()
        self._skip_until = time.monotonic() + self.backoff_seconds
        if time.monotonic() - self._last_logged >= self.log_interval:
            self._last_logged = time.monotonic()
            log.warning(
                "ratelimit.redis_unavailable",
                extra={"error": f"{type(exc).__name__}: {exc}"[:300], "effect": "requests not limited"},
            )

    async def _reject(self, send: Send, rule: Rule, retry_after: int, path: str) -> None:
        if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
            # The panel's login form: the operator reads a page, not an API error.
            body, content_type = _ADMIN_PAGE.encode(), b"text/html; charset=utf-8"
        else:
            body = json.dumps(
                {
                    "error": {
                        "code": "rate_limited",
                        "message": f"too many requests; try again in {retry_after} s",
                        "retry_after": retry_after,
                    }
                }
            ).encode()
            content_type = b"application/json"
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", content_type),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(retry_after).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
        log.info("ratelimit.rejected", extra={"rule": rule.name, "retry_after": retry_after})


ADMIN_PREFIX = "/admin"
# Self-contained (no template engine, no stylesheet: the middleware sits outside the panel).
_ADMIN_PAGE = """<!doctype html>
<html lang="es-AR">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demasiados intentos · Alojamientos</title>
<style>
body { font-family: system-ui, sans-serif; margin: 0; padding: 1.5rem; color: #1f2933; background: #f5f7fa; }
main { max-width: 32rem; margin: 3rem auto; background: #fff; border-radius: .5rem; padding: 1.5rem; }
h1 { font-size: 1.4rem; margin-top: 0; }
a { color: #1d4ed8; }
</style>
</head>
<body>
<main role="alert">
<h1>Demasiados intentos de ingreso</h1>
<p>Por seguridad frenamos los ingresos desde esta conexión por un rato.
Esperá un minuto y volvé a probar.</p>
<p><a href="/admin/login">Volver al ingreso</a></p>
</main>
</body>
</html>
"""
