"""Email over SMTP: a plain-text and HTML message, and what the server's replies mean."""

import smtplib
import ssl
import time
from email.message import EmailMessage
from html import escape
from typing import Any

from rbtk.channels.base import Result, Verdict
from rbtk.channels.message import Message
from rbtk.settings import Settings


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
        f"<p><a href='{escape(message.link, quote=True)}'>Open in Roboticks</a></p>"
    )
    return {
        "to": recipients,
        "subject": f"[Roboticks] {message.title} — {message.project}",
        "text": "\n".join(lines) + "\n",
        "html": html,
    }


def send(settings: Settings, content: dict[str, Any]) -> Result:
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


def _reply(code: int, said: bytes | str, started: float) -> Result:
    """SMTP 4xx replies are temporary and retried; 5xx replies are permanent."""
    text = said.decode(errors="replace") if isinstance(said, bytes) else str(said)
    latency = (time.perf_counter() - started) * 1000
    verdict = Verdict.RETRY if 400 <= code < 500 else Verdict.FAILED
    # 421: the server is shutting the channel for everyone, not refusing this message.
    said = f"SMTP {code} {text}"[:500]
    return Result(verdict, None, said, None, None, latency, endpoint_down=code == 421)
