"""`sitecensus send`: mail each unit its one sheet (HTML body, DOCX attached) over SMTP, record every
delivery, and never send the same sheet twice unless forced. A dry run writes .eml files. What the mail
is follows the sheet: 整改通知 when there is something to rectify, 关停确认 for a unit closed as planned,
检测结果告知 (no deadline) otherwise. A server that cannot be reached is said once, with what to set."""
from __future__ import annotations

import hashlib
import os
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from zoneinfo import ZoneInfo

from bs4 import BeautifulSoup
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from reports.html import sheet_files
from reports.sheet import NOTICES, notice_kind, safe_name
from sitecensus.config import Config, MailSettings, Unit
from sitecensus.store import Delivery


class MailError(RuntimeError):
    pass


@dataclass
class Sheet:
    """A unit's one sheet: its site(s) and its retained portal page."""
    unit: Unit
    sites: list[dict]
    html: Path
    docx: Path

    @property
    def digest(self) -> str:
        """What the unit would receive: the same sheet content is the same digest."""
        return hashlib.sha256(self.html.read_bytes()).hexdigest()

    @property
    def notice(self) -> str:
        return notice_kind(self.sites)


@dataclass
class Outcome:
    sent: list[tuple[str, str]] = field(default_factory=list)        # (unit, recipients or .eml path)
    skipped: list[tuple[str, str]] = field(default_factory=list)     # (unit, why)
    failed: list[tuple[str, str]] = field(default_factory=list)      # (unit, error)
    unreachable: str | None = None   # the mail server could not be used: said once, nothing was sent


SUBJECTS = {"rectify": "{unit}网站检测问题单", "closure": "{unit}网站关停情况确认", "result": "{unit}网站检测结果"}


def subject(sheet: Sheet, document: dict) -> str:
    day = document["scan"]["as_of"][:10]
    what = SUBJECTS[sheet.notice].format(unit=sheet.unit.name)
    return f"【{NOTICES[sheet.notice]['tag']}】{what}（第 {document['scan']['id']} 次检测，{day}）"


def attachment_name(sheet: Sheet) -> str:
    """The DOCX's name in the mail: the unit's name made safe like the sheet files' (no ../, no slashes)."""
    return f"{NOTICES[sheet.notice]['short']}-{safe_name(sheet.unit.name)}.docx"


def plain_text(sheet: Sheet, document: dict) -> str:
    """The mail's plain-text part: one line per site, then what the unit is asked to do."""
    scan = document["scan"]
    lines = [f"{sheet.unit.name}：", "",
             f"第 {scan['id']} 次检测（监测时间点 {scan['as_of'][:16].replace('T', ' ')}）的结果："]
    for site in sheet.sites:
        problems = sum(1 for f in site["findings"] if not f.get("silenced"))
        role = "门户网站保留页面" if site.get("role") == "portal_page" else "网站"
        lines.append(f"  {role} {site['url']}：{site['verdict']}" + (f"，发现问题 {problems} 项" if problems else ""))
    lines.append("")
    lines.append({"rectify": "问题单见本邮件正文（网页版）和附件（Word 版）。请按期整改，填写附件中的整改反馈并回复。",
                  "closure": "经检测确认网站已按计划关停，无需整改，本邮件无需回复。确认单见正文和附件。",
                  "result": "本次检测未发现需要整改的问题，特此告知，本邮件无需回复。"}[sheet.notice])
    return "\n".join(lines) + "\n"


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
    message.set_content(plain_text(sheet, document))
    message.add_alternative(mail_body(sheet.html.read_text(encoding="utf-8")), subtype="html")
    message.add_attachment(sheet.docx.read_bytes(), maintype="application",
                           subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
                           filename=attachment_name(sheet))
    return message


SETTINGS_HINT = ("请在 settings.yaml 的 mail: 中填写单位的邮件服务器（host、port、security：starttls / ssl / none；"
                 "需要登录时填 user，密码放在环境变量 {password_env} 中）和发件人 sender，再运行 sitecensus send；"
                 "先用 --dry-run 可把邮件写成文件查看")


def _reason(exc: BaseException) -> str:
    """Why the mail server could not be used, in the office's words (the technical text after it)."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"服务器证书无法验证（{exc.verify_message}，CERTIFICATE_VERIFY_FAILED）；内部 CA 签发的证书请在 mail.ca_file 指定 CA 文件"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "用户名或密码不对，服务器拒绝登录"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return "服务器不支持 STARTTLS 加密（可把 mail.security 改为 ssl 或 none）"
    if isinstance(exc, ConnectionRefusedError):
        return "连接被拒绝：该地址和端口上没有邮件服务在运行"
    if isinstance(exc, socket.gaierror):
        return "服务器名称无法解析"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "连接超时"
    return f"{type(exc).__name__}: {exc}"


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
        hint = "" if isinstance(exc, (ssl.SSLCertVerificationError, smtplib.SMTPAuthenticationError)) else \
            "。邮件尚未配置，或服务器无法访问。" + SETTINGS_HINT.format(password_env=mail.password_env)
        raise MailError(f"无法使用邮件服务器 {mail.host}:{mail.port}（{mail.security}）：{_reason(exc)}{hint}") from exc
    return client


def sheets_of(config: Config, document: dict, sheets_dir: Path, names: list[str] | None) -> list[Sheet]:
    """One sheet per chosen unit (default: every unit) that has sites in the document: its own site(s)
    and its retained portal page, never the district portal."""
    units = [config.unit(n) for n in names] if names else list(config.units)
    files = sheet_files(document["sites"])
    out = []
    for unit in units:
        sites = [s for s in document["sites"] if s["unit"] == unit.name and s["url"] and s.get("role", "site") != "portal"]
        if sites:
            name = files[unit.name]
            out.append(Sheet(unit, sites, sheets_dir / f"{name}.html", sheets_dir / f"{name}.docx"))
    return out


def not_sheeted(units: list[Unit], sheets: list[Sheet], document: dict) -> list[tuple[str, str]]:
    """Units that get no mail because they have no sheet, and why."""
    with_sheet = {s.unit.name for s in sheets}
    return [(u.name, f"第 {document['scan']['id']} 次检测没有检测该单位（可能是之后才登记了网址），没有问题单"
             if u.urls else "未登记网站，没有问题单") for u in units if u.name not in with_sheet]


def _already_sent(session: Session, sheet: Sheet, digest: str) -> Delivery | None:
    return session.scalar(select(Delivery).where(Delivery.unit == sheet.unit.name, Delivery.digest == digest,
                                                 Delivery.dry_run.is_(False)).order_by(Delivery.id).limit(1))


def send(config: Config, sessions: sessionmaker[Session], document: dict, sheets: list[Sheet], outbox: Path,
         dry_run: bool = False, force: bool = False, units: list[Unit] = ()) -> Outcome:
    """Mail each sheet; `units` are the units chosen, those without a sheet are listed as not sent."""
    mail = config.settings.mail
    tz = ZoneInfo(config.settings.timezone)
    outcome = Outcome(skipped=not_sheeted(list(units), sheets, document))
    outcome.skipped += [(s.unit.name, "单位名单未填写联系邮箱（contact_email），未发送") for s in sheets if not s.unit.contacts]
    sendable = [s for s in sheets if s.unit.contacts]
    client = None
    try:
        for index, sheet in enumerate(sendable):
            digest = sheet.digest
            with sessions() as session:
                earlier = _already_sent(session, sheet, digest)
            if earlier and not force:
                outcome.skipped.append((sheet.unit.name, f"这份问题单已于 {earlier.sent_at.astimezone(tz):%Y-%m-%d %H:%M} 发送过"
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
                except MailError as exc:   # said once; the units left are listed as not sent
                    outcome.unreachable = str(exc)
                    outcome.skipped += [(s.unit.name, "邮件服务器无法使用，未发送（原因见上）") for s in sendable[index:]]
                    break
                except (OSError, smtplib.SMTPException) as exc:
                    outcome.failed.append((sheet.unit.name, f"发送失败：{_reason(exc)}"))
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
