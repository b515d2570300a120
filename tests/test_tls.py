"""G4 over real TLS on 127.0.0.1: an expired self-signed certificate, one about to expire, one made out
to another host name, no HTTPS, a server that speaks only TLS 1.0 (with a valid and an expired certificate)."""
import asyncio
import dataclasses
import json
import ssl
import warnings
from datetime import datetime, timedelta, timezone

import pytest

from crawler.probe import name_matches, probe_round, tls_round, tls_status
from scoring.consolidation import site_seen
from scoring.identity import https_certificate
from scoring.links import failure_label
from scoring.snapshot import Home
from sitecensus.demo.server import DemoServer, Reply, SiteFiles
from tests.conftest import run_cli, self_signed
from tests.test_download import _crawl
from tests.test_scoring import CENSUS, snapshot


@pytest.fixture
def https_site(tmp_path, request):
    """param: days the certificate is still valid, or (days, the host name it is made out to)."""
    days, name = request.param if isinstance(request.param, tuple) else (request.param, "127.0.0.1")
    server = DemoServer(tls=self_signed(tmp_path, datetime.now(timezone.utc) + timedelta(days=days), name)[0])
    page = "<html><head><title>测试局</title></head><body><ul><li><a href='/a.html'>通知</a><span>2026-11-20</span></li></ul></body></html>"
    server.serve(SiteFiles(pages={"/": Reply(200, page.encode())}))
    yield server.base_url
    server.close()


@pytest.mark.parametrize("https_site", [-3], indirect=True)
def test_expired_untrusted_certificate(world, https_site):
    result = run_cli("audit", https_site, "--json", config=world.config)
    site = json.loads(result.stdout)["sites"][0]
    g4 = next(f for f in site["findings"] if f["code"] == "G4")
    details = " ".join(e["detail"] for e in g4["evidence"])
    assert "过期" in details and "不受信任" in details
    assert site["stats"]["pages"] == 1  # the crawler still reads the site


@pytest.mark.parametrize("https_site", [10], indirect=True)
def test_certificate_expiring_soon(world, https_site):
    result = run_cli("audit", https_site, "--json", config=world.config)
    g4 = next(f for f in json.loads(result.stdout)["sites"][0]["findings"] if f["code"] == "G4")
    assert any("到期（还有" in e["detail"] for e in g4["evidence"])
    assert not any("过期" in e["detail"] for e in g4["evidence"])


@pytest.mark.parametrize("https_site", [(90, "www.other.gov.cn")], indirect=True)
def test_certificate_for_another_host_name_is_reported_as_such(https_site):
    tls = asyncio.run(tls_status(https_site, 5))
    assert tls["https"] and tls["name_matches"] is False and tls["cert_names"] == ["www.other.gov.cn"]
    assert tls["trusted"] is False and "self-signed" in tls["trust_error"]


@pytest.mark.parametrize("https_site", [(90, "www.other.gov.cn")], indirect=True)
def test_g4_says_the_certificate_is_for_another_name(world, https_site):
    result = run_cli("audit", https_site, "--json", config=world.config)
    g4 = next(f for f in json.loads(result.stdout)["sites"][0]["findings"] if f["code"] == "G4")
    details = [e["detail"] for e in g4["evidence"]]
    assert "证书与网站域名不符：证书签发给 www.other.gov.cn" in details
    assert any(d.startswith("证书不受信任：自签名证书") for d in details)   # the other reasons stay
    assert not any("过期" in d or "到期" in d for d in details)


@pytest.mark.parametrize("https_site", [90], indirect=True)
def test_tls_checks_share_their_contexts(https_site, monkeypatch):
    made = []
    real = ssl.create_default_context
    monkeypatch.setattr(ssl, "create_default_context", lambda *a, **k: made.append(1) or real(*a, **k))
    found = asyncio.run(tls_round([https_site, https_site + "a.html", https_site + "b.html"], 5))
    assert all(r["https"] and r["trusted"] is False and r["name_matches"] for r in found.values())
    assert len(made) <= 2   # a loose and a verifying context for the process, not two per site (each loads the CAs)


@pytest.fixture
def tls10_site(tmp_path, request):
    """A server that speaks only TLS 1.0, as old government servers still do (current browsers refuse it).
    param: days its certificate is still valid (default 90)."""
    days = getattr(request, "param", 90)
    context = self_signed(tmp_path, datetime.now(timezone.utc) + timedelta(days=days))[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    server = DemoServer(tls=context)
    server.serve(SiteFiles(pages={"/": Reply(200, "<html><head><title>测试局</title></head><body>首页</body></html>".encode())}))
    yield server.base_url
    server.close()


def test_a_site_offering_only_obsolete_tls_is_said_to(tls10_site, tmp_path):
    tls = asyncio.run(tls_status(tls10_site, 5))
    assert tls["obsolete_protocol"] and tls["https"] and tls["protocol"] == "TLSv1"
    assert tls["name_matches"] and "trusted" not in tls   # its certificate read; trust never asked
    assert asyncio.run(probe_round([tls10_site], 5, "sitecensus-test"))[0].error == "tls_obsolete"
    [home] = _crawl(tmp_path, tls10_site, {})
    assert (home["outcome"], home["error"]) == ("broken", "tls_obsolete")
    assert "已淘汰的加密协议" in failure_label("tls_obsolete", None)


@pytest.mark.parametrize("tls10_site", [-3], indirect=True)
def test_g4_reads_the_certificate_of_a_server_on_obsolete_tls(tls10_site):
    tls = asyncio.run(tls_status(tls10_site, 5))
    [g4] = https_certificate(dataclasses.replace(snapshot(tls=tls), as_of=datetime.now(timezone.utc)), CENSUS)
    details = [e.detail for e in g4.evidence]
    assert "已淘汰的加密协议" in details[0] and details[1].startswith("证书已于") and details[1].endswith("过期")
    assert len(details) == 2   # no "untrusted" line: a browser never gets as far as asking
    assert g4.evidence[0].url == tls10_site   # where the old HTTPS answers


def test_g4_says_https_is_obsolete_not_missing():
    tls = {"scheme": "http", "host": "x.gov.cn", "port": 443, "https": False, "resolves": True,
           "obsolete_protocol": True, "error": "SSLError: [SSL: TLSV1_ALERT_PROTOCOL_VERSION]"}
    [g4] = https_certificate(snapshot(tls=tls), CENSUS)
    details = [e.detail for e in g4.evidence]
    assert any("已淘汰的加密协议" in d for d in details) and "未启用 HTTPS" not in details
    [plain] = https_certificate(snapshot(tls={**tls, "obsolete_protocol": False}), CENSUS)
    assert [e.detail for e in plain.evidence] == ["未启用 HTTPS"]


def test_a_home_page_on_obsolete_tls_is_not_a_closed_site():
    home = Home(url="https://x.gov.cn/", final_url=None, status=None, outcome="broken", error="tls_obsolete", items=[])
    gone, seen = site_seen(dataclasses.replace(snapshot(), home=home))
    assert gone is None and "已淘汰的加密协议" in seen   # it still serves; only no current browser can open it
    refused = Home(url="https://x.gov.cn/", final_url=None, status=None, outcome="broken", error="connect", items=[])
    assert site_seen(dataclasses.replace(snapshot(), home=refused)) == (True, "网站已无法连接")


def test_name_matching_follows_the_certificate_rules():
    assert name_matches("www.bl.gov.cn", ["*.bl.gov.cn"]) and name_matches("WWW.bl.gov.cn.", ["www.bl.gov.cn"])
    assert not name_matches("a.www.bl.gov.cn", ["*.bl.gov.cn"]) and not name_matches("bl.gov.cn", ["*.bl.gov.cn"])
    assert not name_matches("www.bl.gov.cn", ["*.cn"]) and not name_matches("www.bl.gov.cn", ["www.other.gov.cn"])
    assert name_matches("127.0.0.1", ["127.0.0.1"]) and not name_matches("127.0.0.1", ["127.0.0.2", "*.0.0.1"])


def test_plain_http_site_has_no_https(world):
    g4 = world.findings("healthy", "G4")[0]
    assert g4["evidence"][0]["detail"] == "未启用 HTTPS"


@pytest.mark.parametrize("https_site", [300], indirect=True)
def test_j4_lists_a_certificate_still_valid_after_closure(world, https_site, tmp_path):
    import yaml
    config = world.private_copy(tmp_path)
    register = yaml.safe_load((config / "units.yaml").read_text(encoding="utf-8"))
    unit = next(u for u in register["units"] if u["name"] == "区统计局")
    unit["urls"] = [https_site]
    unit["consolidation"] = {"participates": True, "closure_month": "2020-01", "keep_portal_page": False}
    (config / "units.yaml").write_text(yaml.safe_dump(register, allow_unicode=True), encoding="utf-8")
    result = run_cli("audit", "区统计局", "--json", config=config)
    j4 = next(f for f in json.loads(result.stdout)["sites"][0]["findings"] if f["code"] == "J4")
    details = [e["detail"] for e in j4["evidence"]]
    assert any(d.startswith("证书仍有效") for d in details) and "域名仍可解析" in details
