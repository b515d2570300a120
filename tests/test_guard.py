"""Every request goes only where it may (crawler/guard.py): registered sites and the public addresses
their pages link to; private, loopback and link-local addresses only where a registered site lives or
the settings allow; every name — probes and redirects included — through the same resolver rules."""
import asyncio
import json
import socket
import sqlite3
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import yaml

from conftest import REPO, run_cli, self_signed
from crawler.guard import AddressGuard, PrivateAddress, UnlistedAddress
from crawler.probe import probe_round, tls_status
from crawler.resolver import HostsMap
from sitecensus.demo import write_demo_config
from sitecensus.demo.server import DemoServer, Reply, SiteFiles

UNIT = "区交通运输局"
UA = "sitecensus-test"


def page(title: str, body: str) -> Reply:
    return Reply(200, f"<html><head><title>{title}</title></head><body>{body}</body></html>".encode())


def recording(server: DemoServer) -> list[tuple[str, str]]:
    """(method, Host header) of every request the server receives."""
    seen: list[tuple[str, str]] = []
    for method in ("do_GET", "do_HEAD"):
        answer = getattr(server.handler, method)

        def record(handler, answer=answer):
            seen.append((handler.command, handler.headers.get("Host")))
            answer(handler)
        setattr(server.handler, method, record)
    return seen


# ------------------------------------------------------------------ the guard's decisions

@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700::1", "202.96.209.133"])
def test_public_addresses_are_allowed(address):
    assert AddressGuard().allows(address, address)
    assert AddressGuard().allows("www.example.gov.cn", address)


@pytest.mark.parametrize("address", ["10.0.0.1", "172.16.3.4", "192.168.1.1", "127.0.0.1", "169.254.169.254", "::1",
                                     "fe80::1", "0.0.0.0", "224.0.0.1", "ff02::1", "100.64.0.1", "::ffff:10.0.0.1"])
def test_private_loopback_link_local_and_reserved_addresses_are_refused(address):
    with pytest.raises(PrivateAddress):
        AddressGuard().check(address, address)
    with pytest.raises(PrivateAddress):   # a public-looking name that resolves there is refused as well
        AddressGuard().check("intranet.example.gov.cn", address)


@pytest.mark.parametrize("written", ["0x0a000001", "012.0.0.1", "10.1", "167772161", "0xA9.254.169.254"])
def test_old_numeric_forms_of_an_address_are_addresses_too(written):
    """Browsers and the C resolver read these as 10.0.0.1 / 169.254.169.254: they must not pass as names."""
    from crawler.guard import ip_of
    assert ip_of(written) is not None and not ip_of(written).is_global
    with pytest.raises(PrivateAddress):
        AddressGuard().check(written, written)


def test_where_a_registered_site_lives_is_allowed():
    guard = AddressGuard(["127.0.0.1", "oa.bl.gov.cn"], {"www.bl.gov.cn": "10.1.2.3"})
    assert guard.allows("127.0.0.1", "127.0.0.1")          # a site registered as http://127.0.0.1:port/
    assert guard.allows("oa.bl.gov.cn", "10.9.9.9")        # a registered host, whatever its address
    assert guard.allows("www.bl.gov.cn", "10.1.2.3")       # a name the office mapped itself
    assert guard.allows("10.1.2.3", "10.1.2.3")            # ... makes its address allowed
    assert not guard.allows("10.1.2.4", "10.1.2.4")
    assert guard.allows("elsewhere.example", "127.0.0.1")   # a registered site lives at 127.0.0.1


def test_the_address_a_registered_name_resolves_to_is_where_a_registered_site_lives():
    guard = AddressGuard(["oa.bl.gov.cn"])
    assert not guard.allows("www.oa.bl.gov.cn", "10.1.1.1")
    guard.check("oa.bl.gov.cn", "10.1.1.1")                 # the site's home page, resolved by DNS
    assert guard.allows("www.oa.bl.gov.cn", "10.1.1.1")     # its redirect to www. lives at the same address
    assert not guard.allows("10.1.1.2", "10.1.1.2")


def test_private_networks_allowed_in_the_settings():
    guard = AddressGuard(private_networks=["10.8.0.0/16", "fd00::/8"])
    assert guard.allows("10.8.4.5", "10.8.4.5") and guard.allows("wiki.local", "fd00::5")
    assert not guard.allows("10.9.0.1", "10.9.0.1") and not guard.allows("169.254.169.254", "169.254.169.254")


def test_resolve_only_listed_refuses_an_unknown_ip_literal():
    guard = AddressGuard(["127.0.0.1"], {"a.bl.gov.cn": "127.0.0.5"}, only_listed=True)
    with pytest.raises(UnlistedAddress):
        guard.check("8.8.8.8", "8.8.8.8")
    with pytest.raises(PrivateAddress):
        guard.check("10.0.0.1", "10.0.0.1")
    assert guard.allows("127.0.0.1", "127.0.0.1") and guard.allows("127.0.0.5", "127.0.0.5")
    assert guard.allows("www.example.com", "8.8.8.8")   # a name: resolve_only_listed has its say before (DNS)


def test_private_networks_allowed_must_be_networks(tmp_path):
    from sitecensus.config import CrawlSettings
    base = yaml.safe_load(open("config/settings.yaml", encoding="utf-8"))["crawl"]
    assert CrawlSettings(**{**base, "private_networks_allowed": ["10.8.0.0/16"]}).private_networks_allowed == ["10.8.0.0/16"]
    with pytest.raises(ValueError, match="网段"):
        CrawlSettings(**{**base, "private_networks_allowed": ["10.8.0.0/33"]})


# ------------------------------------------------------------------ probes: every hop through the same rules

@pytest.fixture
def redirecting_site():
    server = DemoServer()
    port = server.base_url.rsplit(":", 1)[1].strip("/")
    server.serve(SiteFiles(pages={
        "/": page("首页", "首页"),
        "/to-listed": Reply(302, b"", headers={"Location": f"http://www.listed.gov.cn:{port}/"}),
        "/to-unlisted": Reply(302, b"", headers={"Location": f"http://www.unlisted.gov.cn:{port}/"}),
        "/to-metadata": Reply(302, b"", headers={"Location": "http://169.254.169.254/latest/meta-data/"}),
    }))
    seen = recording(server)
    yield server.base_url, port, seen
    server.close()


def test_a_probe_redirected_to_an_unlisted_name_fails_as_dns_without_a_query(redirecting_site, monkeypatch):
    base, port, seen = redirecting_site
    asked: list = []
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: asked.append(host) or real(host, *a, **k))
    hosts = HostsMap({"www.listed.gov.cn": "127.0.0.1"}, only_listed=True)
    unlisted, listed, metadata = asyncio.run(probe_round([base + "to-unlisted", base + "to-listed", base + "to-metadata"],
                                                         5, UA, hosts))
    assert (unlisted.ok, unlisted.error) == (False, "dns")
    assert (listed.ok, listed.status) == (True, 200)
    assert ("GET", f"www.listed.gov.cn:{port}") in seen          # the server saw the name, not the address
    assert metadata.error == "private_address"
    assert not asked                                             # no name went to the system resolver
    with pytest.raises(PrivateAddress):                          # the spy sees what does go there
        asyncio.run(HostsMap().connect_address("localhost"))
    assert asked == ["localhost"]


def test_a_probe_redirected_to_a_private_address_is_refused_and_counts_neither_way(redirecting_site):
    base, _, seen = redirecting_site
    result = asyncio.run(probe_round([base + "to-metadata"], 5, UA, HostsMap()))[0]
    assert (result.ok, result.error) == (False, "private_address")
    assert [hop for hop in seen if hop[1].startswith("169.254")] == []

    from scoring.availability import _window
    from types import SimpleNamespace
    snap = SimpleNamespace(as_of=result.at + timedelta(minutes=1), probes=[result])
    profile = SimpleNamespace(availability=SimpleNamespace(window_days=7))
    assert _window(snap, profile) == ([], [])


def test_a_synchronous_client_passes_the_same_guard(redirecting_site):
    import httpx
    from crawler.probe import GuardedSyncTransport
    base, port, seen = redirecting_site
    hosts = HostsMap({"www.listed.gov.cn": "127.0.0.1"}, only_listed=True).trusting([base])
    with httpx.Client(transport=GuardedSyncTransport(hosts), follow_redirects=True) as client:
        assert client.get(base + "to-listed").status_code == 200
        with pytest.raises(PrivateAddress):
            client.get(base + "to-metadata")
        with pytest.raises(socket.gaierror):
            client.get(base + "to-unlisted")
    assert ("GET", f"www.listed.gov.cn:{port}") in seen and not [h for h in seen if "169.254" in h[1]]


def test_inspect_goes_where_a_scan_would_and_says_why_not(redirecting_site):
    from sitecensus.config import load_config
    from sitecensus.inspect import inspect_page
    base, _, seen = redirecting_site
    config = load_config(REPO / "config")
    assert inspect_page(base, config)["title"] == "首页"            # the page the user names is trusted
    with pytest.raises(ValueError, match="无法打开.*内网或本机地址"):
        inspect_page(base + "to-metadata", config)
    assert not [hop for hop in seen if "169.254" in hop[1]]


def test_https_to_a_mapped_name_keeps_its_server_name_and_host(tmp_path):
    names: list = []
    context, _ = self_signed(tmp_path, datetime.now(timezone.utc) + timedelta(days=90), "www.mapped.gov.cn")
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    server = DemoServer(tls=context)
    server.serve(SiteFiles(pages={"/": page("首页", "首页")}))
    seen = recording(server)
    try:
        port = server.base_url.rsplit(":", 1)[1].strip("/")
        url = f"https://www.mapped.gov.cn:{port}/"
        hosts = HostsMap({"www.mapped.gov.cn": "127.0.0.1"}, only_listed=True)
        result = asyncio.run(probe_round([url], 5, UA, hosts))[0]
        tls = asyncio.run(tls_status(url, 5, hosts))
    finally:
        server.close()
    assert result.ok and ("GET", f"www.mapped.gov.cn:{port}") in seen
    assert names and set(names) == {"www.mapped.gov.cn"}
    assert tls["https"] and tls["name_matches"] and tls["cert_names"] == ["www.mapped.gov.cn"]


# ------------------------------------------------------------------ a real scan: hostile links never leave

@pytest.fixture(scope="module")
def scan(tmp_path_factory):
    """A site on 127.0.0.2 whose page links to private, loopback and link-local addresses, one of them by a
    name (localhost) and one through a redirect; a server on 127.0.0.1 that must never be asked."""
    base = tmp_path_factory.mktemp("guard")
    as_of = datetime.now(ZoneInfo("Asia/Shanghai")).replace(second=0, microsecond=0)
    bystander = DemoServer()   # 127.0.0.1: no registered site lives there
    bystander.serve(SiteFiles(fallback=page("内网", "内网")))
    asked = recording(bystander)
    other = bystander.base_url.rsplit(":", 1)[1].strip("/")
    servers = {key: DemoServer(host="127.0.0.2") for key in ("portal", "site")}
    portal, site = servers["portal"].base_url, servers["site"].base_url
    hostile = ["http://10.0.0.1/x", "http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/",
               f"http://127.0.0.1:{other}/", f"http://localhost:{other}/by-name"]
    links = "".join(f'<li><a href="{url}">链接{i}</a></li>' for i, url in enumerate(hostile))
    links += '<li><a href="/hop">跳转</a></li><li><a href="/fine.html">正常</a></li><li><a href="/app.html">应用</a></li>'
    # an app shell: Chromium renders it, and its script asks the bystander (PLAYWRIGHT_ABORT_REQUEST stops that)
    app = (f'<html><head><title>应用</title></head><body><div id="app"></div><script>'
           f'fetch("http://127.0.0.1:{other}/from-browser").catch(function () {{}});'
           f'document.getElementById("app").innerHTML = "<p>正文内容</p>";</script></body></html>')
    servers["portal"].serve(SiteFiles(fallback=page("北仑之窗", "北仑之窗")))
    servers["site"].serve(SiteFiles(pages={
        "/": page(UNIT, f"<h1>{UNIT}</h1><ul>{links}</ul>"),
        "/fine.html": page("通知", "正文内容"),
        "/app.html": Reply(200, app.encode()),
        "/hop": Reply(302, b"", headers={"Location": f"http://127.0.0.1:{other}/via-redirect"}),
    }))
    try:
        config = write_demo_config(base / "config", {"portal": portal, "external": portal}, as_of.date(), base / "out", [])
        settings = yaml.safe_load((config / "settings.yaml").read_text(encoding="utf-8"))
        # names go to the system resolver (localhost is answered from /etc/hosts); no mapped name lives on 127.0.0.1
        settings["crawl"].update(resolve_only_listed=False, hosts={}, retries=0)
        settings["probes"].update(per_scan=1)
        (config / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
        register = yaml.safe_load((config / "units.yaml").read_text(encoding="utf-8"))
        next(u for u in register["units"] if u["name"] == UNIT)["urls"] = [site]
        (config / "units.yaml").write_text(yaml.safe_dump(register, allow_unicode=True), encoding="utf-8")
        started = time.monotonic()
        result = run_cli("scan", "--json", "--as-of", as_of.strftime("%Y-%m-%dT%H:%M"), config=config)
        took = time.monotonic() - started
        assert result.returncode == 0, result.stderr
        entry = next(s for s in json.loads(result.stdout)["sites"] if s["unit"] == UNIT)
        with sqlite3.connect(base / "out" / "sitecensus.db") as db:
            fetches = {url: (outcome, error) for url, outcome, error in
                       db.execute("SELECT url, outcome, error FROM fetches")}
            rendered = db.execute("SELECT json_extract(facts, '$.rendered') FROM pages WHERE url = ?",
                                  (site + "app.html",)).fetchone()
        yield {"site": site, "entry": entry, "fetches": fetches, "asked": list(asked), "took": took,
               "hostile": hostile, "rendered": rendered}
    finally:
        for server in [*servers.values(), bystander]:
            server.close()


def test_links_to_private_addresses_are_stored_as_refused_never_broken(scan):
    for url in scan["hostile"]:
        assert scan["fetches"][url] == ("unverifiable", "private_address"), url
    assert scan["fetches"][scan["site"] + "hop"] == ("unverifiable", "private_address")   # the redirect's hop
    assert scan["fetches"][scan["site"] + "fine.html"][0] == "ok"


def test_nothing_was_sent_to_a_private_address(scan):
    assert scan["rendered"] == (1,)   # the browser did run the app shell's script
    assert scan["asked"] == []   # neither by address, nor by name (localhost), nor through a redirect, nor by Chromium
    assert scan["took"] < 120    # nothing hung on 10.0.0.1 or 169.254.169.254


def test_refused_links_are_no_d2_findings(scan):
    d2 = [e["url"] for f in scan["entry"]["findings"] if f["code"] == "D2" for e in f["evidence"]]
    assert not set(d2) & {*scan["hostile"], scan["site"] + "hop"}
