"""Document building on lxml: `with out.element(tag):` nests, `leaf` adds a text element.

Tags are written as in the schema documentation, `xa:name` for XAusländer's qualified
elements and bare names for the unqualified XInneres/XÖV children (shared/xoev/NOTES.md).

Why templates: creating ~100 lxml elements one by one costs more than validating the message.
Messages come in few shapes (which optional parts a person has), so the writer records the
shape and the texts; the tree for a shape is built once, and each message is a C-level copy
of it with its texts filled in. Templates hold structure only, never a text.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType

from lxml import etree

from intake.xaus.codes import NS

_NSMAP = {"xa": NS}  # a prefix, never the default namespace: XInneres children are unqualified
_MAX_TEMPLATES = 2048  # a bound for a long-lived worker; real traffic has a few hundred shapes
_URI, _VERSION = "listURI", "listVersionID"

# A shape is a tuple of steps: (tag, attributes) opens an element, None closes it, and a
# bare tag adds a leaf whose text comes from the message.
Step = tuple[str, tuple[tuple[str, str], ...]] | str | None


def _qualified(tag: str) -> str:
    prefix, _colon, local = tag.rpartition(":")
    return f"{{{_NSMAP[prefix]}}}{local}" if prefix else tag


class _Template:
    """The tree of one shape, with the positions of its leaves in document order."""

    __slots__ = ("leaves", "root")

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
        self.leaves = tuple(order[id(node)] for node in leaf_nodes)

    def fill(self, texts: list[str]) -> etree._Element:
        copy = self.root.__copy__()  # lxml copies the whole subtree in C
        nodes = list(copy.iter())
        for index, text in zip(self.leaves, texts, strict=True):
            nodes[index].text = text  # lxml escapes, and refuses what XML cannot hold
        return copy


_TEMPLATES: dict[tuple[Step, ...], _Template] = {}


class Writer:
    """Records one document; `result()` gives its lxml tree."""

    __slots__ = ("_shape", "_texts", "codes")

    def __init__(self) -> None:
        self._shape: list[Step] = []
        self._texts: list[str] = []
        # (listURI, listVersionID, code) of every code element, for the builder's own checks.
        self.codes: list[tuple[str | None, str | None, str]] = []

    @property
    def texts(self) -> list[str]:
        return self._texts

    def element(self, tag: str, attrs: Mapping[str, str] | None = None) -> Writer:
        """Open an element (attributes in the given order); the `with` block's end closes it."""
        self._shape.append((tag, tuple(attrs.items()) if attrs else ()))
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

    def leaf(self, tag: str, text: str) -> None:
        """Add `<tag>text</tag>` to the open element."""
        self._shape.append(tag)
        self._texts.append(text)

    def code(self, tag: str, uri: str, version: str, value: str) -> None:
        """Add an XÖV code element: `<tag listURI listVersionID><code>value</code></tag>`."""
        # Written in one step: a message has a dozen codes, and this is the hot path.
        self._shape.extend((((tag, ((_URI, uri), (_VERSION, version)))), "code", None))
        self._texts.append(value)
        self.codes.append((uri, version, value))

    def result(self) -> etree._Element:
        """The document's root element (a fresh tree, the caller's to keep)."""
        shape = tuple(self._shape)
        template = _TEMPLATES.get(shape)
        if template is None:
            if len(_TEMPLATES) >= _MAX_TEMPLATES:
                _TEMPLATES.clear()
            template = _TEMPLATES[shape] = _Template(shape)
        return template.fill(self._texts)


def serialize(root: etree._Element) -> bytes:
    """A message as indented UTF-8 with an XML declaration."""
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
