"""A scoring profile: every window, threshold, point value and cap the rules use (config/criteria/*.yaml).

The rules read numbers only from here, never from constants, because most of them are uncertain
(shared/criteria.md marks them [U]/[V]) and the office must be able to change them.
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Category(Strict):
    """A column category: its update window (None: no update duty) and the words that identify it."""

    keywords: list[str]
    window_days: int | None = Field(default=None, gt=0)
    stale_points: float = Field(default=0, ge=0)
    key: bool = False  # counts toward V3(a): 动态要闻 + 通知公告/政策文件


class Availability(Strict):
    window_days: int = Field(gt=0)
    min_probes_per_day: int = Field(gt=0)
    probe_timeout_seconds: float = Field(gt=0)
    veto_failure_share: float = Field(gt=0, le=1)
    min_probes_for_veto: int = Field(ge=1)
    points_per_percent: float = Field(ge=0)
    cap: float = Field(ge=0)


class HomeUpdate(Strict):
    window_days: int = Field(gt=0)
    min_new_items: int = Field(ge=0)
    points: float = Field(ge=0)
    cap: float = Field(ge=0)


class ColumnUpdate(Strict):
    top_level_only: list[str] = []   # categories judged only on top-level columns (2019: 通知公告, 政策文件)
    veto_stale_key_columns: int = Field(gt=0)
    veto_stale_should_update: int = Field(gt=0)
    veto_blank_columns: int = Field(gt=0)
    should_update_includes_key: bool = True
    blank_points: float = Field(ge=0)
    cap: float = Field(ge=0)
    placeholders: list[str]
    min_list_items: int = Field(ge=1)


class LinkAvailability(Strict):
    home_page_points: float = Field(ge=0)
    other_page_points: float = Field(ge=0)
    cap: float = Field(ge=0)


class Interaction(Strict):
    """政务咨询: V5 (unanswered > reply_days within lookback_days) and D5."""

    reply_months: int = Field(gt=0)
    lookback_days: int = Field(gt=0)
    excluded_keywords: list[str]
    veto_no_channel: bool
    missing_points: float = Field(ge=0)
    no_message_points: float = Field(ge=0)
    cap: float = Field(ge=0)


class Activities(Strict):
    """调查征集 (D6) and 互动访谈 (D7): activities held within the window."""

    window_days: int = Field(gt=0)
    min_count: int = Field(ge=1)
    none_points: float = Field(ge=0)
    few_points: float = Field(ge=0)
    cap: float = Field(ge=0)


class ServiceVeto(Strict):
    min_missing_categories: int = Field(ge=1)
    min_events: int = Field(ge=1)
    veto_no_services: bool = True


class Services(Strict):
    """办事服务: V6 (2019), D8 guides, D9 attachments, D10 online systems."""

    guide_elements: dict[str, list[str]]
    veto: ServiceVeto | None = None
    guide_points: float = Field(ge=0)
    guide_cap: float = Field(ge=0)
    attachment_points: float = Field(ge=0)
    attachment_cap: float = Field(ge=0)
    online_points: float = Field(ge=0)
    online_cap: float = Field(ge=0)
    online_keywords: list[str]


class NoServicesScaling(Strict):
    """A unit without external services: service indicators skipped, the rest out of `base`, times `factor`."""

    base: float = Field(gt=0)
    factor: float = Field(gt=0)
    indicators: list[str]


class Advisory(Strict):
    """G and S rules: advisory unless a profile gives them a severity and points."""

    severity: str = Field(default="advisory", pattern="^(veto|deduction|advisory)$")
    points: float = Field(default=0, ge=0)
    cap: float = Field(default=0, ge=0)


class ConsolidationRule(Strict):
    severity: str = Field(pattern="^(veto|deduction|advisory)$")
    points: float = Field(default=0, ge=0)


class NoticeWords(Strict):
    """The words a closure-and-migration notice is recognised by (crawler/extract/notices.py says how)."""

    closure: list[str] = Field(min_length=1)     # the site stops: 关停, 停止更新 …
    migration: list[str] = Field(min_length=1)   # its content moves: 迁移至, 整合至 …
    self_site: list[str] = Field(min_length=1)   # the page speaks of itself: 本网站, 本站 …
    site: list[str] = Field(min_length=1)        # a website in general: 网站, 域名 …
    labels: list[str] = []                       # a notice calls itself one: 公告, 提示 …
    maintenance: list[str] = []                  # temporary or feature-level, not a closure: 系统升级, 留言功能 …
    news: list[str] = []                         # a news text, never a notice: 本网讯, 记者 …
    max_page_chars: int = Field(gt=0)            # a home page shorter than this is dominated by its notice

    @field_validator("closure", "migration", "self_site", "site", "labels", "maintenance", "news")
    @classmethod
    def _words(cls, words: list[str]) -> list[str]:
        blank = [w for w in words if not str(w).strip()]
        if blank:
            raise ValueError("词表中不能有空词")
        return [w.strip() for w in words]

    @model_validator(mode="after")
    def _no_word_in_two_minds(self):
        both = sorted(set(self.closure + self.migration) & set(self.maintenance))
        if both:
            raise ValueError(f"同一个词不能既算关停/迁移又算维护：{'、'.join(both)}")
        return self


class Consolidation(Strict):
    notice: NoticeWords
    disclosure_entry_words: list[str] = ["政府信息公开", "信息公开"]   # J5: the retained page's disclosure entry
    service_entry_words: list[str] = ["互动交流", "政民互动", "办事服务", "网上办事", "在线办事", "政务服务"]  # J6
    entry_extra_chars: int = Field(default=4, ge=0)   # J5/J6: an entry's name is the word plus at most this much
    J1: ConsolidationRule
    J2: ConsolidationRule
    J3: ConsolidationRule
    J4: ConsolidationRule = ConsolidationRule(severity="advisory")
    J5: ConsolidationRule = ConsolidationRule(severity="advisory")
    J6: ConsolidationRule = ConsolidationRule(severity="advisory")
    J7: ConsolidationRule = ConsolidationRule(severity="advisory")


class Profile(Strict):
    name: str
    title: str
    total: float = Field(gt=0)
    pass_mark: float = Field(ge=0)
    floor: float = 0
    availability: Availability
    home_update: HomeUpdate
    column_update: ColumnUpdate
    links: LinkAvailability
    categories: dict[str, Category]
    interaction: Interaction
    activities: Activities
    services: Services
    no_services_scaling: NoServicesScaling | None = None
    serious_errors: bool = True                       # V4 from config/dictionaries.yaml
    guide_rules: dict[str, Advisory] = {}             # G1..G4, S1..S4 overrides
    cert_warning_days: int = Field(default=30, ge=0)  # G4: warn this long before a certificate expires
    consolidation: Consolidation

    def advisory(self, code: str) -> Advisory:
        return self.guide_rules.get(code, Advisory())

    def category_of(self, name: str) -> str:
        """First category whose keyword occurs in the column name; 'other' when none does."""
        for category, spec in self.categories.items():
            if any(word in name for word in spec.keywords):
                return category
        return "other"
