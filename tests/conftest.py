"""Shared fixtures: the demo sites plus test-only sites served on 127.0.0.1, and one real scan of
them through the `sitecensus` command (a subprocess, as a user runs it)."""
from __future__ import annotations

import ipaddress
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import select

from sitecensus.demo import serve_demo_sites, write_demo_config
from sitecensus.demo.sites import ColumnSpec, SiteSpec, demo_specs
from sitecensus.store import Fetch, Page, Site, open_store
from tests.pg import BACKENDS, backend_url, start_server
from tests.redis_server import redis_server, redis_url  # noqa: F401 - fixtures for the Redis tests

REPO = Path(__file__).resolve().parents[1]


def _lean(write_config):
    """Configs the tests write for themselves skip the sheet PDFs and evidence screenshots (seconds of Chromium
    per scan that those tests do not read) and crawl on one worker; the shared `world` scan and the tests of
    those deliverables keep them (they use the original writer, bound above)."""
    def write(*args, **kwargs) -> Path:
        config = write_config(*args, **kwargs)
        path = config / "settings.yaml"
        settings = yaml.safe_load(path.read_text(encoding="utf-8"))
        sheets = settings.setdefault("sheets", {})
        sheets["pdf"] = False
        sheets.setdefault("screenshots", {})["enabled"] = False
        # one worker process per scan (each imports Scrapy: seconds of CPU per scan, over a hundred scans);
        # tests/test_workers.py and the shared `world` scan run several
        settings.setdefault("queue", {})["workers"] = 1
        path.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
        return config
    return write


import sitecensus.demo as _demo  # noqa: E402 - test modules import write_demo_config after this conftest
_demo.write_demo_config = _lean(write_demo_config)


def _fresh(start, step, n):
    return [start + step * i for i in range(n)]


def test_specs() -> list[SiteSpec]:
    """The demo sites and a few more that only the tests need."""
    fresh_columns = [ColumnSpec("工作动态", "xwdt/gzdt", _fresh(0, 1, 12)), ColumnSpec("通知公告", "tzgg", _fresh(1, 5, 8))]
    return demo_specs() + [
        SiteSpec("down", "区财政局", "宁波市北仑区财政局", [], down=True),
        SiteSpec("blocked", "区住房和城乡建设局", "宁波市北仑区住房和城乡建设局", [], blocked=True),
        SiteSpec("navfresh", "区交通运输局", "宁波市北仑区交通运输局", fresh_columns, nav_only=True),
        SiteSpec("nasty", "区卫生和计划生育局", '卫生局<script>alert("x")</script>',
                 [ColumnSpec('动态<script>alert("x")</script>', "xwdt", _fresh(0, 1, 12))], nasty=True),
    ]


def loopback_config(directory: Path, portal_url: str, today, crawl: dict | None = None,
                    probes: dict | None = None) -> Path:
    """The demo config for sites a test serves itself: the portal (and platform stand-in) at `portal_url`,
    the store and reports under `directory`, `crawl` and `probes` settings on top (one probe by default)."""
    config = _demo.write_demo_config(directory / "config", {"portal": portal_url, "external": portal_url}, today,
                                     directory / "out", [])   # the lean writer (see _lean)
    settings = yaml.safe_load((config / "settings.yaml").read_text(encoding="utf-8"))
    settings["crawl"].update(crawl or {})
    settings["probes"].update({"per_scan": 1, **(probes or {})})
    (config / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    return config


def self_signed(directory: Path, not_after: datetime, common_name: str = "127.0.0.1",
                ip_san: str | None = None) -> tuple[ssl.SSLContext, Path]:
    """A self-signed certificate (its own CA) and a server context using it, for TLS on 127.0.0.1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(not_after - timedelta(days=400))
               .not_valid_after(not_after))
    if ip_san:
        builder = (builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip_san))]), False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), True))
    cert = builder.sign(key, hashes.SHA256())
    cert_file, key_file = directory / f"{common_name}-{not_after:%Y%m%d}.pem", directory / f"{common_name}-{not_after:%Y%m%d}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context, cert_file


def scan_logs(base: Path) -> str:
    """The text of the scan's logs under base/out/logs: the scan's own and its workers'."""
    return "".join(log.read_text(encoding="utf-8", errors="replace") for log in (base / "out" / "logs").glob("scan-*.log"))


def run_cli(*args: str, config: Path | None = None, check: bool = False, timeout: int = 180):
    env = dict(os.environ)
    if config:
        env["SITECENSUS_CONFIG"] = str(config)
    result = subprocess.run([sys.executable, "-m", "sitecensus", *args], capture_output=True, text=True,
                            stdin=subprocess.DEVNULL,
                            env=env, timeout=timeout, cwd=config.parent if config else None)
    if check and result.returncode != 0:
        raise AssertionError(f"sitecensus {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result


class World:
    def __init__(self, urls: dict, config: Path, out: Path, as_of: datetime):
        self.urls, self.config, self.out, self.as_of = urls, config, out, as_of
        self.document: dict = {}

    def site(self, key: str) -> dict:
        url = self.urls[key]
        return next(s for s in self.document["sites"] if s["url"] == url)

    def codes(self, key: str) -> list[str]:
        return [f["code"] for f in self.site(key)["findings"]]

    def findings(self, key: str, code: str) -> list[dict]:
        return [f for f in self.site(key)["findings"] if f["code"] == code]

    def private_copy(self, directory: Path, pictures: bool = False) -> Path:
        """A copy of the config and the store, for tests that would change what later tests read; without the
        sheet PDFs and evidence screenshots (Chromium for every sheet and finding again, in a new output folder)
        unless the test is about them (`pictures`)."""
        config = directory / "config"
        shutil.copytree(self.config, config)
        settings = yaml.safe_load((config / "settings.yaml").read_text(encoding="utf-8"))
        shutil.copy(settings["store_url"].removeprefix("sqlite:///"), directory / "copy.db")
        settings.update(store_url=f"sqlite:///{directory / 'copy.db'}", output_dir=str(directory / "out"))
        if not pictures:
            settings["sheets"]["pdf"] = False
            settings["sheets"]["screenshots"]["enabled"] = False
        (config / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
        return config

    def sessions(self):
        settings = yaml.safe_load((self.config / "settings.yaml").read_text(encoding="utf-8"))
        return open_store(settings["store_url"])

    def fetch(self, key: str, path: str) -> Fetch | None:
        url = self.urls[key].rstrip("/") + path
        with self.sessions()() as session:
            return session.scalar(select(Fetch).where(Fetch.url == url).order_by(Fetch.id.desc()).limit(1))

    def pages(self, key: str) -> list[Page]:
        with self.sessions()() as session:
            site_ids = session.scalars(select(Site.id).where(Site.url == self.urls[key])).all()
            return session.scalars(select(Page).where(Page.site_id.in_(site_ids))).all()


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    """All test sites served and scanned once (`sitecensus scan --json`)."""
    base = tmp_path_factory.mktemp("world")
    as_of = datetime.now(ZoneInfo("Asia/Shanghai")).replace(second=0, microsecond=0)
    specs = test_specs()
    with serve_demo_sites(as_of.date(), specs) as urls:
        config = write_demo_config(base / "config", urls, as_of.date(), base / "out", specs)
        settings = yaml.safe_load((config / "settings.yaml").read_text(encoding="utf-8"))
        settings["crawl"]["max_response_bytes"] = 2_000_000
        (config / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
        words = yaml.safe_load((config / "dictionaries.yaml").read_text(encoding="utf-8"))
        words["banned_hosts"] = [urls["dead"].split("/")[2]]   # a lapsed domain only the "broken" site links to
        (config / "dictionaries.yaml").write_text(yaml.safe_dump(words, allow_unicode=True), encoding="utf-8")
        register = yaml.safe_load((config / "units.yaml").read_text(encoding="utf-8"))
        nasty = next(u for u in register["units"] if u["name"] == "区卫生和计划生育局")
        nasty["columns"] = [{"url": urls["nasty"] + "odd/index.html", "category": "通知公告", "name": "异常页面栏目"}]
        (config / "units.yaml").write_text(yaml.safe_dump(register, allow_unicode=True), encoding="utf-8")
        w = World(urls, config, base / "out", as_of)
        result = run_cli("scan", "--json", "--as-of", as_of.strftime("%Y-%m-%dT%H:%M"), config=config)
        assert result.returncode == 0, result.stderr
        w.document = json.loads(result.stdout)
        w.stderr = result.stderr
        yield w


def _uses_world(item) -> bool:
    """Does the test (or a fixture it uses) need the session's `world` scan?"""
    definitions = getattr(item, "_fixtureinfo", None)
    found = definitions.name2fixturedefs.get("world") if definitions else None
    return bool(found) and found[-1].scope == "session"


# The suite runs on two processes (pytest-xdist, `--dist loadscope` in pyproject.toml), in work units: every
# test of the shared `world` scan in one (one scan, its sites served by that process), the other tests of a
# module in one (module fixtures; tests that read an earlier test's scans). xdist's scheduler sees only test
# ids, so the workers, which collect, write each test's unit to a file the scheduler reads (its own
# `loadgroup` marks do not reach it on pytest 9.2: pytest-xdist issue 1386).
UNITS_KEY = "sitecensus_work_units"


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """The controller: where the workers write the work units."""
    if not hasattr(node.config, "_sitecensus_units"):
        node.config._sitecensus_units = Path(tempfile.mkdtemp(prefix="sitecensus-xdist-")) / "units.json"
    node.workerinput[UNITS_KEY] = str(node.config._sitecensus_units)


def pytest_collection_modifyitems(config, items):
    worker = getattr(config, "workerinput", None)
    if not worker or UNITS_KEY not in worker:
        return
    units = {item.nodeid: "world" if _uses_world(item) else item.nodeid.split("::")[0] for item in items}
    target = Path(worker[UNITS_KEY])
    mine = target.with_name(f"units-{worker['workerid']}.json")
    mine.write_text(json.dumps(units), encoding="utf-8")
    os.replace(mine, target)   # whole: every worker collected the same tests


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class WorkUnits(LoadScopeScheduling):
        units: dict | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.units is None:   # first asked once every worker has collected
                self.units = json.loads(Path(config._sitecensus_units).read_text(encoding="utf-8"))
            return self.units.get(nodeid) or nodeid.split("::")[0]

    return WorkUnits(config, log)


def pytest_unconfigure(config):
    units = getattr(config, "_sitecensus_units", None)
    if units:
        shutil.rmtree(Path(units).parent, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres():
    """The session's PostgreSQL server (tests/pg.py), started on first use."""
    server = start_server()
    yield server
    server.stop()


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path):
    """An empty store on each backend: a SQLite file, then a new PostgreSQL database."""
    return backend_url(request, request.param, tmp_path / "store.db")
