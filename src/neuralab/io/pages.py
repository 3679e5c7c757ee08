"""Generated blocks in Markdown pages: numbers that a command wrote, never typed by hand.

A page marks each generated part with a pair of HTML comments that Markdown does not show::

    <!-- BEGIN GENERATED RESULT (neuralab lab run dropout --docs; do not edit) -->
    ...written by the command named in the marker...
    <!-- END GENERATED RESULT -->

The command in the first marker regenerates the block from a stored result; a test renders the
block again from that stored result and fails when the page differs, so a hand-edited or stale
number cannot land.  :func:`prose` gives the hand-written rest of a page (without generated blocks
and code), in which tests look for typed numbers.

>>> text = replace_block(page_text, "RESULT", "the claim holds\\n")
"""

from __future__ import annotations

import re

_BLOCK = re.compile(
    r"<!-- BEGIN GENERATED (?P<key>[A-Z][A-Z ]*?) \((?P<command>[^)]*); do not edit\) -->\n"
    r"(?P<body>.*?)"
    r"<!-- END GENERATED (?P=key) -->",
    re.S,
)
_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.S | re.M)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)


class PageError(ValueError):
    """A page's generated-block markers are missing, repeated or malformed."""


def blocks(text: str) -> dict[str, str]:
    """The generated blocks of a page: marker key -> body (the text between the markers)."""
    found: dict[str, str] = {}
    for match in _BLOCK.finditer(text):
        key = match["key"]
        if key in found:
            raise PageError(f"the page has two generated blocks named {key!r}; keep one")
        found[key] = match["body"]
    return found


def replace_block(text: str, key: str, body: str) -> str:
    """``text`` with the body of its generated block ``key`` replaced by ``body`` (which should
    end with a newline).  The page must hold exactly one such block."""
    matches = [m for m in _BLOCK.finditer(text) if m["key"] == key]
    if len(matches) != 1:
        raise PageError(
            f"expected exactly one generated block {key!r} "
            f"(<!-- BEGIN GENERATED {key} (COMMAND; do not edit) --> ... "
            f"<!-- END GENERATED {key} -->), found {len(matches)}")
    m = matches[0]
    return text[: m.start("body")] + body + text[m.end("body"):]


def prose(text: str) -> str:
    """The hand-written part of a page: without generated blocks, fenced code blocks, inline code
    and HTML comments."""
    for pattern in (_BLOCK, _FENCE, _INLINE_CODE, _HTML_COMMENT):
        text = pattern.sub(" ", text)
    return text


#: a measured-looking number: two or more digits after the point (0.98, 1.234) or a percentage
TYPED_NUMBER = re.compile(r"(?<![\w.])\d+\.\d{2,}(?![\w.])|(?<![\w.])\d+(?:\.\d+)?\s?%")


def typed_numbers(text: str) -> list[str]:
    """Measured-looking numbers in the prose of a page (see :data:`TYPED_NUMBER`)."""
    return TYPED_NUMBER.findall(prose(text))
