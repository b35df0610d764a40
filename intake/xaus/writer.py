"""Document building on lxml: `with out.element(tag):` nests, `leaf` adds a text element.

Tags are written as in the schema documentation, `xa:name` for XAusländer's qualified
elements and bare names for the unqualified XInneres/XÖV children (shared/xoev/NOTES.md).

Why templates: creating ~100 lxml elements one by one costs more than validating the message.
Messages come in few shapes (which optional parts a person has), so the writer records the
shape and the texts; the tree for a shape is built once. `result()` gives a C-level copy of it
with the message's texts; `render()` fills the template's own tree in place, checks and
serializes it, and gives only the bytes, so no tree is made per message at all. Every leaf's
text is set for every message, so nothing of an earlier message survives in either.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import NamedTuple

from lxml import etree

from intake.xaus.codes import NS

_NSMAP = {"xa": NS}  # a prefix, never the default namespace: XInneres children are unqualified
_MAX_TEMPLATES = 2048  # a bound for a long-lived worker; real traffic has a few hundred shapes

Attributes = tuple[tuple[str, str], ...]
# A shape is a tuple of steps: (tag, attributes) opens an element, None closes it, and a
# bare tag adds a leaf whose text comes from the message.
Step = tuple[str, Attributes] | str | None


class Segment(NamedTuple):
    """Recorded steps and their texts, to splice into documents (a code element, a header)."""

    shape: tuple[Step, ...]
    texts: tuple[str, ...]


def _qualified(tag: str) -> str:
    prefix, _colon, local = tag.rpartition(":")
    return f"{{{_NSMAP[prefix]}}}{local}" if prefix else tag


class _Template:
    """The tree of one shape, with its leaves (in document order) to fill."""

    __slots__ = ("leaves", "lock", "nodes", "pristine", "root")

    def __init__(self, shape: tuple[Step, ...]) -> None:
        root: etree._Element | None = None
        stack: list[etree._Element] = []
        leaf_nodes: list[etree._Element] = []
        for step in shape:
            if step is None:
                stack.pop()
            elif isinstance(step, str):
                leaf_nodes.append(etree.SubElement(stack[-1], _qualified(step)))
            else:
                tag, attrs = step
                node = (
                    etree.SubElement(stack[-1], _qualified(tag), dict(attrs))
                    if stack
                    else etree.Element(_qualified(tag), dict(attrs), nsmap=_NSMAP)
                )
                root = root if stack else node
                stack.append(node)
        if root is None or stack:
            raise RuntimeError("a message needs one root element, closed")
        order = {id(node): index for index, node in enumerate(root.iter())}
        self.root = root
        self.nodes = tuple(leaf_nodes)  # the template's own leaves, for render()
        self.leaves = tuple(order[id(node)] for node in leaf_nodes)  # positions, for copies
        self.lock = threading.Lock()  # the own tree serves one message at a time
        # Copies are made from a tree no thread ever changes: copying the own tree while
        # another thread fills or validates it crashed the process (lxml is not safe there).
        self.pristine = root.__copy__()

    def fill(self, texts: list[str]) -> etree._Element:
        """A fresh copy of the tree with the texts in its leaves."""
        copy = self.pristine.__copy__()  # lxml copies the whole subtree in C
        nodes = list(copy.iter())
        for index, text in zip(self.leaves, texts, strict=True):
            nodes[index].text = text  # lxml escapes, and refuses what XML cannot hold
        return copy


_TEMPLATES: dict[tuple[Step, ...], _Template] = {}


class Writer:
    """Records one document; `result()` gives its lxml tree, `render()` its checked bytes."""

    __slots__ = ("_fresh", "_shape", "_texts")

    def __init__(self) -> None:
        self._shape: list[Step] = []
        self._texts: list[str] = []
        # (tag, text) of the leaves added here, not spliced: a segment's texts were checked
        # when it was recorded (codes, the header), and are not asked again per message.
        self._fresh: list[tuple[str, str]] = []

    @property
    def texts(self) -> list[str]:
        return self._texts

    def leaves(self) -> list[tuple[str, str]]:
        """(tag, text) of every leaf added by `leaf`, in document order; spliced segments'
        leaves are checked when the segment is recorded (see `segment`)."""
        return self._fresh

    def element(self, tag: str, attrs: Attributes = ()) -> Writer:
        """Open an element (attributes in the given order); the `with` block's end closes it."""
        self._shape.append((tag, attrs))
        return self

    def __enter__(self) -> Writer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._shape.append(None)

    def leaf(self, tag: str, text: str, *, within: str = "") -> None:
        """Add `<tag>text</tag>` to the open element, inside `<within>` when that is given."""
        if within:  # one call instead of a `with` block: names and dates are the hot path
            self._shape.extend(((within, ()), tag, None))
        else:
            self._shape.append(tag)
        self._texts.append(text)
        self._fresh.append((tag, text))

    def code(self, tag: str, uri: str, version: str, code: str, name: str | None = None) -> None:
        """Add an XÖV code element: `<tag listURI listVersionID><code/><name/></tag>`."""
        with self.element(tag, (("listURI", uri), ("listVersionID", version))):
            self.leaf("code", code)
            if name:
                self.leaf("name", name)

    def splice(self, segment: Segment) -> None:
        """Add what another writer recorded (see `segment()`) to the open element."""
        self._shape.extend(segment.shape)
        self._texts.extend(segment.texts)

    def segment(self) -> Segment:
        """What this writer recorded, to splice into other documents."""
        return Segment(tuple(self._shape), tuple(self._texts))

    def result(self) -> etree._Element:
        """The document's root element (a fresh tree, the caller's to keep)."""
        return self._template().fill(self._texts)

    def render(self, check: Callable[[etree._Element], None]) -> bytes:
        """The document, after `check(root)`, as `serialize()` gives it, without a tree of its own.

        The shape's template tree is filled in place, so `check` must not keep the element.
        A template busy in another thread is not waited for: that message gets a copy.
        """
        template = self._template()
        if not template.lock.acquire(blocking=False):
            return _checked(template.fill(self._texts), check)
        try:
            for node, text in zip(template.nodes, self._texts, strict=True):
                node.text = text
            return _checked(template.root, check)
        finally:
            template.lock.release()

    def _template(self) -> _Template:
        shape = tuple(self._shape)
        template = _TEMPLATES.get(shape)
        if template is None:
            if len(_TEMPLATES) >= _MAX_TEMPLATES:
                _TEMPLATES.clear()
            template = _TEMPLATES[shape] = _Template(shape)
        return template


def _checked(root: etree._Element, check: Callable[[etree._Element], None]) -> bytes:
    check(root)
    return serialize(root)


def serialize(root: etree._Element) -> bytes:
    """A message as indented UTF-8 with an XML declaration."""
    serialized: bytes = etree.tostring(
        root, xml_declaration=True, encoding="UTF-8", pretty_print=True
    )
    return serialized
