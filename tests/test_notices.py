"""Closure-notice detection on real-world wordings, and on news that merely mentions 关停 or 迁移."""
from datetime import date

import lxml.html
import pytest

from crawler.extract.page import analyse_page
from scoring.profile import Profile
from sitecensus.config import load_config
from sitecensus.scan import extract_options
from tests.conftest import REPO

CONFIG = load_config(REPO / "config")
OPTIONS = extract_options(CONFIG.profile(), CONFIG.dictionaries)
PORTAL = "http://www.bl.gov.cn/"
HEADER = ('<div class="header"><h1>宁波市北仑区某某局</h1></div><div class="nav"><ul><li><a href="/">首页</a></li>'
          '<li><a href="/xwdt/">工作动态</a></li><li><a href="/tzgg/">通知公告</a></li></ul></div>')
NEWS = "".join(f'<li><a href="/xwdt/{i}.html">全区安全生产工作推进会召开第{i}次会议</a><span>2026-11-{i + 1:02d}</span></li>'
               for i in range(12))
FOOTER = '<div class="footer">主办单位：宁波市北仑区某某局 网站标识码：3302060011 浙ICP备05012345号-1</div>'


def home(notice_html: str, with_news: bool = True) -> bytes:
    body = HEADER + notice_html + (f'<div class="block"><h3>工作动态</h3><ul>{NEWS}</ul></div>' if with_news else "") + FOOTER
    return f"<html><head><meta charset='utf-8'><title>某某局</title></head><body>{body}</body></html>".encode()


def notice_of(html: bytes):
    return analyse_page("http://xx.bl.gov.cn/", html, "text/html", date(2026, 11, 24), OPTIONS, is_home=True).notice


POSITIVE = [
    f'<div class="closure-notice" style="color:red">本网站已停止更新，内容已迁移至“北仑之窗”门户网站<a href="{PORTAL}">（点击访问）</a>。</div>',
    f'<div id="popup"><p>关于本网站关停的公告：根据区政府统一部署，本站于2017年12月31日起关停，相关信息请访问<a href="{PORTAL}">北仑之窗</a>。</p></div>',
    f'<div class="banner-tip">本网站将于2017年11月30日永久下线，栏目内容已整合至区政府门户网站 <a href="{PORTAL}">{PORTAL}</a></div>',
    f'<marquee>尊敬的用户：本站已不再更新，请访问<a href="{PORTAL}">北仑之窗</a>获取最新信息。</marquee>',
    f'<center><font color="red">本网站已并入北仑区政府门户网站，请移步<a href="{PORTAL}">新网站</a></font></center>',
    f'<h2>网站迁移公告：本网站内容已迁移至<a href="{PORTAL}">北仑之窗</a></h2>',
    f'<div class="modal"><b>通知</b><p>按照政府网站集约化要求，本网站停止运行，信息公开内容已集约至区政府信息公开平台。</p><a href="{PORTAL}">前往</a></div>',
    f'<div style="color:#ff0000;font-size:18px">本站已停止服务，感谢您长期以来的关注与支持！新网址：<a href="{PORTAL}">北仑之窗</a></div>',
    f'<div class="alert">因网站整合，本网站暂停服务，请访问<a href="{PORTAL}">北仑区人民政府门户网站</a>。</div>',
    f'<p>本网站已关闭，原有内容已转至区政府门户网站“北仑之窗”。<a href="{PORTAL}">点击进入</a></p>',
    f'<div class="notice">【公告】该网站已下线，请通过<a href="{PORTAL}">北仑之窗</a>门户访问本单位信息。</div>',
    f'<div id="tips">网站改版公告：本站已整合到“北仑之窗”门户网站，原网址不再维护。<a href="{PORTAL}">访问新网站</a></div>',
    f'<table><tr><td style="color:red">根据仑政办〔2017〕84号文件，本网站已于2017年12月关停，内容迁至<a href="{PORTAL}">北仑之窗</a>。</td></tr></table>',
    f'<div class="guanting"><span>旧版网站已停止更新</span> <a href="{PORTAL}">进入北仑之窗门户网站</a></div>',
    f'<div class="tanchuang"><p>温馨提示：本站内容已移至北仑之窗“部门专栏”，本网站将下线。</p><a href="{PORTAL}bm/">部门专栏</a></div>',
]


@pytest.mark.parametrize("notice_html", POSITIVE)
def test_closure_notice_wordings_are_found(notice_html):
    found = notice_of(home(notice_html))
    assert found is not None, notice_html
    assert any(link.startswith(PORTAL) for link in found["links"]), found


def test_a_page_that_is_only_the_notice():
    found = notice_of(home('<p>本网站已停止更新。</p>', with_news=False))
    assert found is not None and found["links"] == []


NEGATIVE = [
    '<div class="block"><h3>要闻</h3><ul><li><a href="/1.html">我区依法关停12家“散乱污”企业</a><span>2026-11-20</span></li></ul></div>',
    '<div class="block"><ul><li><a href="/2.html">关于XX化工厂搬迁迁移至新厂区的公示</a></li></ul></div>',
    '<marquee><a href="/3.html">本网站讯：全区关停落后产能企业23家</a></marquee>',
    '<div class="content"><p>' + "今年以来，我局持续推进落后产能淘汰工作，" * 20 + '共关停企业18家，迁移至工业园区5家。</p></div>',
    '<div class="article"><p>据了解，该企业生产线已于上月关停，设备迁移至宁波经济技术开发区。</p></div>' + "<p>正文</p>" * 20,
    '<div class="notice"><ul><li><a href="/4.html">关于暂停办理不动产登记业务的通知</a></li></ul></div>',
    '<div class="block"><h3>通知公告</h3><p><a href="/5.html">关于网站集约化工作的通知（仑政办〔2017〕84号）</a></p></div>',
    '<div class="banner"><img src="/b.png" alt="迁移至新址"></div>',
    '<div class="intro"><p>' + "北仑区位于宁波市东部，" * 30 + '区内多家企业已完成整合迁移。</p></div>',
    '<dl><dd><a href="/6.html">市场监管局关停无证照经营网吧3家</a></dd></dl>',
]


@pytest.mark.parametrize("news_html", NEGATIVE)
def test_news_that_mentions_closure_is_not_a_notice(news_html):
    assert notice_of(home(news_html)) is None, news_html


def test_profile_vocabulary_is_configuration():
    profile: Profile = CONFIG.profile()
    assert "停止更新" in profile.consolidation.notice.closure and "本网站" in profile.consolidation.notice.self_site


# ---- Link-dense portal-style home pages (the shape of real district home pages) -------------------------

ARTICLE = "/xwdt/202611/t20261120_101.html"


def dense_home(inner: str, where: str = "top") -> bytes:
    """A busy home page: top bar, 12-item navigation, a focus box, four headline blocks, links, footer."""
    nav = "".join(f'<li><a href="/col{i}/">栏目{i}</a></li>' for i in range(12))
    blocks = "".join(
        f'<div class="box"><div class="hd"><h3>{name}</h3><a class="more" href="/{path}/">更多</a></div><ul>'
        + "".join(f'<li><a href="/{path}/{i}.html">{name}第{i}条信息的标题文字较长</a><span>2026-11-{i + 1:02d}</span></li>'
                  for i in range(8)) + "</ul></div>"
        for name, path in (("工作动态", "gzdt"), ("通知公告", "tzgg"), ("政策文件", "zcwj"), ("部门动态", "bmdt")))
    links = "".join(f'<a href="http://www.site{i}.gov.cn/">相关网站{i}</a>' for i in range(10))
    top = inner if where == "top" else ""
    middle = inner if where == "middle" else ""
    body = (f'<div class="topbar">欢迎访问 <a href="/search/">站内搜索</a> <a href="/m/">手机版</a></div>'
            f'<div class="header"><h1>宁波市北仑区某某局</h1></div><div class="nav"><ul>{nav}</ul></div>{top}'
            f'<div class="focus"><a href="{ARTICLE}"><img src="/f.jpg" alt="图片新闻"></a></div>'
            f'{blocks[:len(blocks) // 2]}{middle}{blocks[len(blocks) // 2:]}<div class="links">{links}</div>{FOOTER}')
    return f"<html><head><meta charset='utf-8'><title>某某局</title></head><body>{body}</body></html>".encode()


NEWS_ON_DENSE_HOMES = [
    # a news item box: headline of this site + summary
    f'<div class="news-top"><h4><a href="{ARTICLE}">我区召开政府网站集约化工作推进会</a></h4>'
    '<p>会议要求各部门网站于年底前关停，网站内容迁移至区政府门户网站。</p></div>',
    # a 要闻 paragraph with a date lead / a trailing list date
    '<div class="yw"><h3>要闻</h3><p>11月18日，区委书记主持召开专题会议，研究部门网站关停迁移工作。</p></div>',
    '<div class="yw"><p>全区32家部门网站完成关停，内容迁移至门户网站（2026-11-20）</p></div>',
    # a summary with its list date beside it, unlinked title
    '<div class="hot"><h3>全区部门网站关停迁移工作有序推进</h3><p>各单位网站内容陆续迁移至门户网站。</p><span>2026-11-21</span></div>',
    # repeated item boxes
    '<div class="list">' + "".join(f'<div class="row"><a href="/xw/{i}.html">街道网站关停</a><p>网站内容迁移至门户网站。</p></div>'
                                  for i in range(4)) + '</div>',
    # bylines
    '<div class="summary"><p>本网讯 近日，我区24家部门网站关停，内容迁移至“北仑之窗”门户网站。</p></div>',
    '<div class="intro"><p>记者从区大数据局获悉，全区部门网站将于年底前关停，网站内容整合至门户网站。</p></div>',
    # factory news
    '<div class="toutiao"><p>化工企业搬迁至新厂区，原厂区全面关停。</p></div>',
]

# News whose wording alone would pass for a notice (a 公告 label, a destination address): only the page's
# structure tells it is news.
NEWS_WORDED_LIKE_NOTICES = [
    f'<div class="news-top"><h4><a href="{ARTICLE}">区政府办发布部门网站整合安排</a></h4>'
    '<p>根据公告，各部门网站年底前关停，内容迁移至 www.bl.gov.cn 。</p></div>',
    '<div class="yw"><p>11月18日，区政府办发布公告：部门网站年底前关停，内容迁移至www.bl.gov.cn。</p></div>',
    '<div class="yw"><p>部门网站关停公告发布，内容迁移至门户网站 www.bl.gov.cn（2026-11-20）</p></div>',
    f'<div class="tzgg"><h3>通知公告</h3><div class="con"><a href="{ARTICLE}">关于部门网站关停整合的公告</a>'
    '<span>2026-11-01</span></div></div>',
    '<div class="list">' + "".join(f'<div class="row"><p>第{i}批部门网站关停公告：内容迁移至门户网站。</p><a href="/xw/{i}.html">详情</a></div>'
                                  for i in range(4)) + '</div>',
]


@pytest.mark.parametrize("where", ["top", "middle"])
@pytest.mark.parametrize("news_html", NEWS_ON_DENSE_HOMES + NEWS_WORDED_LIKE_NOTICES)
def test_news_on_a_link_dense_home_page_is_not_a_notice(news_html, where):
    assert notice_of(dense_home(news_html, where)) is None


@pytest.mark.parametrize("news_html", NEWS_WORDED_LIKE_NOTICES)
def test_the_news_texts_are_worded_like_notices(news_html):
    """Guard for the test above: these texts would be notices if the page's structure were not read."""
    from crawler.extract.notices import closure_wording
    paragraph = lxml.html.fragment_fromstring(news_html, create_parent="div").xpath("string(.//p|.//div[@class='con'])")
    assert closure_wording(" ".join(paragraph.split()), OPTIONS.notice, destination=True)


MAINTENANCE = [
    '<div class="notice" style="color:red">因系统升级维护，本网站将于11月25日22:00至24:00暂停服务，敬请谅解。</div>',
    '<div class="alert">网站改版公告：本站正在进行全新改版，部分栏目暂停访问。</div>',
    '<div id="popup"><p>温馨提示：本网站留言功能已关闭，如需咨询请拨打12345。</p></div>',
    '<marquee>因服务器维护，本网站暂时关闭，给您带来不便敬请谅解。</marquee>',
    '<div class="banner-tip">新版网站试运行，旧版网站停止更新，欢迎提出意见建议。</div>',
    '<div class="tips">本站已关闭留言功能，请到浙江政务服务网留言。</div>',
]


@pytest.mark.parametrize("banner", MAINTENANCE)
def test_maintenance_and_feature_banners_are_not_closures(banner):
    assert notice_of(dense_home(banner)) is None


# (notice html, a phrase of its body that must be kept as evidence)
WHOLE_NOTICES = [
    (f'<h2>关于本网站关停的公告</h2><p>根据区政府统一部署，本网站将于2017年12月31日关停。</p>'
     f'<p>网站内容已迁移至“北仑之窗”：<a href="{PORTAL}">{PORTAL}</a></p>', "2017年12月31日关停"),
    (f'<div class="gg"><div class="title"><h3>网站关停公告</h3></div><div class="con"><p>本网站已停止更新，内容已整合至区政府门户网站。</p>'
     f'<p><a href="{PORTAL}">点击进入北仑之窗</a></p></div></div>', "内容已整合至区政府门户网站"),
    (f'<p><b>【网站关停公告】</b></p><p>本网站将于2017年12月31日起停止运营，相关信息请访问<a href="{PORTAL}">北仑之窗</a>。</p>',
     "停止运营"),
    (f'<p><strong>【网站关停公告】</strong>本网站将于2017年12月31日关停，内容迁移至<a href="{PORTAL}">北仑之窗</a>。</p>', "内容迁移至"),
    (f'<div class="tanchuang"><p>尊敬的访客：</p><p>本站已于2017年12月31日正式关站。</p><p>请访问<a href="{PORTAL}">北仑之窗</a>。</p></div>',
     "请访问 北仑之窗"),
    (f'<dl class="gg"><dt>网站关停公告</dt><dd>本网站已停止更新，请访问<a href="{PORTAL}">北仑之窗</a>。</dd></dl>', "请访问"),
]


@pytest.mark.parametrize("where", ["top", "middle"])
@pytest.mark.parametrize("notice_html, body", WHOLE_NOTICES)
def test_the_whole_notice_is_kept_with_the_portal_link(notice_html, body, where):
    found = notice_of(dense_home(notice_html, where))
    assert found is not None
    assert body in found["text"] and PORTAL in found["links"], found
    assert not any("/col" in link or "site" in link for link in found["links"])   # not the navigation or 相关网站


NEW_WORDINGS = [
    '<div class="closure" style="color:red">本网站已永久封停，感谢您多年来的关注。</div>',
    '<div class="modal"><p>关站公告：本站已于2017年12月31日正式关站，感谢您的支持！</p></div>',
    '<div class="alert">本网站停止运营，信息公开内容请到区政府门户网站查询。</div>',
    '<div class="tanchuang">本网站已搬迁到新的域名，请访问 www.bl.gov.cn 。</div>',
    f'<div id="tips">区农林局政务信息已迁移至<a href="{PORTAL}">北仑之窗</a>，请前往查阅。</div>',
    '<div class="banner">原区农林局栏目内容迁移至 www.bl.gov.cn ，敬请关注。</div>',
]


@pytest.mark.parametrize("notice_html", NEW_WORDINGS)
def test_new_real_world_wordings_are_found(notice_html):
    assert notice_of(dense_home(notice_html)) is not None, notice_html


def test_vocabulary_is_validated():
    from pydantic import ValidationError

    from scoring.profile import NoticeWords
    words = CONFIG.profile().consolidation.notice.model_dump()
    with pytest.raises(ValidationError, match="既算关停/迁移又算维护"):
        NoticeWords(**{**words, "maintenance": words["maintenance"] + ["关停"]})
    with pytest.raises(ValidationError):
        NoticeWords(**{**words, "closure": []})
    with pytest.raises(ValidationError, match="空词"):
        NoticeWords(**{**words, "self_site": ["本网站", " "]})


def test_a_vocabulary_word_switches_detection():
    """The words are configuration: without 关站 in the profile the 关站 wording is not a closure."""
    from dataclasses import replace
    page = dense_home('<div class="modal"><p>关站公告：本站已于2017年12月31日正式关站。</p></div>')
    assert notice_of(page) is not None
    without = replace(OPTIONS, notice=replace(OPTIONS.notice, closure=tuple(w for w in OPTIONS.notice.closure
                                                                            if w not in ("关站", "正式关站"))))
    assert analyse_page("http://xx.bl.gov.cn/", page, "text/html", date(2026, 11, 24), without, is_home=True).notice is None
