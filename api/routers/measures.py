"""Questionnaires (PHQ-9, GAD-7): assignment, completion, scores, trends and safety alerts."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from api.deps import Container_, CurrentPrincipal, Measures
from api.pagination import Cursor, Limit, page_out, parse_time_id_cursor
from api.schemas.measures import (
    AlertOut,
    Alerts,
    AssignMeasure,
    AssignmentOut,
    Assignments,
    CrisisResourceOut,
    CrisisResourcesIO,
    CrisisResourcesOut,
    InstrumentName,
    InstrumentOut,
    Instruments,
    ScoreOut,
    Scores,
    SubmitResponse,
    SubmittedOut,
    TrendOut,
)
from domain.measures.instruments import DEFAULT_REGISTRY
from domain.measures.service import AssignRequest

router = APIRouter(prefix="/api/v1", tags=["measures"])
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such client, assignment or alert"}}


@router.get("/instruments", summary="The questionnaires Hearth can send")
async def list_instruments(principal: CurrentPrincipal) -> Instruments:
    return Instruments(items=[InstrumentOut.of(i) for i in DEFAULT_REGISTRY.latest()])


@router.post(
    "/clients/{client_id}/measures",
    status_code=status.HTTP_201_CREATED,
    summary="Assign a questionnaire to a client (once, before every session, or every N days)",
    responses=_NOT_FOUND,
)
async def assign_measure(
    client_id: uuid.UUID, body: AssignMeasure, principal: CurrentPrincipal, measures: Measures, container: Container_
) -> AssignmentOut:
    assignment, due = await measures.assign(
        principal,
        AssignRequest(
            client_id=client_id,
            instrument_code=body.instrument,
            frequency=body.frequency,
            starts_at=body.starts_at,
            interval_days=body.interval_days,
            lead_hours=body.lead_hours,
        ),
    )
    return AssignmentOut.of(assignment, due, container.clock.now())


@router.get("/clients/{client_id}/measures", summary="A client's questionnaires and what is due", responses=_NOT_FOUND)
async def list_measures(
    client_id: uuid.UUID,
    principal: CurrentPrincipal,
    measures: Measures,
    container: Container_,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Assignments:
    now = container.clock.now()
    page, next_cursor = page_out(
        await measures.assignments(principal, client_id, after=parse_time_id_cursor(cursor), limit=limit),
        lambda ad: (ad[0].created_at, ad[0].id),
    )
    return Assignments(items=[AssignmentOut.of(a, due, now) for a, due in page], next_cursor=next_cursor)


@router.post("/measure-assignments/{assignment_id}/end", summary="Stop sending a questionnaire", responses=_NOT_FOUND)
async def end_measure(
    assignment_id: uuid.UUID, principal: CurrentPrincipal, measures: Measures, container: Container_
) -> AssignmentOut:
    return AssignmentOut.of(await measures.end(principal, assignment_id), None, container.clock.now())


@router.post(
    "/measure-assignments/{assignment_id}/responses",
    status_code=status.HTTP_201_CREATED,
    summary="Answer a questionnaire",
    description="Every item must be answered (0-3); an incomplete form is `422 incomplete_response`. A positive "
    "answer on PHQ-9 item 9 alerts the therapist at once and returns crisis resources. A questionnaire already "
    "answered for this round is `409 already_completed`.",
    responses={**_NOT_FOUND, 409: {"description": "`already_completed`"}},
)
async def submit_response(
    assignment_id: uuid.UUID, body: SubmitResponse, principal: CurrentPrincipal, measures: Measures
) -> SubmittedOut:
    result = await measures.submit(principal, assignment_id, body.answers, body.difficulty)
    return SubmittedOut(
        **ScoreOut.of(result.response).model_dump(),
        crisis_resources=[CrisisResourceOut.of(r) for r in result.crisis_resources],
    )


@router.get(
    "/clients/{client_id}/measure-responses",
    summary="A client's scored questionnaires",
    description="Oldest first.",
    responses=_NOT_FOUND,
)
async def list_responses(
    client_id: uuid.UUID, principal: CurrentPrincipal, measures: Measures, limit: Limit = 50, cursor: Cursor = None
) -> Scores:
    page, next_cursor = page_out(
        await measures.responses(principal, client_id, after=parse_time_id_cursor(cursor), limit=limit),
        lambda r: (r.completed_at, r.id),
    )
    return Scores(items=[ScoreOut.of(r) for r in page], next_cursor=next_cursor)


@router.get("/clients/{client_id}/measures/{instrument}/trend", summary="Scores over time", responses=_NOT_FOUND)
async def get_trend(
    client_id: uuid.UUID,
    instrument: InstrumentName,
    principal: CurrentPrincipal,
    measures: Measures,
    cutoff: Annotated[int, Query(ge=0, le=100)] = 10,
) -> TrendOut:
    return TrendOut.of(await measures.trend(principal, client_id, instrument, cutoff))


@router.get("/safety-alerts", summary="My open safety alerts (therapists)", description="Oldest first.")
async def list_alerts(
    principal: CurrentPrincipal, measures: Measures, limit: Limit = 50, cursor: Cursor = None
) -> Alerts:
    page, next_cursor = page_out(
        await measures.open_alerts(principal, after=parse_time_id_cursor(cursor), limit=limit),
        lambda a: (a.created_at, a.id),
    )
    return Alerts(items=[AlertOut.of(a) for a in page], next_cursor=next_cursor)


@router.post("/safety-alerts/{alert_id}/acknowledge", summary="Acknowledge a safety alert", responses=_NOT_FOUND)
async def acknowledge_alert(alert_id: uuid.UUID, principal: CurrentPrincipal, measures: Measures) -> AlertOut:
    return AlertOut.of(await measures.acknowledge(principal, alert_id))


@router.get("/practices/me/crisis-resources", summary="Crisis resources shown to my practice's clients")
async def get_crisis_resources(principal: CurrentPrincipal, measures: Measures) -> CrisisResourcesOut:
    return CrisisResourcesOut(
        items=[CrisisResourceOut.of(r) for r in await measures.practice_crisis_resources(principal)]
    )


@router.put("/practices/me/crisis-resources", summary="Set my practice's crisis resources", responses=_NOT_FOUND)
async def put_crisis_resources(
    body: CrisisResourcesIO, principal: CurrentPrincipal, measures: Measures
) -> CrisisResourcesOut:
    resources = await measures.set_practice_crisis_resources(principal, [i.to_domain() for i in body.items])
    return CrisisResourcesOut(items=[CrisisResourceOut.of(r) for r in resources])
