"""CSV cells that a spreadsheet shows as text, never runs as a formula.

Complaint texts, notes and agency names come from outside; a cell starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return is a formula to Excel and LibreOffice. Every CSV the
project writes escapes such a cell with a leading apostrophe, as the console's export does
(``routing/console/js/csv.js``). Cells that already start with apostrophes before one of those
characters get one more, so `unescape_formula` gives back exactly what was escaped.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["escape_formula", "unescape_formula"]

_ESCAPED = re.compile(r"'*[=+\-@\t\r]")


def escape_formula(value: Any) -> Any:
    """`value` with an apostrophe in front when it is a string a spreadsheet would evaluate."""
    if isinstance(value, str) and _ESCAPED.match(value):
        return "'" + value
    return value


def unescape_formula(value: Any) -> Any:
    """The value `escape_formula` was given: one leading apostrophe dropped where it added one."""
    if isinstance(value, str) and value.startswith("'") and _ESCAPED.match(value, 1):
        return value[1:]
    return value
