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
