"""Recurring series of appointments."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import Response

from api.deps import Container_, CurrentPrincipal, Series_
from api.idempotency import IdempotencyKey, run_idempotent
from api.schemas.scheduling import AppointmentOut, CreateSeries, OccurrenceOut, SeriesOut
from domain.scheduling.model import Modality
from domain.scheduling.recurrence import Frequency, RecurrenceRule
from domain.scheduling.series_service import SeriesRequest, SeriesResult

router = APIRouter(prefix="/api/v1/appointment-series", tags=["series"])


def series_out(result: SeriesResult) -> SeriesOut:
    s = result.series
    return SeriesOut(
        id=s.id,
        therapist_id=s.therapist_id,
        client_id=s.client_id,
        timezone=s.timezone,
        frequency=s.rule.frequency.value,
        occurrences=[
            OccurrenceOut(
                index=o.index,
                start=o.start,
                status="booked" if o.appointment else "conflict",
                appointment=AppointmentOut.of(o.appointment) if o.appointment else None,
                problem_code=o.problem.code if o.problem else None,
                problem_detail=(o.problem.detail or None) if o.problem else None,
            )
            for o in result.occurrences
        ],
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Book a weekly or fortnightly series",
    description="Every occurrence keeps the first one's local time across DST. Each occurrence is booked on "
    "its own: the answer lists, per date, the appointment or the conflict. When none can be booked the whole "
    "request fails with the first occurrence's problem. With an `Idempotency-Key` a retry (after a lost answer) "
    "returns the first answer instead of booking the series again.",
    responses={
        201: {"model": SeriesOut},
        404: {"description": "No such therapist or client"},
        409: {"description": "`slot_taken`, `policy_changed`, or `idempotency_in_progress`"},
    },
    response_model=SeriesOut,
)
async def create_series(
    body: CreateSeries,
    principal: CurrentPrincipal,
    series: Series_,
    container: Container_,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    async def create() -> SeriesOut:
        result = await series.create(
            principal,
            SeriesRequest(
                therapist_id=body.therapist_id,
                first_start=body.start,
                duration_minutes=body.duration_minutes,
                modality=Modality(body.modality),
                rule=RecurrenceRule(Frequency(body.frequency), count=body.count, until=body.until),
                client_id=body.client_id,
                policy_version=body.policy_version,
            ),
        )
        return series_out(result)

    return await run_idempotent(
        request,
        container.idempotency,
        container.clock.now(),
        principal,
        idempotency_key,
        "series-create-series",
        body,
        status.HTTP_201_CREATED,
        create,
    )
