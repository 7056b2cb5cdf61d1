"""Email over SMTP: a plain-text and HTML message, and what the server's replies mean."""

import re
import smtplib
import ssl
import time
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from functools import partial
from html import escape
from typing import Any

from rbtk.channels.base import (
    Delivery,
    Destination,
    Field,
    InvalidDestination,
    Io,
    Limits,
    Result,
    Retrier,
    Verdict,
    configured,
)
from rbtk.channels.message import Message
from rbtk.runtime.settings import Settings

kind = "email"
address_is_secret = False  # every message goes through the one SMTP server
digests = True  # a person reads each message: a burst becomes one digest a minute
label = "Email"
summary = "SMTP"  # beside the label where a kind is chosen
MAX_ADDRESS = 254
MAX_RECIPIENTS = 50
# One address, no display name: what SMTP's RCPT TO takes (and no NUL, which no database
# stores). Its whitespace is ASCII's, spelt out, so the API's document (a JSON Schema
# pattern) means what this module checks.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
ADDRESS = rf"[^@ \t\n\r\f\v\x00<>(),;:\"]+@{_LABEL}(?:\.{_LABEL})*"
_ADDRESS = re.compile(ADDRESS)
fields: tuple[Field, ...] = (
    Field(
        "recipients",
        "Recipients",
        "Email addresses, e.g. ops@example.com",
        many=True,
        schema={
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_RECIPIENTS,
            "items": {"type": "string", "maxLength": MAX_ADDRESS, "pattern": f"^{ADDRESS}$"},
        },
    ),
)


def limits(settings: Settings) -> Limits:
    """No budget of its own (the SMTP server says when it is busy: 4xx, retried); its own
    timeout, and as many sends at once as its own sender pool has threads."""
    declared = Limits(0, settings.smtp_timeout_s, settings.smtp_concurrency)
    return configured(settings, kind, declared)


def validate(values: Mapping[str, Any], *, allow_private: bool) -> Destination:
    recipients = values.get("recipients")
    if recipients is None:
        raise InvalidDestination(
            "recipients: an email channel needs at least one address", field="recipients"
        )
    if not isinstance(recipients, Sequence) or isinstance(recipients, str):
        raise InvalidDestination("recipients: give a list of email addresses", field="recipients")
    return Destination(None, {"recipients": validate_recipients(recipients)}, endpoint=kind)


def validate_recipients(recipients: Sequence[str]) -> list[str]:
    if not recipients:
        raise InvalidDestination("recipients: give at least one email address", field="recipients")
    if len(recipients) > MAX_RECIPIENTS:
        raise InvalidDestination(
            f"recipients: at most {MAX_RECIPIENTS} addresses, got {len(recipients)}; "
            "use a mailing list",
            field="recipients",
        )
    seen: set[str] = set()
    for address in recipients:
        if len(address) > MAX_ADDRESS or not _ADDRESS.fullmatch(address):
            raise InvalidDestination(
                f"recipients: {address[:80]!r} is not an email address such as "
                "ops@example.com (give each address separately)",
                field="recipients",
            )
        if address.lower() in seen:
            raise InvalidDestination(f"recipients: {address!r} is listed twice", field="recipients")
        seen.add(address.lower())
    return list(recipients)


def describe(config: Mapping[str, Any], secret_masked: str | None) -> str:
    return ", ".join(config.get("recipients") or [])


def render(message: Message, config: Mapping[str, Any]) -> dict[str, Any]:
    return body(message, list(config["recipients"]))


async def send(delivery: Delivery, io: Io) -> Result:
    # smtplib blocks: it runs in email's own bounded pool, never in the one the scheduler
    # and the database calls share.
    return await io.blocking(partial(send_now, io.settings, delivery.body))


def body(message: Message, recipients: list[str]) -> dict[str, Any]:
    lines = [message.title, ""]
    lines += [f"{k}: {v}" for k, v in message.fields]
    lines += ["", f"Occurred at {message.occurred_at} (event {message.event_id})", message.link]
    rows = "".join(
        f"<tr><th align='left'>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in message.fields
    )
    html = (
        f"<h2>{escape(message.title)}</h2><table>{rows}</table>"
        f"<p>Occurred at {escape(message.occurred_at)} (event {escape(message.event_id)})</p>"
        f"<p><a href='{escape(message.link, quote=True)}'>{escape(message.link_label)}</a></p>"
    )
    return {
        "to": recipients,
        "subject": f"[Roboticks] {message.title} — {message.project}",
        "text": "\n".join(lines) + "\n",
        "html": html,
    }


def send_now(settings: Settings, content: dict[str, Any]) -> Result:
    """Send one message; blocking, so the delivery worker runs it in a thread."""
    mail = EmailMessage()
    mail["From"] = settings.smtp_from
    mail["To"] = ", ".join(content["to"])
    mail["Subject"] = content["subject"]
    mail.set_content(content["text"])
    mail.add_alternative(content["html"], subtype="html")
    started = time.perf_counter()
    try:
        with _connect(settings) as smtp:
            if settings.smtp_username:
                password = (
                    settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                )
                smtp.login(settings.smtp_username, password)
            refused = smtp.send_message(mail)
    except smtplib.SMTPResponseException as exc:
        return _reply(exc.smtp_code, exc.smtp_error, started)
    except smtplib.SMTPRecipientsRefused as exc:
        code, said = next(iter(exc.recipients.values()))
        return _reply(code, said, started)
    except (smtplib.SMTPException, OSError) as exc:
        reason = f"could not reach the SMTP server: {exc}"[:300]
        return Result(Verdict.RETRY, None, reason, endpoint_down=True)
    latency = (time.perf_counter() - started) * 1000
    if refused:
        return Result(
            Verdict.FAILED, None, f"refused recipients: {', '.join(refused)}", None, None, latency
        )
    return Result(Verdict.SENT, 250, "accepted by the SMTP server", None, None, latency)


def _connect(settings: Settings) -> smtplib.SMTP:
    timeout = settings.smtp_timeout_s
    if settings.smtp_security == "tls":
        return smtplib.SMTP_SSL(
            settings.smtp_host,
            settings.smtp_port,
            timeout=timeout,
            context=ssl.create_default_context(),
        )
    smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
    if settings.smtp_security == "starttls":
        smtp.starttls(context=ssl.create_default_context())
    return smtp


# SMTP reply codes: 2xx and 3xx go on; 4xx are temporary and retried; 5xx are permanent.
# 421: the server is shutting the channel for everyone, not refusing this message.
RETRIER = Retrier(
    sent=frozenset(range(200, 400)), retry=frozenset(range(400, 500)), down=frozenset({421})
)


def _reply(code: int, said: bytes | str, started: float) -> Result:
    """An SMTP server's refusal, judged by `RETRIER`."""
    text = said.decode(errors="replace") if isinstance(said, bytes) else str(said)
    latency = (time.perf_counter() - started) * 1000
    said = f"SMTP {code} {text}"[:500]
    verdict = RETRIER.verdict(code)
    return Result(verdict, None, said, None, None, latency, RETRIER.endpoint_down(code))
