"""Sending one e-mail: over SMTP when ``SMTP_HOST`` is set, else written to ``MAIL_OUTBOX_DIR``.

Errors are raised as :class:`SendFailed` with a short reason for the log; the
caller decides whether to try again.
"""
from __future__ import annotations

import os
import smtplib
import socket
import ssl
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any, Mapping


class SendFailed(Exception):
    """The message was not accepted; ``str()`` is the reason kept in the sent-log."""


def build(config: Mapping[str, Any], to: str, subject: str, text: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=config["MAIL_FROM"].rpartition("@")[2] or None)
    message.set_content(text)
    return message


def send(config: Mapping[str, Any], message: EmailMessage) -> None:
    if not config.get("SMTP_HOST"):
        _write(Path(config["MAIL_OUTBOX_DIR"]), message)
        return
    try:
        with smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=config["SMTP_TIMEOUT"]) as smtp:
            if config.get("SMTP_STARTTLS"):
                smtp.starttls(context=ssl.create_default_context())
            if config.get("SMTP_USER"):
                smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
            refused = smtp.send_message(message)
            if refused:
                raise SendFailed(f"refused: {', '.join(refused)}")
    except SendFailed:
        raise
    except smtplib.SMTPResponseException as error:
        raise SendFailed(f"{error.smtp_code} {_text(error.smtp_error)}") from None
    except smtplib.SMTPRecipientsRefused as error:
        raise SendFailed("recipient refused: " + "; ".join(
            f"{to} {code} {_text(reason)}" for to, (code, reason) in error.recipients.items())) from None
    except (smtplib.SMTPException, OSError, socket.timeout) as error:
        raise SendFailed(f"{type(error).__name__}: {error}"[:300]) from None


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _write(folder: Path, message: EmailMessage) -> None:
    """Development: each message as a ``.eml`` file (mode 0600) in the outbox folder."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    path = folder / f"{stamp}-{os.getpid()}.eml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(bytes(message))
