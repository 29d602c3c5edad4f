"""E-mails to guests and to the operator: rendered when queued, sent over SMTP by the worker.

`queue_email` renders the message and stores it, whole, in an `email.send` job inside the caller's
transaction, so a rolled-back change never mails anyone and a retry sends exactly the same message
(same Message-ID, same Date). The worker hands it to the configured SMTP server; transient failures
(connection, timeout, 4xx) are retried with backoff, permanent ones (5xx, no SMTP configured) are
dead-lettered where the operator sees them.
"""

from __future__ import annotations

import asyncio
import email.errors
import logging
import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.config import Settings
from alojamientos.conversation import format as fmt
from alojamientos.jobs.queue import enqueue, release_held
from alojamientos.jobs.worker import GiveUp, Held, JobContext, RetryLater, Worker, every, handler
from alojamientos.kit.clock import utc_now
from alojamientos.ops.flags import flags

log = logging.getLogger(__name__)

EMAIL_SEND = "email.send"
HELD_EMAILS_FOR = timedelta(days=1)
GUEST_TEMPLATES = (
    "hold_created",
    "hold_reminder",
    "hold_expired",
    "confirmed",
    "changed",
    "cancelled",
    "checkin_instructions",
)
OPERATOR_TEMPLATES = (
    "op_new_hold",
    "op_payment_received",
    "op_payment_problem",
    "op_refund_needed",
    "op_handoff",
)
# Every template receives all of these (values may be None or "" where the contract allows).
CONTEXT_KEYS = frozenset(
    {
        "complex_name",
        "public_base_url",
        "code",
        "guest_name",
        "guest_phone",
        "guest_email",
        "unit_name",
        "check_in",
        "check_out",
        "nights",
        "guests",
        "total",
        "deposit",
        "paid",
        "due",
        "expires_at",
        "check_in_time",
        "check_out_time",
        "check_in_instructions",
        "address",
        "bank_details",
        "payment_link",
        "cancellation_policy",
        "reason",
        "payment_amount",
        "payment_method",
        "payment_status",
    }
)
SMTPS_PORT = 465
SMTP_TIMEOUT_SECONDS = 20.0
_TEMPLATE_DIR = Path(__file__).with_name("templates") / "email"
_DEDUPE_KEY_MAX = 200  # jobs.dedupe_key is VARCHAR(200)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


# --- rendering -----------------------------------------------------------------------------------


def _lines(value: str) -> Markup:
    """Multi-line operator text (bank details, instructions) as escaped HTML with line breaks."""
    return Markup("<br>\n").join(escape(line) for line in str(value).strip().splitlines())


def _label(value: str | None, words: dict[str, str], missing: str) -> str:
    """A code ("transfer") in the reader's words ("transferencia"); an unknown code as it is."""
    return words.get(value, value) if value else missing


def _admin_url(public_base_url: str) -> str:
    return f"{public_base_url.rstrip('/')}/admin"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(_TEMPLATE_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,  # an include ends with its newline, like an inline block would
    )
    env.filters.update(
        fecha=fmt.fecha,
        pesos=fmt.pesos,
        noches=fmt.noches,
        personas=fmt.personas,
        hora=fmt.hora,
        lines=_lines,
        label=_label,
        admin_url=_admin_url,
    )
    return env


def _check_template(template: str) -> None:
    if template not in GUEST_TEMPLATES and template not in OPERATOR_TEMPLATES:
        raise ValueError(f"unknown e-mail template {template!r}")


def _check_context(context: dict[str, Any]) -> None:
    """The whole contract up front, so a missing key fails the same whichever branch renders."""
    missing = CONTEXT_KEYS - context.keys()
    if missing:
        raise ValueError(f"e-mail context is missing {', '.join(sorted(missing))}")


def _tidy_text(text: str) -> str:
    """No trailing spaces, at most one blank line in a row, one final newline."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def render(template: str, context: dict[str, Any]) -> RenderedEmail:
    """Subject, plain text and HTML of one e-mail; unknown template or missing context → ValueError."""
    _check_template(template)
    _check_context(context)
    env = _environment()
    subject = env.get_template(f"{template}.subject.txt").render(context)
    text = env.get_template(f"{template}.txt").render(context)
    html = env.get_template(f"{template}.html").render(context)
    return RenderedEmail(subject=" ".join(subject.split()), text=_tidy_text(text), html=html.strip() + "\n")


# --- queueing ------------------------------------------------------------------------------------


def _recipient(settings: Settings, template: str, to: str | None) -> str | None:
    if to is None and template in OPERATOR_TEMPLATES:
        to = settings.operator_email
    return (to or "").strip() or None


def _skipped(template: str, dedupe_key: str, reason: str) -> bool:
    log.info("email.skipped", extra={"template": template, "dedupe_key": dedupe_key, "reason": reason})
    return False


async def queue_email(
    session: AsyncSession,
    settings: Settings,
    *,
    to: str | None,
    template: str,
    context: dict[str, Any],
    dedupe_key: str,
) -> bool:
    """Renders now and enqueues an `email.send` job in the caller's transaction.

    `to=None` for operator templates means settings.operator_email. Returns False (and logs
    `email.skipped` with the reason) when there is no recipient or the `email` flag is off; nothing
    is queued then. A second call with the same `dedupe_key` queues nothing more and returns True:
    that e-mail is already on its way. Unknown template or incomplete context → ValueError.
    """
    if len(dedupe_key) > _DEDUPE_KEY_MAX:
        raise ValueError(f"dedupe_key is too long ({len(dedupe_key)} characters)")
    rendered = render(template, context)  # before the checks below: a broken context fails loudly
    recipient = _recipient(settings, template, to)
    if recipient is None:
        return _skipped(template, dedupe_key, "no recipient")
    if not await flags.enabled(session, "email"):
        return _skipped(template, dedupe_key, "email flag off")
    payload = {
        "template": template,
        "to": recipient,
        "subject": rendered.subject,
        "text": rendered.text,
        "html": rendered.html,
        "date": utc_now().isoformat(),
    }
    job_id = await enqueue(session, EMAIL_SEND, payload, dedupe_key=dedupe_key)
    event = "email.queued" if job_id is not None else "email.already_queued"
    log.info(event, extra={"template": template, "dedupe_key": dedupe_key, "job_id": job_id})
    return True


# --- sending -------------------------------------------------------------------------------------


def _sender_address(settings: Settings) -> str:
    address = parseaddr(settings.smtp_from or "")[1]
    if "@" not in address:
        raise GiveUp(f"SMTP_FROM is not an e-mail address: {settings.smtp_from!r}")
    return address


def _message(settings: Settings, payload: dict[str, Any], job_id: int) -> EmailMessage:
    """The MIME message for one job: the same bytes on every attempt (Message-ID from the job id)."""
    domain = _sender_address(settings).rpartition("@")[2]
    message = EmailMessage()
    try:
        message["Message-ID"] = f"<email-{job_id}@{domain}>"
        message["Date"] = format_datetime(datetime.fromisoformat(payload["date"]))
        message["From"] = settings.smtp_from
        message["To"] = payload["to"]
        message["Subject"] = payload["subject"]
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies back to us
        # Quoted-printable: 7-bit safe even where the server does not announce 8BITMIME.
        message.set_content(payload["text"], cte="quoted-printable")
        message.add_alternative(payload["html"], subtype="html", cte="quoted-printable")
        # Fixed, not random: every attempt is byte-identical. "=_" never occurs in quoted-printable.
        message.set_boundary(f"=_email-{job_id}")
        message["Content-Language"] = "es-AR"  # after the parts: making a multipart moves Content-* down
    except (ValueError, email.errors.MessageError) as exc:
        raise GiveUp(f"cannot build the e-mail: {exc}") from exc
    return message


def _close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _deliver(settings: Settings, host: str, message: EmailMessage, sender: str, recipient: str) -> None:
    """Blocking SMTP conversation; runs in a thread."""
    context = ssl.create_default_context()
    if settings.smtp_port == SMTPS_PORT:  # implicit TLS ("SMTPS"): TLS from the first byte
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS, context=context
        )
    else:
        smtp = smtplib.SMTP(host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS)
    try:
        smtp.ehlo()
        if settings.smtp_starttls and settings.smtp_port != SMTPS_PORT:
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.smtp_user:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_user, password)
        smtp.send_message(message, from_addr=sender, to_addrs=[recipient])
    finally:
        _close(smtp)


def _by_code(code: int, reply: bytes | str, stage: str) -> RetryLater | GiveUp:
    """4xx (and anything not 5xx) is worth another try; 5xx is the server's final answer."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    reason = f"SMTP {code} at {stage}: {text}"
    return GiveUp(reason) if 500 <= code < 600 else RetryLater(reason)


async def _send(settings: Settings, host: str, message: EmailMessage, sender: str, recipient: str) -> None:
    """Runs the SMTP conversation off the event loop and sorts failures into retry / give up."""
    try:
        await asyncio.to_thread(_deliver, settings, host, message, sender, recipient)
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()))
        raise _by_code(code, reply, "RCPT") from exc
    except smtplib.SMTPResponseException as exc:
        raise _by_code(exc.smtp_code, exc.smtp_error, type(exc).__name__) from exc
    except smtplib.SMTPServerDisconnected as exc:
        raise RetryLater(f"SMTP server disconnected: {exc}") from exc
    except smtplib.SMTPException as exc:  # no STARTTLS, no usable AUTH mechanism: configuration
        raise GiveUp(f"SMTP: {exc}") from exc
    except ssl.SSLCertVerificationError as exc:
        raise GiveUp(f"SMTP server certificate rejected: {exc}") from exc
    except OSError as exc:  # refused, unreachable, DNS, timeout, TLS handshake
        raise RetryLater(f"SMTP connection to {host}:{settings.smtp_port} failed: {exc!r}") from exc


@handler(EMAIL_SEND)
async def send_email_job(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Sends one queued e-mail (multipart text + HTML) through the configured SMTP server."""
    settings = ctx.settings
    host = settings.smtp_host
    if not host or not settings.email_configured:
        raise Held("e-mail is not configured: set SMTP_HOST and SMTP_FROM")
    sender = _sender_address(settings)
    message = _message(settings, payload, ctx.job_id)
    await _send(settings, host, message, sender, payload["to"])
    log.info("email.sent", extra={"job_id": ctx.job_id, "template": payload.get("template")})


@every(60, "email.release_held")
async def release_held_emails(worker: Worker, now: datetime) -> None:
    """Once SMTP is configured, e-mails held meanwhile go out (those of the last day; older news
    would mislead)."""
    if worker.settings.email_configured:
        async with worker.db.session_scope() as session:
            await release_held(session, EMAIL_SEND, newer_than=now - HELD_EMAILS_FOR)
