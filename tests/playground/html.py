"""A tiny HTML reader for the view tests: elements with their attributes and text."""

from __future__ import annotations

from html.parser import HTMLParser

_VOID = {"meta", "link", "input", "br", "img", "hr"}


class Element:
    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag, self.attrs, self.text = tag, attrs, ""

    def __repr__(self) -> str:
        return f"<{self.tag} {self.attrs} {self.text[:40]!r}>"


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.open: list[Element] = []

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.elements.append(element)
        if tag not in _VOID:
            self.open.append(element)

    def handle_endtag(self, tag):
        if tag == "textarea" and self.open and self.open[-1].tag == "textarea":
            # As in browsers: one newline right after <textarea> is not part of its value.
            element = self.open[-1]
            element.text = element.text[1:] if element.text.startswith("\n") else element.text
        while self.open:
            if self.open.pop().tag == tag:
                break

    def handle_data(self, data):
        for element in self.open:
            element.text += data


def select(html: str, tag: str | None = None, **attrs: str) -> list[Element]:
    """Elements of `tag` whose attributes include `attrs` (`data_rule` means `data-rule`;
    a value of "*" only requires the attribute)."""
    reader = _Reader()
    reader.feed(html)
    wanted = {key.replace("_", "-"): value for key, value in attrs.items()}
    return [
        e
        for e in reader.elements
        if (tag is None or e.tag == tag)
        and all(k in e.attrs and (v == "*" or e.attrs[k] == v) for k, v in wanted.items())
    ]


def one(html: str, tag: str | None = None, **attrs: str) -> Element:
    found = select(html, tag, **attrs)
    assert len(found) == 1, f"expected one {tag} {attrs}, found {found}"
    return found[0]
