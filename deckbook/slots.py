"""Values known only after layout (page numbers, card sizes), printed by templates as *slots*.

A template calls, say, ``page("q-net-vpc")`` and the HTML holds a slot there: a kind letter and a
value between two private-use characters. `fill` replaces every slot once the values are known,
so the templates are rendered once and serve every layout pass, and a layout's inputs are plain
text that can be fingerprinted. Validation rejects the two characters anywhere in a bank.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from markupsafe import Markup

OPEN, CLOSE = "\ue000", "\ue001"
RESERVED = (OPEN, CLOSE)
_SLOT = re.compile(f"{OPEN}([A-Z])([^{OPEN}{CLOSE}]*){CLOSE}")


def slot(kind: str, value: str) -> Markup:
    """A slot of `kind` (one capital letter) holding `value` (no private-use characters)."""
    return Markup(f"{OPEN}{kind}{value}{CLOSE}")


def fill(text: str, fillers: Mapping[str, Callable[[str], str]]) -> str:
    """`text` with every slot replaced by ``fillers[kind](value)``."""
    return _SLOT.sub(lambda m: fillers[m.group(1)](m.group(2)), text)
