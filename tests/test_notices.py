"""Closure-notice detection on real-world wordings, and on news that merely mentions 关停 or 迁移."""
from datetime import date

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
