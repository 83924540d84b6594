"""Outgoing mail: SMTP from config, or ``.eml`` files under ``instance/outbox/`` in development."""

from __future__ import annotations

import os
import smtplib
import uuid
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app


def outbox_dir() -> str:
    return os.path.join(current_app.instance_path, "outbox")


def send_mail(to: str, subject: str, body: str) -> None:
    """Send a plain-text message to ``to``. Without ``MAIL_SERVER`` it is written to the outbox."""
    cfg = current_app.config
    msg = EmailMessage()
    msg["From"] = cfg.get("MAIL_DEFAULT_SENDER") or "noreply@ce.local"
    msg["To"] = to
    msg["Subject"] = str(subject)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid()
    msg.set_content(str(body))
    server = cfg.get("MAIL_SERVER")
    if not server:
        folder = outbox_dir()
        os.makedirs(folder, mode=0o700, exist_ok=True)
        name = datetime.utcnow().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8] + ".eml"
        # Messages carry reset links: readable by the app's user only.
        fd = os.open(os.path.join(folder, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(msg.as_bytes())
        return
    port = int(cfg.get("MAIL_PORT") or 25)
    smtp_cls = smtplib.SMTP_SSL if cfg.get("MAIL_USE_SSL") else smtplib.SMTP
    with smtp_cls(server, port, timeout=30) as smtp:
        if cfg.get("MAIL_USE_TLS") and not cfg.get("MAIL_USE_SSL"):
            smtp.starttls()
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg.get("MAIL_PASSWORD") or "")
        smtp.send_message(msg)
