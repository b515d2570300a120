"""crawler/urlset.py: a spider's URL memory as hashes answers like sets of the URLs, in one table."""
import sys

from crawler.urlset import UrlSet, UrlTable

URLS = [f"http://127.0.0.1:8080/zwgk/202511/t20251120_{i}.html" for i in range(5000)]


def _table_bytes(table: dict) -> int:
    return sys.getsizeof(table) + sum(sys.getsizeof(key) for key in table)


def test_a_url_set_answers_like_a_set_of_its_urls():
    urls = URLS[:1000]
    seen = UrlSet(urls[:10])
    seen.add(urls[10])
    seen.update(urls[11:500])
    assert len(seen) == 500 and all(u in seen for u in urls[:500]) and not any(u in seen for u in urls[500:])
    seen.discard(urls[0])
    seen.discard(urls[0])   # again: nothing to take away
    seen.add(urls[1])   # again: no second entry
    assert urls[0] not in seen and urls[1] in seen and len(seen) == 499


def test_sets_of_one_table_stay_apart():
    table = UrlTable()
    claimed, parsed, left = table.new_set(URLS[:100]), table.new_set(), table.new_set()
    parsed.update(URLS[50:150])
    left.add(URLS[0])
    assert (len(claimed), len(parsed), len(left)) == (100, 100, 1)
    assert URLS[120] in parsed and URLS[120] not in claimed and URLS[10] not in parsed and URLS[1] not in left
    parsed.discard(URLS[60])
    assert URLS[60] in claimed and URLS[60] not in parsed and len(parsed) == 99
    claimed.discard(URLS[130])   # held by another set of the table only: that set keeps it
    assert URLS[130] in parsed and len(claimed) == 100
    assert len(table) == 150   # each URL once, whatever sets hold it
    for held in (claimed, parsed, left):
        for url in URLS[:150]:
            held.discard(url)
    assert len(table) == 0   # a URL no set holds leaves the table


def test_overlapping_sets_hold_each_url_once():
    table = UrlTable()
    claimed, parsed = table.new_set(URLS), table.new_set(URLS)
    apart = UrlSet(URLS)._table, UrlSet(URLS)._table
    assert len(claimed) == len(parsed) == len(table) == len(URLS)
    assert _table_bytes(table) < 0.6 * sum(map(_table_bytes, apart))


def test_it_holds_less_than_the_strings_do():
    urls = URLS[:1000]
    as_strings = set(urls)
    assert _table_bytes(UrlSet(urls)._table) < 0.6 * (sys.getsizeof(as_strings) + sum(map(sys.getsizeof, urls)))


def test_its_table_does_not_grow_fourfold_like_a_sets():
    assert sys.getsizeof(UrlSet(URLS)._table) < 0.5 * sys.getsizeof({hash(u) for u in URLS})
