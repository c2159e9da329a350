"""A page of a list read in keyset order: repositories read one row more than the page to learn whether another
page follows, so no list is ever read whole to answer one page."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

T = TypeVar("T")

# The last (moment, id) the caller has seen; the next page starts strictly after it.
After = tuple[datetime, uuid.UUID] | None


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    more: bool  # another page follows the last item

    @classmethod
    def of(cls, rows: Sequence[T], limit: int) -> Page[T]:
        """`rows` as read with `limit + 1`: the extra row only tells that more follow."""
        return cls(list(rows[:limit]), len(rows) > limit)
