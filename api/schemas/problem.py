"""RFC 9457 problem details, the body of every error response."""

from __future__ import annotations

from pydantic import BaseModel, Field


class FieldProblem(BaseModel):
    loc: list[str | int] = Field(description="Where in the request the problem is, e.g. ['body', 'email']")
    msg: str
    type: str


class Problem(BaseModel):
    type: str = Field(default="about:blank", examples=["https://hearth.dev/problems/slot_taken"])
    title: str
    status: int
    detail: str | None = None
    code: str = Field(description="Stable machine-readable error code", examples=["not_found"])
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldProblem] | None = None
