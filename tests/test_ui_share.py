"""Shareable links (explorer/ui/share.py): the page's state survives a round trip through the URL query."""

from __future__ import annotations

from urllib.parse import parse_qsl

from explorer.ui.result_frame import render_link
from explorer.ui.share import MAX_TEXT, SharedQuery, build_share_query, read_query


def test_a_link_reopens_the_same_state():
    query = build_share_query("google/electra-small-generator", "a & b = [MASK]?", 7, " capital, city ", "attention",
                        ("mini-bert", "mini-roberta"))
    parsed = read_query(dict(parse_qsl(query.removeprefix("?"))))
    assert parsed == SharedQuery(model="google/electra-small-generator", text="a & b = [MASK]?", top_k=7,
                                 targets="capital, city", view="attention", models=("mini-bert", "mini-roberta"))
    assert parsed.runs


def test_nonsense_in_a_link_is_ignored():
    parsed = read_query({"top_k": "-3", "view": "<script>", "text": "  ", "models": "a,b,c,d,e,f"})
    assert parsed.top_k is None and parsed.view is None and parsed.text is None
    assert parsed.models == ("a", "b", "c", "d") and not parsed.runs
    assert read_query({"top_k": "999"}).top_k == 50
    assert len(read_query({"text": "x" * 10_000}).text) == MAX_TEXT
    assert read_query({}) == SharedQuery()


def test_the_link_is_escaped_html():
    link = render_link(build_share_query("m", "<img src=x onerror=alert(1)> '\" [MASK]", 5))
    assert "<img" not in link and "'\"" not in link
    assert link.count("<a ") == 1 and "href='?model=m&amp;text=" in link
