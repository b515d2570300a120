"""The store: SQLAlchemy 2 models. SQLite file by default; any SQLAlchemy URL works.

Every scan keeps its own facts (sites, fetches, pages, links, columns, probes), so that a scan can be
judged again later (`sitecensus rescore`). Each judgement (as-of + profile) keeps its own results
and findings.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import (JSON, Boolean, DateTime, TypeDecorator, Float, ForeignKey, Index, Integer, String, Text, create_engine,
                        event, inspect, or_, select, text)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware (UTC) datetimes out, on every backend (SQLite keeps no offset)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to the store")
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        return value.replace(tzinfo=timezone.utc) if value is not None else None


class Base(DeclarativeBase):
    pass


# A header a server sends as it likes: SQLite never enforced VARCHAR lengths, PostgreSQL would refuse the row.
ServerText = String(100).with_variant(Text(), "postgresql")


class bytewise(FunctionElement):
    """Text ordered by its code points, as SQLite orders it, on every backend (PostgreSQL would otherwise
    order by the database's locale: a zh_CN database sorts Chinese by pinyin)."""

    inherit_cache = True


@compiles(bytewise)
def _bytewise(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(bytewise, "postgresql")
def _bytewise_postgresql(element, compiler, **kw):
    return f'{compiler.process(element.clauses, **kw)} COLLATE "C"'


class Scan(Base):
    __tablename__ = "scans"
    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    as_of: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), default="running")  # running | done | interrupted | failed
    config_dir: Mapped[str] = mapped_column(Text, default="")
    pid: Mapped[int | None] = mapped_column(Integer)   # the process doing it: a dead pid means interrupted
    kind: Mapped[str | None] = mapped_column(String(10), default="scan")   # scan | audit (one site, on demand)
    sites: Mapped[list[Site]] = relationship(back_populates="scan", cascade="all, delete-orphan",
                                             order_by="Site.id")   # judged and reported in register order


class Site(Base):
    """One unit's site in one scan (or a unit without a registered site: url None)."""

    __tablename__ = "sites"
    id: Mapped[int] = mapped_column(primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"), index=True)
    unit: Mapped[str] = mapped_column(String(200))
    unit_kind: Mapped[str] = mapped_column(String(10))
    url: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(12), default="site")   # site | portal_page (retained on the portal)
    plan: Mapped[dict] = mapped_column(JSON, default=dict)     # the consolidation form at scan time
    pinned: Mapped[list] = mapped_column(JSON, default=list)   # pinned columns from units.yaml
    flags: Mapped[dict] = mapped_column(JSON, default=dict)    # unit flags (no_external_services, silence)
    tls: Mapped[dict | None] = mapped_column(JSON)             # HTTPS facts (crawler.probe.tls_status)
    crawl: Mapped[dict | None] = mapped_column(JSON)           # what the site's budgets left undone (SiteSpider.budget_report)
    state: Mapped[str] = mapped_column(String(20), default="pending")  # pending | crawled | unregistered | failed
    error: Mapped[str | None] = mapped_column(Text)
    # The worker crawling it now (sitecensus/worker.py): a worker writes a site's rows only while it is named here,
    # checked in the same transaction, so one taken for lost cannot store what its successor resumes.
    worker: Mapped[str | None] = mapped_column(String(100))
    scan: Mapped[Scan] = relationship(back_populates="sites")


class Fetch(Base):
    """The result of requesting one URL in a scan: a crawled page or a checked link target."""

    __tablename__ = "fetches"
    id: Mapped[int] = mapped_column(primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)   # the ledger: what a scan re-checked
    url: Mapped[str] = mapped_column(Text)
    method: Mapped[str] = mapped_column(String(8))
    status: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(String(40))
    final_url: Mapped[str | None] = mapped_column(Text)
    redirects: Mapped[list] = mapped_column(JSON, default=list)
    content_type: Mapped[str | None] = mapped_column(ServerText)
    bytes: Mapped[int] = mapped_column(Integer, default=0)
    elapsed_ms: Mapped[int | None] = mapped_column(Integer)
    fetched_at: Mapped[str | None] = mapped_column(String(32))
    tries: Mapped[list | None] = mapped_column(JSON)   # [{error|status, timeout_s}] when tried again after the crawl
    __table_args__ = (Index("ix_fetches_scan_url", "scan_id", "url"),)


class Page(Base):
    __tablename__ = "pages"
    # judging finds a link's source page by URL: without it, each link scanned all of its site's pages
    # (47 x 5,000 pages: minutes per site)
    __table_args__ = (Index("ix_pages_site_url", "site_id", "url"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[int | None] = mapped_column(Integer)
    fetched_at: Mapped[str | None] = mapped_column(String(32))
    bytes: Mapped[int] = mapped_column(Integer, default=0)
    content_type: Mapped[str | None] = mapped_column(ServerText)
    title: Mapped[str] = mapped_column(Text, default="")
    depth: Mapped[int] = mapped_column(Integer, default=0)
    referrer: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(10))
    is_home: Mapped[bool] = mapped_column(Boolean, default=False)
    facts: Mapped[dict] = mapped_column(JSON, default=dict)


class Link(Base):
    __tablename__ = "links"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    source: Mapped[str] = mapped_column(Text)
    target: Mapped[str] = mapped_column(Text)
    tag: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(12))
    text: Mapped[str] = mapped_column(Text, default="")


class Column(Base):
    __tablename__ = "columns"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON)   # crawler.extract.columns.Column.to_dict()


class Probe(Base):
    """A home-page availability probe. Kept per site URL so later probes (the scheduler) join them."""

    __tablename__ = "probes"
    id: Mapped[int] = mapped_column(primary_key=True)
    scan_id: Mapped[int | None] = mapped_column(ForeignKey("scans.id"), index=True)
    url: Mapped[str] = mapped_column(Text, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    ok: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(40))
    elapsed_ms: Mapped[int | None] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(Integer, default=0)


class ServiceState(Base):
    """The `sitecensus serve` process, for `sitecensus status` (one row)."""

    __tablename__ = "service_state"
    id: Mapped[int] = mapped_column(primary_key=True)
    pid: Mapped[int] = mapped_column(Integer)
    host: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime())
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Problem(Base):
    """One problem of one unit's site across scans (the ledger), tied by the finding's fingerprint."""

    __tablename__ = "problems"
    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(16), unique=True)
    unit: Mapped[str] = mapped_column(String(200), index=True)
    site_url: Mapped[str] = mapped_column(Text)
    code: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(12))
    pages: Mapped[list] = mapped_column(JSON, default=list)     # the pages it was seen on (re-checked = maybe fixed)
    status: Mapped[str] = mapped_column(String(8))               # 新发现 | 未整改 | 已整改 | 复发 | 未复查
    first_seen_scan: Mapped[int] = mapped_column(Integer)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_scan: Mapped[int] = mapped_column(Integer)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime())  # when a scan or re-check last looked at it
    fixed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deadline: Mapped[str | None] = mapped_column(String(10))    # YYYY-MM-DD: N working days after the sheet
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    ignored_reason: Mapped[str | None] = mapped_column(Text)    # `sitecensus ignore`: a verified false positive
    ignored_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ProblemEvent(Base):
    """A problem's status as one scan (or re-check) left it: the unit page's history."""

    __tablename__ = "problem_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id"), index=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(Text, default="")


class Delivery(Base):
    """A problem sheet sent (or written as .eml in a dry run) to a unit."""

    __tablename__ = "deliveries"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit: Mapped[str] = mapped_column(String(200), index=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"))
    digest: Mapped[str] = mapped_column(String(64))     # of the sheet sent: the same sheet is not sent twice
    recipients: Mapped[list] = mapped_column(JSON)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    message_id: Mapped[str] = mapped_column(Text)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    path: Mapped[str | None] = mapped_column(Text)      # the .eml of a dry run


class Judgement(Base):
    """One scoring of one scan: a check time and a profile."""

    __tablename__ = "judgements"
    id: Mapped[int] = mapped_column(primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"), index=True)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime())
    profile: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    what_if: Mapped[bool | None] = mapped_column(Boolean)   # `sitecensus rescore`: never the office's picture


class Result(Base):
    __tablename__ = "results"
    id: Mapped[int] = mapped_column(primary_key=True)
    judgement_id: Mapped[int] = mapped_column(ForeignKey("judgements.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    verdict: Mapped[str] = mapped_column(String(10))
    vetoed: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[float | None] = mapped_column(Float)
    data: Mapped[dict] = mapped_column(JSON)   # the site's whole result document (stats, findings, indicators)


SCHEMA_LOCK = 0x5C1E_C0DE   # the PostgreSQL advisory lock held while the schema is made or upgraded


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def open_store(url: str) -> sessionmaker[Session]:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine: Engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    with engine.begin() as connection:
        # Processes opening a new PostgreSQL store at once (workers): one makes the schema, the others wait
        # for its transaction and find it made (their create_all raced into duplicate tables without this).
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
        Base.metadata.create_all(connection)
        _upgrade(connection)
    return sessionmaker(engine, expire_on_commit=False)


def _upgrade(connection: Connection) -> None:
    """A store made by an earlier version gets the nullable columns and the indexes added since
    (create_all makes only missing tables)."""
    existing = inspect(connection)
    for table in Base.metadata.sorted_tables:
        present = {c["name"] for c in existing.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present and column.nullable:
                kind = column.type.compile(dialect=connection.dialect)
                connection.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))
        for index in table.indexes:
            index.create(connection, checkfirst=True)


def latest_scan_id(session: Session, before: int | None = None) -> int | None:
    """The latest finished full scan (an on-demand audit of one site is not the office's picture), or the latest
    one before scan `before`."""
    earlier = [Scan.id < before] if before is not None else []
    return session.scalar(select(Scan.id).where(Scan.status == "done", or_(Scan.kind.is_(None), Scan.kind == "scan"),
                                                *earlier).order_by(Scan.id.desc()).limit(1))


def latest_judgement(session: Session, scan_id: int) -> Judgement | None:
    """The scan's office judgement: the latest one that is not a what-if (`rescore`)."""
    return session.scalar(select(Judgement).where(Judgement.scan_id == scan_id, or_(Judgement.what_if.is_(None),
                                                                                    Judgement.what_if.is_(False)))
                          .order_by(Judgement.id.desc()).limit(1))
