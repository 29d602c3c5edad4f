"""A real SMTP server on loopback (aiosmtpd) that keeps every message it is given.

Tests point `SMTP_HOST`/`SMTP_PORT` at it, so the real `smtplib` client code runs end to end. They can
script replies: `smtp.fail_next(451)` makes the next delivery's DATA answer 451 (then accept again),
`smtp.fail_next(550, at="RCPT")` refuses the next recipient. AUTH LOGIN/PLAIN is offered without TLS
and accepts `USER`/`PASSWORD`.
"""

from __future__ import annotations

import email
import email.policy
import threading
from collections import deque
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from alojamientos.config import Settings
from tests.fixtures.server import free_port

SMTP_FROM = "Cabañas del Lago <reservas@example.com>"
OPERATOR = "dueno@example.com"
USER = "reservas@example.com"
PASSWORD = "smtp-test-password"
Stage = Literal["RCPT", "DATA"]


@dataclass(frozen=True)
class Delivery:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


@dataclass
class FakeSMTP:
    host: str = "127.0.0.1"
    port: int = 0
    messages: list[Delivery] = field(default_factory=list)
    rejected: list[Delivery] = field(default_factory=list)  # DATA we received but answered with an error
    logins: list[str] = field(default_factory=list)
    failures: deque[tuple[Stage, int, str]] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(
        self, code: int, *, times: int = 1, at: Stage = "DATA", text: str = "scripted failure"
    ) -> None:
        with self._lock:
            for _ in range(times):
                self.failures.append((at, code, text))

    def reset(self) -> None:
        with self._lock:
            self.messages.clear()
            self.rejected.clear()
            self.logins.clear()
            self.failures.clear()

    def settings(self, **overrides: Any) -> Settings:
        """Application settings that send through this server (plain SMTP, no login unless asked)."""
        values: dict[str, Any] = {
            "smtp_host": self.host,
            "smtp_port": self.port,
            "smtp_from": SMTP_FROM,
            "smtp_starttls": False,
            "operator_email": OPERATOR,
        }
        values.update(overrides)
        return Settings(**values)

    def to(self, address: str) -> list[EmailMessage]:
        return [d.message for d in self.messages if address in d.rcpt_tos]

    def _scripted(self, stage: Stage) -> str | None:
        with self._lock:
            if self.failures and self.failures[0][0] == stage:
                _, code, text = self.failures.popleft()
                return f"{code} {text}"
        return None

    # aiosmtpd handler hooks (run in the server's thread)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        failure = self._scripted("RCPT")
        if failure:
            return failure
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        delivery = Delivery(str(envelope.mail_from), list(envelope.rcpt_tos), raw, parse(raw))
        failure = self._scripted("DATA")
        with self._lock:
            (self.rejected if failure else self.messages).append(delivery)
        return failure or "250 Message accepted for delivery"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            USER.encode(),
            PASSWORD.encode(),
        ):
            with self._lock:
                self.logins.append(USER)
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


class SMTPServer:
    """Runs FakeSMTP under an aiosmtpd Controller (its own thread) on a free loopback port."""

    def __init__(self) -> None:
        self.smtp = FakeSMTP(port=free_port())
        self.controller = Controller(
            self.smtp,
            hostname=self.smtp.host,
            port=self.smtp.port,
            authenticator=self.smtp.authenticate,
            auth_require_tls=False,
        )

    def __enter__(self) -> FakeSMTP:
        self.controller.start()
        return self.smtp

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
