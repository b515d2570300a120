"""`sitecensus send`: mail each unit its problem sheet (HTML body, DOCX attached) over SMTP, record
every delivery, and never send the same sheet twice unless forced. A dry run writes .eml files."""
from __future__ import annotations

import hashlib
import os
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path

from bs4 import BeautifulSoup
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from reports.html import stem
from sitecensus.config import Config, MailSettings, Unit
from sitecensus.store import Delivery


class MailError(RuntimeError):
    pass


@dataclass
class Sheet:
    unit: Unit
    site: dict
    html: Path
    docx: Path

    @property
    def digest(self) -> str:
        """What the unit would receive: the same sheet content is the same digest."""
        return hashlib.sha256(self.html.read_bytes()).hexdigest()


@dataclass
class Outcome:
    sent: list[tuple[str, str]] = field(default_factory=list)        # (unit, recipients or .eml path)
    skipped: list[tuple[str, str]] = field(default_factory=list)     # (unit, why)
    failed: list[tuple[str, str]] = field(default_factory=list)      # (unit, error)


def subject(sheet: Sheet, document: dict) -> str:
    day = document["scan"]["as_of"][:10]
    return f"【整改通知】{sheet.unit.name}网站检测问题单（第 {document['scan']['id']} 次检测，{day}）"


def mail_body(html: str) -> str:
    """The sheet as a mail body: without the links that only work next to the dashboard (class nav)."""
    soup = BeautifulSoup(html, "lxml")
    for element in soup.select(".nav"):
        element.decompose()
    return str(soup)


def build_message(sheet: Sheet, document: dict, mail: MailSettings) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject(sheet, document)
    message["From"] = mail.sender
    message["To"] = ", ".join(sheet.unit.contacts)
    if mail.cc:
        message["Cc"] = ", ".join(mail.cc)
    message["Date"] = formatdate(localtime=True)
    domain = parseaddr(mail.sender)[1].partition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid("sitecensus", domain=domain)
    site = sheet.site
    message.set_content(
        f"{sheet.unit.name}：\n\n贵单位网站 {site['url']} 在第 {document['scan']['id']} 次检测"
        f"（监测时间点 {document['scan']['as_of'][:16]}）中的结论为“{site['verdict']}”，发现问题 "
        f"{sum(1 for f in site['findings'] if not f.get('silenced'))} 项。\n"
        "问题单见本邮件正文（网页版）和附件（Word 版）。请按期整改，填写附件中的整改反馈并回复。\n")
    message.add_alternative(mail_body(sheet.html.read_text(encoding="utf-8")), subtype="html")
    message.add_attachment(sheet.docx.read_bytes(), maintype="application",
                           subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
                           filename=f"整改问题单-{sheet.unit.name}.docx")
    return message


def _connect(mail: MailSettings) -> smtplib.SMTP:
    password = os.environ.get(mail.password_env) if mail.user else None
    if mail.user and not password:
        raise MailError(f"settings.yaml 的 mail.user 为 {mail.user}，但没有设置环境变量 {mail.password_env}（邮箱密码只从环境变量读取）")
    try:
        context = ssl.create_default_context(cafile=mail.ca_file)   # the server's certificate is always verified
        if mail.security == "ssl":
            client = smtplib.SMTP_SSL(mail.host, mail.port, timeout=mail.timeout_seconds, context=context)
        else:
            client = smtplib.SMTP(mail.host, mail.port, timeout=mail.timeout_seconds)
            if mail.security == "starttls":
                client.starttls(context=context)
        if mail.user:
            client.login(mail.user, password)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"无法连接邮件服务器 {mail.host}:{mail.port}（{mail.security}）：{exc}") from exc
    return client


def sheets_of(config: Config, document: dict, sheets_dir: Path, names: list[str] | None) -> list[Sheet]:
    """The sheets of the chosen units (default: every unit with a registered site) in the document."""
    units = [config.unit(n) for n in names] if names else list(config.units)
    out = []
    for unit in units:
        for site in document["sites"]:
            if site["unit"] == unit.name and site["url"] and site.get("role", "site") != "portal":
                name = stem(site["unit"], site["url"])
                out.append(Sheet(unit, site, sheets_dir / f"{name}.html", sheets_dir / f"{name}.docx"))
    return out


def _already_sent(session: Session, sheet: Sheet, digest: str) -> Delivery | None:
    return session.scalar(select(Delivery).where(Delivery.unit == sheet.unit.name, Delivery.digest == digest,
                                                 Delivery.dry_run.is_(False)).limit(1))


def send(config: Config, sessions: sessionmaker[Session], document: dict, sheets: list[Sheet], outbox: Path,
         dry_run: bool = False, force: bool = False, units_without_site: list[str] = ()) -> Outcome:
    mail = config.settings.mail
    outcome = Outcome(skipped=[(name, "未登记网站，没有问题单") for name in units_without_site])
    outcome.skipped += [(s.unit.name, "units.yaml 未填写 contact_email，未发送") for s in sheets if not s.unit.contacts]
    sendable = [s for s in sheets if s.unit.contacts]
    client = None
    try:
        for index, sheet in enumerate(sendable):
            digest = sheet.digest
            with sessions() as session:
                earlier = _already_sent(session, sheet, digest)
            if earlier and not force:
                outcome.skipped.append((sheet.unit.name, f"这份问题单已于 {earlier.sent_at:%Y-%m-%d %H:%M} 发送过"
                                                         f"（{', '.join(earlier.recipients)}）；重发请加 --force"))
                continue
            message = build_message(sheet, document, mail)
            path = None
            if dry_run:
                outbox.mkdir(parents=True, exist_ok=True)
                path = outbox / f"{sheet.html.stem}-scan{document['scan']['id']}.eml"
                path.write_bytes(bytes(message))
            else:
                try:
                    client = client or _connect(mail)
                    client.send_message(message)
                except MailError as exc:
                    outcome.failed += [(s.unit.name, str(exc)) for s in sendable[index:]]
                    break
                except (OSError, smtplib.SMTPException) as exc:
                    outcome.failed.append((sheet.unit.name, f"发送失败：{exc}"))
                    client = None
                    continue
            recipients = sheet.unit.contacts + list(mail.cc)
            with sessions.begin() as session:
                session.add(Delivery(unit=sheet.unit.name, scan_id=document["scan"]["id"], digest=digest,
                                     recipients=recipients, sent_at=datetime.now(timezone.utc),
                                     message_id=message["Message-ID"], dry_run=dry_run,
                                     path=str(path) if path else None))
            outcome.sent.append((sheet.unit.name, str(path) if path else ", ".join(recipients)))
    finally:
        if client is not None:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                pass
    return outcome
