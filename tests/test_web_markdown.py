"""The markdown tree the page builds: every string is text, links only go to the web."""

from __future__ import annotations

import pytest

from deep_tui.web.markdown import is_safe_link, render, settled_end


@pytest.mark.parametrize(
    "source",
    [
        "[x](javascript:alert(1))",
        "[x](JAVASCRIPT:alert(1))",
        "[x](java&#x73;cript:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](<javascript:alert(1)>)",
        "<javascript:alert(1)>",
        "[x](vbscript:msgbox)",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "![x](data:image/png;base64,iVBORw0KGgo=)",
        "[x](file:///etc/passwd)",
        "[x](/agent/stream?prompt=rm)",
        "[x](//evil.example/)",
        "[x](runs/abc/cancel)",
        "[x][ref]\n\n[ref]: javascript:alert(1)",
    ],
)
def test_a_link_that_is_not_to_the_web_stays_the_text_the_agent_wrote(source: str) -> None:
    nodes = render(source)
    assert nodes and all(node[:2] == ["p", {}] and all(isinstance(c, str) for c in node[2:]) for node in nodes)


def test_web_links_and_images_become_links_and_no_image_is_loaded() -> None:
    assert render("[a](https://x.example/?q=1 'title') ![b](http://x.example/p.png) <mailto:me@x.example>") == [
        [
            "p",
            {},
            ["a", {"href": "https://x.example/?q=1"}, "a"],
            " ",
            ["a", {"href": "http://x.example/p.png", "image": True}, "b"],
            " ",
            ["a", {"href": "mailto:me@x.example"}, "mailto:me@x.example"],
        ]
    ]
    assert not is_safe_link("https://x.example/\x01") and not is_safe_link("https://x example")


def test_html_is_text_in_blocks_and_inline() -> None:
    assert render('<div onclick="x()">hi</div>\n\na <b>bold</b> <!-- c -->') == [
        ["p", {}, '<div onclick="x()">hi</div>'],
        ["p", {}, "a <b>bold</b> <!-- c -->"],
    ]


def test_tight_lists_nesting_tables_and_breaks() -> None:
    assert render("3. one\n4. two\n   - *deep*\n\n---\nline  \nnext") == [
        ["ol", {"start": 3}, ["li", {}, "one"], ["li", {}, "two", ["ul", {}, ["li", {}, ["em", {}, "deep"]]]]],
        ["hr", {}],
        ["p", {}, "line", ["br", {}], "next"],
    ]
    assert render("| a | b |\n|:-:|---|\n| ~~x~~ | `y` |") == [
        [
            "table",
            {},
            ["thead", {}, ["tr", {}, ["th", {"align": "center"}, "a"], ["th", {}, "b"]]],
            ["tbody", {}, ["tr", {}, ["td", {"align": "center"}, ["s", {}, "x"]], ["td", {}, ["code", {}, "y"]]]],
        ]
    ]


def test_deep_nesting_is_cut_by_the_parser_not_the_stack() -> None:
    nodes = render(">" * 5000 + " deep\n\n" + "*" * 5000 + "x" + "*" * 5000)
    assert nodes  # no RecursionError, and markdown-it's nesting limit keeps the tree shallow


def test_code_is_highlighted_only_in_a_known_language() -> None:
    assert render("```python\nif x: pass\n```") == [
        [
            "pre",
            {},
            ["code", {"language": "python"}, ["span", {"hl": "k"}, "if"], " x: ", ["span", {"hl": "k"}, "pass"]],
        ]
    ]
    assert render("```no-such-language\n<b>x</b>\n```") == [
        ["pre", {}, ["code", {"language": "no-such-language"}, "<b>x</b>"]]
    ]
    assert render("    indented <i>\n") == [["pre", {}, ["code", {}, "indented <i>"]]]


def test_the_settled_part_ends_at_a_blank_line_outside_fences() -> None:
    assert settled_end("one\n\ntwo") == len("one\n\n")
    assert settled_end("one\n\n```\ncode\n\nmore") == len("one\n\n")
    assert settled_end("```\ncode\n\n```\n\nafter") == len("```\ncode\n\n```\n\n")
    assert settled_end("no blank line yet\n") == 0
