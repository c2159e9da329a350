"""Who may read, change and acknowledge a therapy plan. What a principal may not see is reported as not found.

* the therapist of the relationship, acting in the plan's practice: reads and writes it;
* the client: reads their own plan and acknowledges it, never edits it (`Forbidden`: they can see it);
* a practice admin of the plan's practice: reads it (clinical oversight), never writes it;
* anyone else (another therapist of the practice, another client, any principal of another practice):
  `NotFound`.
"""

from __future__ import annotations

import uuid
from typing import Protocol, TypeVar

from domain.shared.errors import Forbidden, NotFound
from domain.shared.principal import Principal, Role


class CareRecord(Protocol):
    """Anything that belongs to one client-therapist relationship in one practice: a plan, a note, an
    appointment."""

    @property
    def practice_id(self) -> uuid.UUID: ...

    @property
    def therapist_id(self) -> uuid.UUID: ...

    @property
    def client_id(self) -> uuid.UUID: ...


P = TypeVar("P", bound=CareRecord)


def in_practice(principal: Principal, record: CareRecord) -> bool:
    return principal.practice_id is not None and principal.practice_id == record.practice_id


def is_treating_therapist(principal: Principal, record: CareRecord) -> bool:
    return (
        principal.role is Role.THERAPIST and principal.user_id == record.therapist_id and in_practice(principal, record)
    )


def can_read_plan(principal: Principal, plan: CareRecord) -> bool:
    if principal.role is Role.CLIENT:
        return principal.user_id == plan.client_id
    if principal.role is Role.PRACTICE_ADMIN:
        return in_practice(principal, plan)
    return is_treating_therapist(principal, plan)


def can_write_plan(principal: Principal, plan: CareRecord) -> bool:
    """Also the rule for creating a plan for a relationship (pass the relationship or its appointment)."""
    return is_treating_therapist(principal, plan)


def can_acknowledge_plan(principal: Principal, plan: CareRecord) -> bool:
    return principal.role is Role.CLIENT and principal.user_id == plan.client_id


def readable_plan_or_404(principal: Principal, plan: P | None) -> P:
    if plan is None or not can_read_plan(principal, plan):
        raise NotFound("No such therapy plan.")
    return plan


def writable_plan_or_404(principal: Principal, plan: P | None) -> P:
    """`NotFound` unless readable; `Forbidden(code="plan_read_only")` for a reader who may not change it."""
    readable = readable_plan_or_404(principal, plan)
    if not can_write_plan(principal, readable):
        raise Forbidden("Only the client's therapist can change this plan.", code="plan_read_only")
    return readable


def acknowledgeable_plan_or_404(principal: Principal, plan: P | None) -> P:
    """`NotFound` unless readable; `Forbidden(code="not_plan_client")` for a reader who is not its client."""
    readable = readable_plan_or_404(principal, plan)
    if not can_acknowledge_plan(principal, readable):
        raise Forbidden("Only the plan's client acknowledges it.", code="not_plan_client")
    return readable
