"""Keyset paging in SQL: `WHERE (moment, id) > (:t, :id) ORDER BY moment, id LIMIT :n`. Resuming after the last
key seen (never an offset) means a row that goes away between pages neither repeats nor hides another."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from domain.shared.paging import After


def ascending_after(
    query: sa.Select[Any], moment: sa.ColumnElement[Any], ident: sa.ColumnElement[Any], after: After, limit: int | None
) -> sa.Select[Any]:
    if after is not None:
        query = query.where(sa.tuple_(moment, ident) > sa.tuple_(*after))
    query = query.order_by(moment, ident)
    return query if limit is None else query.limit(limit)
