"""The agent's markdown as a tree of plain data that the page builds with DOM calls, never as HTML.

markdown-it-py (CommonMark, with tables and strikethrough, raw HTML off) parses
the text here, on the server; what goes to the page is JSON in the shape
``[tag, attributes, child, ...]``, each child a string or another such list.
The page turns strings into text nodes and tags from a fixed list into
elements, so agent text never reaches it as markup: an ``<img onerror>`` in
the answer stays the text it is, even if the parser were fooled.

Links keep only absolute ``http``, ``https`` and ``mailto`` targets; anything
else (``javascript:``, ``data:``, a path on this server that would start a run)
is left as the text the agent wrote. Images are never loaded (a remote image
would tell its host the page was read): each becomes a link to its source.
Fenced code is highlighted with Pygments (which Rich already brings) into
spans of a few token classes.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.token import Comment, Generic, Keyword, Name, Number, Operator, String
from pygments.util import ClassNotFound

Node = str | list[Any]
"""A string (text) or ``[tag, attributes, *children]``."""
TokenType = type(Keyword)

SAFE_LINK = re.compile(r"(?i)^(https?|mailto):[^\s\x00-\x1f\x7f]*$")
FENCE = re.compile(r"^ {0,3}(```|~~~)")
HIGHLIGHT_LIMIT = 100_000
"""Characters of one code block above which it is shown plain: lexing it would hold the server's loop."""

HIGHLIGHT_CLASSES: list[tuple[TokenType, str]] = [
    (Comment, "c"),
    (Keyword, "k"),
    (String, "s"),
    (Number, "n"),
    (Name.Builtin, "b"),
    (Name.Function, "f"),
    (Name.Class, "f"),
    (Name.Decorator, "d"),
    (Operator.Word, "k"),
    (Generic.Inserted, "gi"),
    (Generic.Deleted, "gd"),
    (Generic.Heading, "gh"),
    (Generic.Subheading, "gh"),
]
"""Pygments token types shown in colour, and the class the page gives them; the rest is plain."""

TAGS = {
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "ul",
    "ol",
    "li",
    "em",
    "strong",
    "s",
    "code",
    "pre",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
"""Tags that markdown-it opens and closes and the page builds as they are."""


def is_safe_link(url: str) -> bool:
    """Whether a (normalized) link target may become a link: an absolute http(s) or mailto URL."""
    return bool(SAFE_LINK.match(url))


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    parser.validateLink = is_safe_link  # type: ignore[method-assign]  # an unsafe target stays text
    return parser


def render(text: str) -> list[Node]:
    """The markdown ``text`` as a list of top-level nodes."""
    root: list[Any] = ["div", {}]
    stack: list[list[Any]] = [root]
    for token in _parser().parse(text):
        if token.type == "inline":
            _inline(token.children or [], stack[-1])
        elif token.nesting == 1:
            stack.append(_open(token, stack[-1]))
        elif token.nesting == -1:
            if len(stack) > 1:
                stack.pop()
        else:
            _add(stack[-1], _leaf(token))
    return root[2:]


def settled_end(text: str) -> int:
    """Where the part of ``text`` that later text is unlikely to change ends: after its last blank line
    outside a code fence (0 if there is none). The dashboard freezes its markdown at the same places."""
    end = 0
    fenced = False
    start = 0
    while (newline := text.find("\n", start)) >= 0:
        line = text[start:newline]
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced and not line.strip():
            end = newline + 1
        start = newline + 1
    return end


def _open(token: Token, parent: list[Any]) -> list[Any]:
    """The element a block token opens, added to ``parent``; hidden paragraphs (tight lists) add none."""
    if token.hidden or token.tag not in TAGS:
        return parent
    attributes: dict[str, Any] = {}
    start = token.attrs.get("start")
    if token.tag == "ol" and isinstance(start, int):
        attributes["start"] = start
    align = str(token.attrs.get("style", "")).removeprefix("text-align:")
    if align in ("left", "center", "right"):
        attributes["align"] = align
    element: list[Any] = [token.tag, attributes]
    parent.append(element)
    return element


def _leaf(token: Token) -> Node:
    if token.type in ("fence", "code_block"):
        language = token.info.split(maxsplit=1)[0] if token.info.strip() else ""
        content = token.content.removesuffix("\n")
        code: list[Any] = ["code", {"language": language} if language else {}, *_highlight(content, language)]
        return ["pre", {}, code]
    if token.type == "hr":
        return ["hr", {}]
    return token.content  # html_block is off; anything else unknown is shown as its text


def _inline(tokens: list[Token], parent: list[Any]) -> None:
    stack = [parent]
    for token in tokens:
        if token.type == "link_open":
            href = str(token.attrs.get("href", ""))
            element: list[Any] = ["a", {"href": href}] if is_safe_link(href) else stack[-1]
            if element is not stack[-1]:
                stack[-1].append(element)
            stack.append(element)
        elif token.nesting == 1:
            element = [token.tag, {}] if token.tag in TAGS else stack[-1]
            if element is not stack[-1]:
                stack[-1].append(element)
            stack.append(element)
        elif token.nesting == -1:
            if len(stack) > 1:
                stack.pop()
        elif token.type == "code_inline":
            stack[-1].append(["code", {}, token.content])
        elif token.type == "hardbreak":
            stack[-1].append(["br", {}])
        elif token.type == "softbreak":
            _add(stack[-1], "\n")
        elif token.type == "image":
            source = str(token.attrs.get("src", ""))
            alt = "".join(child.content for child in token.children or []) or source
            _add(stack[-1], ["a", {"href": source, "image": True}, alt] if is_safe_link(source) else alt)
        else:  # text, and html_inline if it were ever on: shown as the characters they are
            _add(stack[-1], token.content)


def _add(element: list[Any], node: Node) -> None:
    """Append ``node``, joining it to a string just before it (fewer, longer text nodes)."""
    if isinstance(node, str) and len(element) > 2 and isinstance(element[-1], str):
        element[-1] += node
    elif node != "":
        element.append(node)


def _highlight(code: str, language: str) -> list[Node]:
    lexer = _lexer(language) if language and len(code) <= HIGHLIGHT_LIMIT else None
    if lexer is None:
        return [code]
    spans: list[Any] = ["code", {}]
    for kind, value in lexer.get_tokens(code):
        name = _class_of(kind)
        last = spans[-1] if len(spans) > 2 else None
        if name is None:
            _add(spans, value)
        elif isinstance(last, list) and last[1]["hl"] == name:
            last[2] += value
        else:
            spans.append(["span", {"hl": name}, value])
    return spans[2:]


@lru_cache(maxsize=64)
def _lexer(language: str) -> Lexer | None:
    try:
        return get_lexer_by_name(language, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


@lru_cache(maxsize=256)
def _class_of(kind: TokenType) -> str | None:
    for parent, name in HIGHLIGHT_CLASSES:
        if kind in parent:
            return name
    return None
