"""Count the SQL a piece of code sends: "the page runs a bounded number of queries" (DESIGN §6)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from sqlalchemy import event
from sqlalchemy.engine import Engine


class QueryCount:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __len__(self) -> int:
        return len(self.statements)


@contextmanager
def count_queries() -> Iterator[QueryCount]:
    """Every SQL statement sent on any engine (control plane and tenant storages) meanwhile."""
    counter = QueryCount()

    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        counter.statements.append(statement)

    event.listen(Engine, "before_cursor_execute", _count)
    try:
        yield counter
    finally:
        event.remove(Engine, "before_cursor_execute", _count)
