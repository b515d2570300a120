"""`sitecensus demo`: serve the sample sites on 127.0.0.1, write a demo register for them, scan, report."""
from __future__ import annotations

import shutil
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import yaml

from sitecensus.demo.server import DemoServer, closed_port_url
from sitecensus.demo.sites import SiteSpec, build_site, demo_specs, external_site, portal_site, unregistered_site

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config"


def _month(today: date, offset: int) -> str:
    index = today.year * 12 + today.month - 1 + offset
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


UNREGISTERED_HOST = "nyxx.bl.gov.cn"   # a district site nobody registered, linked from the portal
LOOKALIKE_HOST = "beilunly.gov.cn"     # not under bl.gov.cn, but its name says 北仑


def _address(spec: SiteSpec, servers: dict) -> str:
    if spec.unresolvable:
        return f"http://{spec.key}.bl.invalid/"   # never resolved: the demo config lists no such host
    return servers[spec.key].base_url if spec.key in servers else closed_port_url()


@contextmanager
def serve_demo_sites(today: date, specs: list[SiteSpec] | None = None):
    """Yield {site key: base URL, 'portal': URL, 'external': URL} while the sites are served."""
    specs = specs if specs is not None else demo_specs()
    servers = {spec.key: DemoServer() for spec in specs if not (spec.down or spec.unresolvable)}
    extra = {"portal": DemoServer(), "external": DemoServer(), "unregistered": DemoServer()}
    dead = closed_port_url()
    portal, external = extra["portal"].base_url, extra["external"].base_url
    try:
        port = extra["unregistered"].base_url.rsplit(":", 1)[1].rstrip("/")
        unregistered = f"http://{UNREGISTERED_HOST}:{port}/"   # resolved through crawl.hosts, never DNS
        lookalike = f"http://{LOOKALIKE_HOST}:{port}/"
        extra["portal"].serve(portal_site(today, extra["external"].base_url, unregistered, lookalike))
        extra["unregistered"].serve(unregistered_site())
        extra["external"].serve(external_site())
        for spec in specs:
            if spec.key in servers:
                server = servers[spec.key]
                server.serve(build_site(spec, server.base_url, today, external, portal, dead))
        urls = {spec.key: _address(spec, servers) for spec in specs}
        yield {**urls, "portal": portal, "external": external, "dead": dead, "unregistered": unregistered,
               "lookalike": lookalike}
    finally:
        for server in [*servers.values(), *extra.values()]:
            server.close()


def write_demo_config(directory: Path, urls: dict[str, str], today: date, out_dir: Path,
                      specs: list[SiteSpec] | None = None) -> Path:
    """A complete config folder: the real 47-unit register with the demo sites' addresses filled in."""
    specs = specs if specs is not None else demo_specs()
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO_CONFIG / "criteria", directory / "criteria", dirs_exist_ok=True)
    shutil.copy(REPO_CONFIG / "dictionaries.yaml", directory / "dictionaries.yaml")
    register = yaml.safe_load((REPO_CONFIG / "units.yaml").read_text(encoding="utf-8"))
    by_unit = {spec.unit: spec for spec in specs}
    for unit in register["units"]:
        spec = by_unit.get(unit["name"])
        if spec is None:
            continue
        unit["urls"] = [urls[spec.key]]
        unit["contact_email"] = f"{spec.key}@demo.invalid"
        plan = dict(spec.plan)
        if "portal_page" in plan:
            plan["portal_page_url"] = urls["portal"] + plan.pop("portal_page")
        if "closure_month" in plan:
            plan["closure_month"] = _month(today, plan["closure_month"])
        unit["consolidation"] = {**unit["consolidation"], **plan}
    (directory / "units.yaml").write_text("# demo register (written by `sitecensus demo`)\n" +
                                          yaml.safe_dump(register, allow_unicode=True, sort_keys=False),
                                          encoding="utf-8")
    settings = yaml.safe_load((REPO_CONFIG / "settings.yaml").read_text(encoding="utf-8"))
    settings.update(store_url=f"sqlite:///{out_dir / 'sitecensus.db'}", output_dir=str(out_dir))
    settings["portal"]["url"] = urls["portal"]
    platform = urls["external"].split("/")[2]   # the stand-in serves both platforms on loopback
    settings["platforms"] = {"disclosure": [platform], "service": [platform]}
    # Loopback demo sites: politeness limits lifted, short timeouts so the hanging link costs seconds.
    settings["crawl"].update(per_host_concurrency=4, per_host_delay_seconds=0, download_timeout_seconds=3, retries=0,
                             second_try_timeout_seconds=4,
                             resolve_only_listed=True,   # every demo address is 127.0.0.1: no DNS query leaves
                             hosts={UNREGISTERED_HOST: "127.0.0.1", LOOKALIKE_HOST: "127.0.0.1"})
    settings["district_domains"] = ["bl.gov.cn"]
    settings["probes"].update(per_scan=3, spacing_seconds=1, timeout_seconds=5)
    (directory / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True, sort_keys=False),
                                             encoding="utf-8")
    return directory
