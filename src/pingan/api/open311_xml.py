"""Open311's XML: the spec's element names, built with ElementTree so every value is escaped.

The JSON and XML forms are one mapping (the spec's "Spark convention"): a list of dicts becomes a
container element with one child per item, named by `ITEM_NAMES`; None becomes an empty element;
booleans are `true`/`false`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'

ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
}

# Characters XML 1.0 cannot carry even escaped; user text could contain them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _fill(ET.SubElement(element, key), inner)
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        child_name = ITEM_NAMES.get(element.tag, "item")
        for item in value:
            _fill(ET.SubElement(element, child_name), item)
    else:
        element.text = _text(value)


def render(root: str, value: Any) -> bytes:
    """`<root>` holding `value`: a list (one child per item) or a mapping (one child per key)."""
    element = ET.Element(root)
    _fill(element, value)
    return DECLARATION + ET.tostring(element, encoding="unicode").encode("utf-8")
