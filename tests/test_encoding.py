"""Page text comes out right whatever the encoding and whether or not it is declared."""
import pytest

from crawler.extract.text import decode_html

TEXT = "<html><head><title>宁波市北仑区新碶街道办事处</title></head><body>通知公告</body></html>"


def _page(charset_meta: str | None) -> str:
    meta = f'<meta charset="{charset_meta}">' if charset_meta else ""
    return TEXT.replace("<head>", f"<head>{meta}")


@pytest.mark.parametrize("encoding, meta, header", [
    ("utf-8", "utf-8", None),
    ("utf-8", None, None),                  # undeclared UTF-8
    ("gbk", "gbk", None),
    ("gbk", "gb2312", None),                # labelled GB2312, carries 碶 (GBK only)
    ("gbk", None, None),                    # undeclared GBK
    ("gb18030", "gb18030", None),
    ("gbk", None, "text/html; charset=GB2312"),   # declared in the HTTP header only
    ("gbk", None, "text/html; charset=utf-8"),    # header lies: says UTF-8, body is GBK
    ("utf-8", "gbk", None),                 # meta lies: says GBK, body is UTF-8
])
def test_decoding(encoding, meta, header):
    body = _page(meta).encode(encoding)
    text, used = decode_html(body, header)
    assert "新碶街道" in text and "通知公告" in text
    assert "\ufffd" not in text


def test_utf8_bom():
    text, used = decode_html("\ufeff".encode() + TEXT.encode("utf-8"), None)
    assert used == "utf-8" and text.startswith("<html>")


def test_undecodable_bytes_are_replaced_not_fatal():
    text, _ = decode_html(TEXT.encode("utf-8")[:-30] + b"\xff\xfe\xfd" + b"</html>", "text/html; charset=utf-8")
    assert "新碶街道" in text


# A GBK page with a truncated character at a template seam (the last byte of a character cut off) and a
# stray 0xFF: no codec decodes it whole. It must still read as GB18030, losing only those bytes.
GBK_PAGE = ("<html><head>{meta}<title>宁波市北仑区新碶街道办事处</title></head><body>"
            "<div class='nav'><a href='/tzgg/'>通知公告</a><a href='/zwgk/'>政务公开</a></div>"
            "<p>{seam}关于做好冬季森林防火工作的通知</p><div class='footer'>主办单位：新碶街道办事处 网站标识码：3302060024</div>"
            "</body></html>")


def _damaged_gbk(meta: str = "") -> bytes:
    body = GBK_PAGE.format(meta=meta, seam="SEAM").encode("gbk")
    return body.replace(b"SEAM", "街道".encode("gbk")[:3] + b"\xff")


@pytest.mark.parametrize("meta, header", [
    ('<meta http-equiv="Content-Type" content="text/html; charset=gb2312">', None),
    ("", None),                                     # undeclared
    ("", "text/html; charset=GBK"),                 # declared in the HTTP header only
    ("", "text/html; charset=utf-8"),               # header lies
    ('<meta charset="utf-8">', None),               # meta lies
])
def test_gbk_with_invalid_bytes_is_read_as_gb18030(meta, header):
    text, used = decode_html(_damaged_gbk(meta), header)
    assert used == "gb18030"
    assert "新碶街道办事处" in text and "关于做好冬季森林防火工作的通知" in text and "通知公告" in text
    assert 1 <= text.count("\ufffd") <= 2


def test_utf8_with_invalid_bytes_stays_utf8_even_when_meta_says_gbk():
    body = GBK_PAGE.format(meta='<meta charset="gbk">', seam="SEAM").encode("utf-8")
    text, used = decode_html(body.replace(b"SEAM", "街".encode("utf-8")[:2] + b"\xff"), None)
    assert used == "utf-8" and "新碶街道办事处" in text and "关于做好冬季森林防火工作的通知" in text


def test_damaged_gbk_page_over_http_has_readable_title_and_link_texts():
    from pathlib import Path

    from sitecensus.config import load_config
    from sitecensus.demo.server import DemoServer, Reply, SiteFiles
    from sitecensus.inspect import inspect_page

    server = DemoServer()
    server.serve(SiteFiles({"/": Reply(200, _damaged_gbk(), content_type="text/html; charset=gb2312")}))
    try:
        facts = inspect_page(server.base_url, load_config(Path(__file__).resolve().parents[1] / "config"))
    finally:
        server.close()
    assert facts["encoding"] == "gb18030" and facts["title"] == "宁波市北仑区新碶街道办事处"
    assert {link["text"] for link in facts["links"]} >= {"通知公告", "政务公开"}
    assert facts["identifiers"]["site_code"] == "3302060024"
