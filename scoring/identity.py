"""Identity rules: G1 footer identifiers, G2 host under .gov.cn, G3 SiteIDCode meta matches the footer,
G4 HTTPS and its certificate."""
from __future__ import annotations

import ipaddress
from datetime import datetime
from urllib.parse import urlsplit

from scoring.content import _advisory
from scoring.certainty import absence_judgeable
from scoring.findings import Evidence
from scoring.registry import rule

_REQUIRED = (("site_code", "网站标识码"), ("icp", "ICP备案编号"), ("psb", "公安机关备案号"), ("badge", "党政机关网站标识"),
             ("sponsor", "主办单位"), ("contact", "联系方式"))


def _judgeable(snap) -> bool:
    """The footer was read: an app shell's footer is drawn by script, so its absence proves nothing."""
    return snap.home is not None and snap.home.outcome == "ok" and bool(snap.identifiers) and absence_judgeable(snap)


@rule("G1", "页面底部标识缺失", "advisory",
      "首页底部应有网站标识码、ICP 备案编号、公安机关备案号、党政机关网站标识、主办单位和联系方式。",
      "在网站页脚补齐网站标识码、ICP 备案号（链接工信部备案系统）、公安备案号、党政机关网站标识、主办单位和联系方式。")
def footer_identifiers(snap, profile):
    if not _judgeable(snap):
        return []
    missing = [label for key, label in _REQUIRED if not snap.identifiers.get(key)]
    if not missing:
        return []
    return [_advisory(snap, profile, "G1", snap.url, [Evidence(url=snap.url, detail="缺少：" + "、".join(missing))],
                      f"页脚缺少 {len(missing)} 项标识：{'、'.join(missing)}", count=len(missing))]


@rule("G2", "域名不规范", "advisory",
      "政府网站英文域名应以 .gov.cn 结尾（中文域名为 .政务），不得使用其他后缀或直接用 IP 地址。",
      "按《政府网站发展指引》使用本级政府门户网站的下级域名（如 xxx.bl.gov.cn），旧域名设置跳转后注销。")
def host_not_gov(snap, profile):
    host = (urlsplit(snap.home.final_url if snap.home and snap.home.final_url else snap.url).hostname or "").lower()
    if host.endswith(".gov.cn") or host.endswith(".xn--zfr164b"):
        return []
    try:
        ipaddress.ip_address(host)
        what = f"直接使用 IP 地址 {host}"
    except ValueError:
        what = f"域名 {host} 不在 .gov.cn 下"
    return [_advisory(snap, profile, "G2", snap.url, [Evidence(url=snap.url, detail=what)], f"域名不规范：{what}", 1)]


@rule("G3", "网站标识码网页标签不符", "advisory",
      "网页应有 <meta name=\"SiteIDCode\"> 标签，且与页脚的网站标识码一致。",
      "在所有页面头部加上 <meta name=\"SiteIDCode\" content=\"网站标识码\">，与页脚显示的标识码保持一致。")
def site_code_meta(snap, profile):
    if not _judgeable(snap):
        return []
    meta, footer = snap.identifiers.get("meta_site_code"), snap.identifiers.get("site_code")
    if meta and (not footer or meta == footer):
        return []
    detail = "缺少 SiteIDCode 标签" if not meta else f"SiteIDCode 标签为 {meta}，页脚为 {footer}"
    return [_advisory(snap, profile, "G3", snap.url, [Evidence(url=snap.url, detail=detail)], f"网站标识码标签问题：{detail}", 1)]


# OpenSSL's verify messages, as the office reads them (the original stays in brackets)
_TRUST_REASONS = (("self-signed", "自签名证书，浏览器不认可"), ("unable to get local issuer", "签发机构不受信任或缺少中间证书"),
                  ("has expired", "证书已过期"), ("not yet valid", "证书尚未生效"), ("revoked", "证书已被吊销"))


def _trust_reason(error: str) -> str:
    said = next((text for mark, text in _TRUST_REASONS if mark in error.lower()), None)
    return f"{said}（{error}）" if said else error


def _name_mismatch_only(tls: dict) -> bool:
    """A certificate a browser would trust but for its name: the mismatch line says it all."""
    return tls.get("name_matches") is False and "mismatch" in (tls.get("trust_error") or "").lower()


@rule("G4", "HTTPS 与证书", "advisory",
      "网站应支持 HTTPS，证书应有效、受信任且未过期；证书临近到期的提前提示。",
      "为网站部署受信任的 HTTPS 证书（可用政务云统一证书），并在到期前续期。")
def https_certificate(snap, profile):
    tls = snap.tls
    if not tls:
        return []
    problems = []
    obsolete = tls.get("obsolete_protocol")
    if obsolete:
        problems.append("HTTPS 只支持已淘汰的加密协议（TLS 1.0/1.1 或更早），现行浏览器无法建立加密连接")
    elif not tls.get("https"):
        problems.append("未启用 HTTPS")
    if tls.get("https"):   # the certificate, read even from a server on an obsolete protocol
        expires = datetime.fromisoformat(tls["not_after"])
        days = (expires - snap.as_of).days
        if days < 0:
            problems.append(f"证书已于 {expires:%Y-%m-%d} 过期")
        elif days <= profile.cert_warning_days:
            problems.append(f"证书将于 {expires:%Y-%m-%d} 到期（还有 {days} 天）")
        if tls.get("name_matches") is False:
            problems.append(f"证书与网站域名不符：证书签发给 {'、'.join(tls.get('cert_names') or []) or '（未写明域名）'}")
        if not obsolete and not tls.get("trusted") and not _name_mismatch_only(tls):   # obsolete: never asked
            problems.append(f"证书不受信任：{_trust_reason(tls.get('trust_error') or '')}")
    if not problems:
        return []
    where = f"https://{tls['host']}:{tls['port']}/" if tls.get("https") else snap.url
    return [_advisory(snap, profile, "G4", snap.url, [Evidence(url=where, detail=p) for p in problems],
                      "HTTPS：" + "；".join(problems), len(problems))]
