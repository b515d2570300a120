"""Deterministic sample sites for `sitecensus demo` and the tests: TRS/Hanweb-style Chinese
department sites, each showing one kind of problem. Dates are relative to the check date."""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from html import escape

from sitecensus.demo.server import Reply, SiteFiles

TOPICS = ["全区教育系统安全生产工作会议召开", "关于开展2026年度政府信息公开工作检查的通知", "区领导调研基层民生实事项目推进情况",
          "关于公布区级部门权责清单调整情况的公告", "北仑区召开优化营商环境工作推进会", "关于做好冬季安全生产工作的通知",
          "我区举办“最多跑一次”改革业务培训班", "关于征集民生实事项目建议的公告", "新碶街道开展防汛应急演练",
          "关于印发《北仑区数字化改革实施方案》的通知", "大碶街道举行新时代文明实践活动", "区政府常务会议研究部署重点工作",
          "关于2026年区级财政预算执行情况的报告", "梅山街道推进美丽乡村建设", "关于开展“双随机、一公开”抽查的公示",
          "全区信访工作联席会议召开", "关于调整部分行政许可事项办理流程的通知", "春晓街道举办企业服务对接会"]
GUIDE = (("事项名称", "{title}"), ("设定依据", "《中华人民共和国行政许可法》"), ("申请条件", "符合相关规定的申请人"),
         ("办理材料", "申请表、身份证明材料"), ("办理地点", "北仑区行政服务中心二楼"), ("办理机构", "{unit}"),
         ("收费标准", "不收费"), ("办理时间", "工作日 9:00-17:00"), ("联系电话", "0574-86780000"),
         ("办理流程", "申请—受理—审查—决定—送达"))
FILLER = ("为深入贯彻落实上级决策部署，进一步提升政务服务水平，根据有关工作安排，现就相关事项通知如下。"
          "各单位要高度重视，加强组织领导，明确责任分工，确保各项工作落到实处。新碶、霞浦、戚家山等街道要结合实际，"
          "认真做好宣传引导和问题整改工作，及时报送工作进展情况。")


@dataclass
class ColumnSpec:
    name: str
    path: str                          # e.g. "xwdt/gzdt"
    ages: list[int] = field(default_factory=list)   # item ages in days before the check date
    placeholder: bool = False          # blank column showing 暂无信息
    pending: tuple[int, ...] = ()      # message columns: ages of the messages still unanswered
    guide_missing: int = -1            # service guides: -1 not a guide column, else elements left out


@dataclass
class SiteSpec:
    key: str
    unit: str
    site_name: str
    columns: list[ColumnSpec]
    encoding: str = "utf-8"
    nav_only: bool = False
    notice: bool = False
    redirect_to_portal: bool = False
    broken_links: bool = False
    site_code: str = "3302060001"
    notice_links_portal: bool = True
    plan: dict = field(default_factory=dict)   # consolidation form; closure_month as a month offset
    down: bool = False                         # nothing listens at its address
    unresolvable: bool = False                 # its domain was deregistered (a name under .invalid)
    blocked: bool = False                      # a firewall answers 403 to every request
    nasty: bool = False                        # redirect loop, oversized page, broken HTML, <script> in titles
    bad_content: bool = False                  # wrong wording, personal data, 暗链, dead attachments and systems
    footer_gaps: bool = False                  # no ICP number, SiteIDCode meta unlike the footer
    scripted: bool = False                     # built by script: an app-shell home page, lists filled by XHR
    cms: str | None = None                     # lists in a CMS family's script shape: hanweb | trs | json | docwrite


def _fresh(start: int, step: int, n: int) -> list[int]:
    return [start + step * i for i in range(n)]


def demo_specs() -> list[SiteSpec]:
    standard = lambda a, b, c, d: [  # noqa: E731 - a table of four staleness knobs
        ColumnSpec("工作动态", "xwdt/gzdt", _fresh(a, 2, 12)), ColumnSpec("部门动态", "xwdt/bmdt", _fresh(a + 1, 3, 11)),
        ColumnSpec("通知公告", "tzgg", _fresh(b, 15, 12)), ColumnSpec("政策文件", "zwgk/zcwj", _fresh(c, 30, 8)),
        ColumnSpec("人事信息", "zwgk/rsxx", _fresh(d, 60, 5)),
        ColumnSpec("办事指南", "bsfw/bszn", _fresh(d, 40, 5), guide_missing=0),
        ColumnSpec("领导信箱", "hdjl/ldxx", _fresh(a + 3, 20, 8)), ColumnSpec("网上调查", "hdjl/wsdc", _fresh(a + 9, 45, 7)),
        ColumnSpec("在线访谈", "hdjl/zxft", _fresh(a + 12, 40, 8))]
    return [
        SiteSpec("healthy", "区教育局", "宁波市北仑区教育局", standard(0, 3, 10, 30), site_code="3302060011",
                 plan={"participates": False, "reason": "承担教育招生等特殊业务，申请保留网站"}),
        SiteSpec("gbk", "区民政局", "宁波市北仑区民政局", standard(1, 5, 20, 40), encoding="gbk", site_code="3302060012",
                 plan=closing(4)),
        SiteSpec("stale", "区水利局", "宁波市北仑区水利局",
                 standard(40, 200, 260, 400) + [ColumnSpec("图片新闻", "xwdt/tpxw", _fresh(30, 9, 6)),
                                                ColumnSpec("公示公告", "gsgg", _fresh(220, 20, 6))],
                 site_code="3302060013"),
        SiteSpec("blank", "区统计局", "宁波市北仑区统计局",
                 [ColumnSpec("工作动态", "xwdt/gzdt", _fresh(0, 1, 12)), ColumnSpec("通知公告", "tzgg", _fresh(2, 7, 8)),
                  ColumnSpec("统计数据", "tjsj"), ColumnSpec("统计分析", "tjfx", placeholder=True),
                  ColumnSpec("财政资金", "czzj"), ColumnSpec("政策解读", "zcjd", placeholder=True),
                  ColumnSpec("规划计划", "ghjh", placeholder=True)], site_code="3302060014"),
        SiteSpec("broken", "区商务局", "宁波市北仑区商务局", standard(0, 4, 12, 50), broken_links=True,
                 site_code="3302060015"),
        SiteSpec("navonly", "区审计局", "宁波市北仑区审计局", standard(20, 190, 200, 380), nav_only=True,
                 site_code="3302060016"),
        SiteSpec("notice", "区农林局", "宁波市北仑区农林局", standard(0, 5, 15, 40), notice=True, site_code="3302060017",
                 plan={**closing(1), "keep_portal_page": True, "portal_page": "bm/nlj/"}),
        SiteSpec("nolink", "区环保局", "宁波市北仑区环境保护局", standard(0, 4, 14, 35), notice=True,
                 notice_links_portal=False, site_code="3302060021",
                 plan={**closing(1), "keep_portal_page": True, "portal_page": "bm/hbj/"}),
        SiteSpec("nonotice", "区司法局", "宁波市北仑区司法局", standard(1, 6, 18, 45), site_code="3302060018",
                 plan=closing(1)),
        SiteSpec("overdue", "区招商局", "宁波市北仑区招商局", standard(2, 8, 25, 60), site_code="3302060019",
                 plan=closing(-3)),
        SiteSpec("bad", "区人力资源和社会保障局", "宁波市北仑区人力资源和社会保障局", [
            ColumnSpec("工作动态", "xwdt/gzdt", [-10] + _fresh(0, 2, 11)),
            ColumnSpec("通知公告", "tzgg", _fresh(1, 10, 8)),
            ColumnSpec("领导信箱", "hdjl/ldxx", [5, 40, 120, 200], pending=(120,)),
            ColumnSpec("网上调查", "hdjl/wsdc", [30, 200]),
            ColumnSpec("办事指南", "bsfw/bszn", _fresh(3, 20, 6), guide_missing=5)],
            bad_content=True, footer_gaps=True, site_code="3302060022"),
        SiteSpec("gone", "区机关事务管理局", "宁波市北仑区机关事务管理局", [], unresolvable=True, plan=closing(-6)),
        SiteSpec("closed", "区科技局", "宁波市北仑区科技局", [], redirect_to_portal=True, site_code="3302060020",
                 plan=closing(-2)),
        SiteSpec("spa", "区市场监督管理局", "宁波市北仑区市场监督管理局",
                 [ColumnSpec("工作动态", "xwdt", _fresh(0, 2, 9)), ColumnSpec("通知公告", "tzgg", _fresh(4, 12, 6)),
                  ColumnSpec("政策文件", "zcwj", _fresh(200, 30, 4))], scripted=True, site_code="3302060023"),
        SiteSpec("hanweb", "新碶街道", "宁波市北仑区新碶街道办事处", hanweb_columns(), cms="hanweb", broken_links=True,
                 site_code="3302060031"),
        SiteSpec("trs", "区投资合作局", "宁波市北仑区投资合作局", trs_columns(), cms="trs", broken_links=True,
                 site_code="3302060032"),
    ]


def hanweb_columns() -> list[ColumnSpec]:
    """A 大汉 site: records beyond the 45 embedded ones come from dataproxy.jsp (POST; 政策文件 by GET)."""
    return [ColumnSpec("工作动态", "col/col1229", _fresh(0, 1, 50)), ColumnSpec("通知公告", "col/col1230", _fresh(2, 6, 12)),
            ColumnSpec("政策文件", "col/col1231", _fresh(200, 20, 48)), ColumnSpec("统计数据", "col/col1232")]


def trs_columns() -> list[ColumnSpec]:
    """A TRS site: pages 2 and 3 of each list exist only through createPageHTML."""
    return [ColumnSpec("工作动态", "xwdt/gzdt", _fresh(0, 1, 28)), ColumnSpec("通知公告", "tzgg", _fresh(200, 9, 25)),
            ColumnSpec("政策文件", "zwgk/zcwj", _fresh(3, 11, 24)), ColumnSpec("专题专栏", "ztzl")]


def closing(month_offset: int) -> dict:
    return {"participates": True, "closure_month": month_offset, "keep_portal_page": False}


class _Writer:
    """Writes one site's pages into a SiteFiles map."""

    def __init__(self, spec: SiteSpec, base: str, today: date, external: str, portal: str, dead: str):
        self.spec, self.base, self.today, self.external, self.portal, self.dead = spec, base, today, external, portal, dead
        self.rng = random.Random(spec.key)
        self.files = SiteFiles()
        self.ctype = f"text/html; charset={'utf-8' if spec.encoding == 'utf-8' else 'gbk'}"
        self.next_id = 1000

    def put(self, path: str, html: str, status: int = 200) -> None:
        body = html.encode(self.spec.encoding, errors="xmlcharrefreplace")
        # GBK sites declare gb2312 in <meta> only, as many real ones do; the HTTP header names no charset.
        ctype = "text/html" if self.spec.encoding != "utf-8" else self.ctype
        self.files.pages[path] = Reply(status, body, ctype)

    def head(self, title: str, column: str | None = None) -> str:
        charset = "gb2312" if self.spec.encoding != "utf-8" else "utf-8"
        meta = f'<meta name="ColumnName" content="{escape(column)}">' if column else ""
        return (f'<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
                f'<title>{escape(title)}</title><meta name="SiteName" content="{escape(self.spec.site_name)}">'
                f'<meta name="SiteIDCode" content="{"9999999999" if self.spec.footer_gaps else self.spec.site_code}">{meta}'
                f'<link rel="stylesheet" href="/css/style.css"></head><body>'
                f'<div class="header"><img src="/images/logo.png" alt="{escape(self.spec.site_name)}">'
                f'<h1>{escape(self.spec.site_name)}</h1></div>')

    def nav(self) -> str:
        links = "".join(f'<li><a href="/{c.path}/">{escape(c.name)}</a></li>' for c in self.spec.columns)
        return f'<div class="nav"><ul><li><a href="/">首页</a></li>{links}</ul></div>'

    def footer(self) -> str:
        return (f'<div class="footer"><p>主办单位：{escape(self.spec.site_name)}　地址：宁波市北仑区新碶街道明州路 联系电话：0574-86780223</p>'
                f'<p>网站标识码：{self.spec.site_code}　' +
                ("" if self.spec.footer_gaps else f'<a href="{self.external}beian.miit.gov.cn/">浙ICP备05012345号-1</a>　') +
                f'<a href="{self.external}www.beian.gov.cn/">浙公网安备 33020602000101号</a>　'
                f'<a href="{self.external}bszs.conac.cn/"><img src="/images/dzjg.png" alt="党政机关"></a></p></div></body></html>')

    def item_path(self, column: ColumnSpec, day: date) -> str:
        self.next_id += 1
        return f"/{column.path}/{day:%Y%m}/t{day:%Y%m%d}_{self.next_id}.html"

    def build(self) -> SiteFiles:
        spec = self.spec
        if spec.redirect_to_portal:
            self.files.fallback = Reply(301, b"", headers={"Location": self.portal})
            return self.files
        if spec.blocked:
            self.files.fallback = Reply(403, "<html><body>Access Denied 访问被拒绝</body></html>".encode())
            return self.files
        self.put("/css/style.css", "body{font-size:14px}")
        self.files.pages["/css/style.css"].content_type = "text/css"
        for image in ("/images/logo.png", "/images/dzjg.png", "/images/banner.png"):
            self.files.pages[image] = Reply(200, b"\x89PNG\r\n\x1a\n" + bytes(64), "image/png")
        blocks = []
        for column in spec.columns:
            items = self.column(column)
            blocks.append((column, items[:6]))
        self.home(blocks)
        if spec.broken_links:
            self.broken()
        if spec.nasty:
            self.nasty()
        if spec.bad_content:
            self.bad_content()
        return self.files

    def items_of(self, column: ColumnSpec) -> list[tuple[str, str, date]]:
        """The column's articles, one per age in days, each written as its own page: (title, path, day)."""
        items = []
        for age in column.ages:
            day = self.today - timedelta(days=age)
            title = self.rng.choice(TOPICS)
            path = self.item_path(column, day)
            items.append((title, path, day))
            self.article(column, title, path, day)
        return items

    def column(self, column: ColumnSpec) -> list[tuple[str, str, date]]:
        items = []
        for number, age in enumerate(column.ages):
            day = self.today - timedelta(days=age)
            title = self.rng.choice(TOPICS) if column.guide_missing < 0 else f"第{number + 1}项行政许可事项办事指南"
            path = self.item_path(column, day)
            items.append((title, path, day))
            self.article(column, title, path, day)
        pages = [items[i:i + 10] for i in range(0, len(items), 10)] or [[]]
        for number, chunk in enumerate(pages):
            lis = "".join(f'<li><a href="{p}" title="{escape(t)}">{escape(t)}</a><span>{d:%Y-%m-%d}</span>'
                          f'{self.reply_state(column, d)}</li>' for t, p, d in chunk)
            body = f'<ul class="list">{lis}</ul>'
            if not chunk:
                body = '<ul class="list"></ul>' + ('<p class="nodata">暂无信息</p>' if column.placeholder else "")
            pager = ""
            if len(pages) > 1:
                pager = '<div class="page">' + "".join(
                    f'<a href="{"index.html" if k == 0 else f"index_{k}.html"}">{k + 1}</a>' for k in range(len(pages))) + \
                    ("" if number == len(pages) - 1 else f'<a href="index_{number + 1}.html">下一页</a>') + "</div>"
            html = (self.head(f"{column.name}_{self.spec.site_name}", column.name) + self.nav() +
                    f'<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/{column.path}/">{escape(column.name)}</a></div>'
                    f'<div class="column"><h2>{escape(column.name)}</h2>{body}{pager}</div>' + self.footer())
            name = "index.html" if number == 0 else f"index_{number}.html"
            self.put(f"/{column.path}/{name}", html)
            if number == 0:
                self.put(f"/{column.path}/", html)
        return items

    def reply_state(self, column: ColumnSpec, day: date) -> str:
        if "信箱" not in column.name and "咨询" not in column.name:
            return ""
        if (self.today - day).days in column.pending:
            return '<span class="state">未回复</span>'
        return f'<span class="state">已回复</span><span>{day + timedelta(days=3):%Y-%m-%d}</span>'

    def guide(self, column: ColumnSpec, title: str) -> str:
        if column.guide_missing < 0:
            return ""
        kept = GUIDE[: len(GUIDE) - column.guide_missing]
        return "".join(f"<p><b>{name}：</b>{value.format(title=escape(title), unit=self.spec.unit)}</p>"
                       for name, value in kept)

    def article(self, column: ColumnSpec, title: str, path: str, day: date) -> None:
        attachment = f"{path.rsplit('/', 1)[0]}/P0{day:%Y%m%d}{self.next_id}.pdf"
        self.files.pages[attachment] = Reply(200, b"%PDF-1.4\n%demo\n", "application/pdf")
        html = (self.head(f"{title}_{self.spec.site_name}", column.name) +
                f'<meta name="PubDate" content="{day:%Y-%m-%d} 09:30">' + self.nav() +
                f'<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/{column.path}/">{escape(column.name)}</a></div>'
                f'<div class="article"><h1>{escape(title)}</h1><div class="info">发布时间：{day:%Y-%m-%d} 09:30　来源：{self.spec.unit}</div>'
                f'<div class="TRS_Editor">{self.guide(column, title)}<p>{FILLER}</p><p>{FILLER}</p></div>'
                f'<p>附件：<a href="{attachment}">{escape(title)}.pdf</a></p></div>' + self.footer())
        self.put(path, html)

    def home(self, blocks) -> None:
        spec = self.spec
        parts = [self.head(spec.site_name), self.nav()]
        if spec.notice:
            closing = (self.today.replace(day=1) + timedelta(days=40)).strftime("%Y年%m月")
            parts.append(f'<div class="closure-notice" style="color:red;font-size:20px">本网站将于{closing}关停，'
                         f'内容已迁移至“北仑之窗”门户网站'
                         + (f'<a href="{self.portal}">（{self.portal}）</a>' if spec.notice_links_portal else "")
                         + '，请访问新网站获取最新信息。</div>')
        if spec.nav_only:
            parts.append('<div class="intro"><p>欢迎访问。请通过上方导航进入各栏目。</p>'
                         + "".join(f'<a class="entry" href="/{c.path}/">{escape(c.name)}</a> ' for c, _ in blocks) + "</div>")
        else:
            for column, items in blocks:
                lis = "".join(f'<li><a href="{p}" title="{escape(t)}">{escape(t)}</a><span>{d:%m-%d}</span></li>'
                              for t, p, d in items)
                parts.append(f'<div class="block"><div class="hd"><h3>{escape(column.name)}</h3>'
                             f'<a class="more" href="/{column.path}/">更多&gt;&gt;</a></div><ul>{lis}</ul></div>')
        if spec.broken_links:
            parts.append('<div class="block"><h3>专题专栏</h3><ul><li><a href="/xwdt/gzdt/202001/t20200101_1.html">已删除的文章</a></li></ul>'
                         '<img src="/images/missing-banner.png" alt="失效图片"><a href="/xgxx/index.html">相关链接</a></div>')
        parts.append(f'<div class="links">友情链接：<a href="{self.portal}">北仑之窗</a> '
                     f'<a href="{self.external}www.zj.gov.cn/">浙江省人民政府</a></div>')
        parts.append(self.footer())
        self.put("/", "".join(parts))
        self.put("/index.html", "".join(parts))

    def broken(self) -> None:
        """Link defects below the home page: 404 attachment, 500, a hanging page, redirect chain, 403, refused."""
        pages = self.files.pages
        pages["/old/index.html"] = Reply(301, b"", headers={"Location": "/old2/index.html"})
        pages["/old2/index.html"] = Reply(302, b"", headers={"Location": "/tzgg/"})
        pages["/moved.html"] = Reply(301, b"", headers={"Location": "/gone.html"})
        pages["/error.html"] = Reply(500, "<html><body>服务器内部错误</body></html>".encode())
        # hangs past the crawl's timeout and the second try's (sitecensus/demo/__init__.py: 3 s, 4 s)
        pages["/slow.html"] = Reply(200, b"<html><body>slow</body></html>", delay=6.0)
        html = (self.head(f"相关链接_{self.spec.site_name}", "相关链接") + self.nav() +
                '<div class="position">当前位置：<a href="/">首页</a> &gt; 相关链接</div><div class="article"><h1>相关链接</h1>'
                '<ul class="related"><li><a href="/uploads/P020261101.doc">附件：申请表.doc</a></li>'
                '<li><a href="/error.html">办事系统</a></li><li><a href="/slow.html">在线查询（超时）</a></li>'
                '<li><a href="/old/index.html">旧版通知公告（两次跳转）</a></li><li><a href="/moved.html">已迁移页面</a></li>'
                f'<li><a href="{self.external}blocked/">需要登录的系统</a></li>'
                f'<li><a href="{self.dead}">已停用的旧网站</a></li></ul></div>' + self.footer())
        self.put("/xgxx/index.html", html)


    def nasty(self) -> None:
        """What real sites throw at a crawler: a redirect loop, a 3 MB page, broken HTML, 429, a WAF page."""
        pages = self.files.pages
        pages["/loop/a.html"] = Reply(302, b"", headers={"Location": "/loop/b.html"})
        pages["/loop/b.html"] = Reply(302, b"", headers={"Location": "/loop/a.html"})
        pages["/huge.html"] = Reply(200, b"<html><body>" + b"x" * 3_000_000 + b"</body></html>")
        pages["/busy.html"] = Reply(429, b"busy", headers={"Retry-After": "1"},
                                    then=Reply(200, "<html><head><title>稍后可访问</title></head><body>ok</body></html>".encode()))
        pages["/waf.html"] = Reply(200, "<html><body>您的访问被阻断，请联系网站管理员。</body></html>".encode())
        pages["/broken.html"] = Reply(200, "<html><head><title>残缺页面</title><body><div><p>未闭合<table><tr><td><a href='/odd/index.html'>返回<li>".encode())
        html = (self.head(f"异常页面_{self.spec.site_name}") + self.nav() +
                '<ul class="odd"><li><a href="/loop/a.html">循环跳转</a></li><li><a href="/huge.html">超大页面</a></li>'
                '<li><a href="/broken.html">残缺页面</a></li><li><a href="/busy.html">繁忙页面</a></li>'
                '<li><a href="/waf.html">防火墙拦截</a></li></ul>' + self.footer())
        self.put("/odd/index.html", html)
        home = pages["/"].body.decode(self.spec.encoding).replace("友情链接：", '<a href="/odd/index.html">异常页面</a> 友情链接：')
        self.put("/", home)


    def bad_content(self) -> None:
        """A notice page with what V4, S1, S2, D9 and D10 look for."""
        pages = self.files.pages
        pages["/files/form.xls"] = Reply(200, "<html><body>文件不存在</body></html>".encode())  # an error page, not a file
        html = (self.head(f"关于开展业务办理的通知_{self.spec.site_name}", "通知公告") + self.nav() +
                '<div class="article"><h1>关于开展业务办理的通知</h1>'
                f'<div class="info">发布时间：{self.today:%Y-%m-%d} 09:00</div>'
                '<p>全区各单位要不忘出心、牢记使命，做好各项工作。</p><p>欢迎访问六合彩开奖结果。</p>'
                '<p>经办人：张三，身份证号11010519491231002X，联系手机13812345678。</p>'
                f'<div style="display:none"><a href="{self.external}spam/casino">网上娱乐</a></div>'
                '<p>附件：<a href="/files/missing.doc">申请表.doc</a> <a href="/files/form.xls">登记表.xls</a></p>'
                '<p><a href="/online/apply">在线办理入口</a></p></div>' + self.footer())
        self.put("/xxgk/notice.html", html)
        home = pages["/"].body.decode(self.spec.encoding).replace(
            "友情链接：", '<a href="/xxgk/notice.html">关于开展业务办理的通知</a> 友情链接：')
        self.put("/", home)


def build_site(spec: SiteSpec, base: str, today: date, external: str, portal: str, dead: str) -> SiteFiles:
    writer = _ScriptedWriter if spec.scripted else _Writer
    if spec.cms:
        from sitecensus.demo.families import WRITERS   # imports this module: loaded late
        writer = WRITERS[spec.cms]
    return writer(spec, base, today, external, portal, dead).build()


_HOME_APP = """// the home page is a single-page application: everything a visitor sees comes from /api/news.json
fetch('/api/news.json').then(function (r) { return r.json(); }).then(function (site) {
  var esc = function (t) { var d = document.createElement('div'); d.textContent = t; return d.innerHTML; };
  var html = '<div class="header"><h1>' + esc(site.name) + '</h1></div><div class="nav"><ul><li><a href="/">首页</a></li>';
  site.columns.forEach(function (c) { html += '<li><a href="' + c.url + '">' + esc(c.name) + '</a></li>'; });
  html += '</ul></div>';
  site.columns.forEach(function (c) {
    html += '<div class="block"><div class="hd"><h3>' + esc(c.name) + '</h3><a class="more" href="' + c.url +
            '">更多&gt;&gt;</a></div><ul>';
    c.items.forEach(function (i) {
      html += '<li><a href="' + i.url + '" title="' + esc(i.title) + '">' + esc(i.title) + '</a><span>' + i.date + '</span></li>';
    });
    html += '</ul></div>';
  });
  document.getElementById('app').innerHTML = html + site.footer;
});
"""

_LIST_SCRIPT = """<script>
var xhr = new XMLHttpRequest();
xhr.open('GET', '{api}');
xhr.onload = function () {{
  var rows = JSON.parse(xhr.responseText), list = document.getElementById('list');
  rows.forEach(function (i) {{
    var li = document.createElement('li'), a = document.createElement('a'), span = document.createElement('span');
    a.href = i.url; a.title = i.title; a.textContent = i.title; span.textContent = i.date;
    li.appendChild(a); li.appendChild(span); list.appendChild(li);
  }});
}};
xhr.send();
</script>"""


class _ScriptedWriter(_Writer):
    """A site built by script, as many new district sites are: the home page is an app shell
    (`<div id="app">` + a bundle that fetches JSON), and each column page is a static frame whose
    `<ul id="list">` an XMLHttpRequest fills. Articles are static. Without a browser none of the
    lists can be read; rendered, it is a healthy site."""

    def column(self, column: ColumnSpec) -> list[tuple[str, str, date]]:
        items = self.items_of(column)
        api = f"/api/{column.path.replace('/', '_')}.json"
        rows = [{"title": t, "url": p, "date": f"{d:%Y-%m-%d}"} for t, p, d in items]
        self.files.pages[api] = Reply(200, json.dumps(rows, ensure_ascii=False).encode(), "application/json")
        html = (self.head(f"{column.name}_{self.spec.site_name}", column.name) + self.nav() +
                f'<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/{column.path}/">{escape(column.name)}</a></div>'
                f'<div class="column"><h2>{escape(column.name)}</h2><ul id="list" class="list"></ul></div>'
                + _LIST_SCRIPT.format(api=api) + self.footer())
        self.put(f"/{column.path}/index.html", html)
        self.put(f"/{column.path}/", html)
        return items

    def home(self, blocks) -> None:
        spec = self.spec
        footer = self.footer().removesuffix("</body></html>")
        data = {"name": spec.site_name, "footer": footer,
                "columns": [{"name": c.name, "url": f"/{c.path}/",
                             "items": [{"title": t, "url": p, "date": f"{d:%Y-%m-%d}"} for t, p, d in items]}
                            for c, items in blocks]}
        self.files.pages["/api/news.json"] = Reply(200, json.dumps(data, ensure_ascii=False).encode(), "application/json")
        self.files.pages["/static/app.js"] = Reply(200, _HOME_APP.encode(), "application/javascript")
        shell = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{escape(spec.site_name)}</title>'
                 f'<meta name="SiteIDCode" content="{spec.site_code}"></head>'
                 '<body><noscript>请启用JavaScript后访问本站。</noscript><div id="app"></div>'
                 '<script src="/static/app.js"></script></body></html>')
        self.put("/", shell)
        self.put("/index.html", shell)


def unregistered_site() -> SiteFiles:
    page = "<html><head><meta charset='utf-8'><title>北仑区农业信息网</title></head><body>农业信息</body></html>"
    return SiteFiles(fallback=Reply(200, page.encode()))


def external_site() -> SiteFiles:
    """Stand-in for outside hosts (beian.miit.gov.cn ...): every path 200, /blocked/ 403."""
    files = SiteFiles(fallback=Reply(200, "<html><head><title>外部网站</title></head><body>ok</body></html>".encode()))
    files.pages["/blocked/"] = Reply(403, "<html><body>禁止访问</body></html>".encode())
    return files


def portal_site(today: date, external: str = "", unregistered: str = "", lookalike: str = "") -> SiteFiles:
    lis = "".join(f'<li><a href="/art/{(today - timedelta(days=i)):%Y/%m/%d}/art_1_{i}.html">{t}</a>'
                  f'<span>{(today - timedelta(days=i)):%Y-%m-%d}</span></li>' for i, t in enumerate(TOPICS[:8]))
    html = (f'<html><head><meta charset="utf-8"><title>北仑之窗</title></head><body><h1>北仑之窗</h1>'
            f'<div class="block"><h3>今日北仑</h3><ul>{lis}</ul></div>'
            + (f'<div class="links">部门网站：<a href="{unregistered}">区农业信息网</a> '
               f'<a href="{lookalike}">北仑林业网</a></div>' if unregistered else "")
            + '</body></html>')
    # 区农林局's retained page: disclosure and services link the platforms, 互动交流 wrongly stays on the portal.
    retained = ('<html><head><meta charset="utf-8"><title>区农林局_北仑之窗</title></head><body><h1>区农林局</h1>'
                f'<ul class="bm-nav"><li><a href="{external}xxgk.bl.gov.cn/nlj/">政府信息公开</a></li>'
                '<li><a href="/hdjl/nlj/">互动交流</a></li>'
                f'<li><a href="{external}zjzwfw.gov.cn/bl/nlj/">办事服务</a></li></ul></body></html>')
    # 区环保局's retained page: 信息公开 wrongly points at the portal's own news; services are right.
    retained_hbj = ('<html><head><meta charset="utf-8"><title>区环保局_北仑之窗</title></head><body><h1>区环保局</h1>'
                    '<ul class="bm-nav"><li><a href="/xxgk/hbj/">信息公开</a></li>'
                    f'<li><a href="{external}zjzwfw.gov.cn/bl/hbj/hd/">互动交流</a></li>'
                    f'<li><a href="{external}zjzwfw.gov.cn/bl/hbj/">办事服务</a></li></ul></body></html>')
    return SiteFiles(pages={"/": Reply(200, html.encode()), "/bm/nlj/": Reply(200, retained.encode()),
                            "/bm/hbj/": Reply(200, retained_hbj.encode())},
                     fallback=Reply(200, "<html><body>北仑之窗</body></html>".encode()))
