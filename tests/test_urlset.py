"""crawler/urlset.py: a spider's URL memory as hashes answers like a set of the URLs."""
import sys

from crawler.urlset import UrlSet


def test_a_url_set_answers_like_a_set_of_its_urls():
    urls = [f"http://127.0.0.1:8080/zwgk/202511/t20251120_{i}.html" for i in range(1000)]
    seen = UrlSet(urls[:10])
    seen.add(urls[10])
    seen.update(urls[11:500])
    assert len(seen) == 500 and all(u in seen for u in urls[:500]) and not any(u in seen for u in urls[500:])
    seen.discard(urls[0])
    seen.add(urls[1])   # again: no second entry
    assert urls[0] not in seen and urls[1] in seen and len(seen) == 499


def test_it_holds_less_than_the_strings_do():
    urls = [f"http://127.0.0.1:8080/zwgk/202511/t20251120_{i}.html" for i in range(1000)]
    as_hashes = UrlSet(urls)
    held = sys.getsizeof(as_hashes) + sum(sys.getsizeof(h) for h in dict.__iter__(as_hashes))
    as_strings = set(urls)
    assert held < 0.6 * (sys.getsizeof(as_strings) + sum(sys.getsizeof(u) for u in urls))


def test_its_table_does_not_grow_fourfold_like_a_sets():
    urls = [f"http://127.0.0.1:8080/zwgk/202511/t20251120_{i}.html" for i in range(5000)]
    assert sys.getsizeof(UrlSet(urls)) < 0.5 * sys.getsizeof({hash(u) for u in urls})
