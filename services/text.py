"""Rules for free text people type (names, notes, searches), shared by the services."""
from __future__ import annotations

import re

from services.errors import ValidationFailed

# C0/C1 control characters other than tab and newlines: invisible, and NUL cannot be stored in
# PostgreSQL text at all, so they are refused with a message instead of failing on write.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def refuse_control_characters(value: str | None, field: str, what: str) -> None:
    if value and _CONTROL.search(value):
        raise ValidationFailed(f"The {what} contains invisible control characters; remove them.", field)
