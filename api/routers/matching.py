"""The intake questionnaire, match suggestions and choices (a switch included), a practice's waiting queue with
batch assignment, and the time-to-match report."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, status

from api.deps import CurrentPrincipal, Matching
from api.pagination import Cursor, Limit, page_out, parse_time_id_cursor
from api.schemas.matching import (
    BatchOut,
    ChoiceIn,
    IntakeAnswers,
    IntakeDraftIn,
    IntakeStateOut,
    IntakeSubmitted,
    MatchOut,
    MatchRequest,
    Queue,
    QueueItem,
    TimeToMatchOut,
)
from domain.matching.ports import MatchMode

intake_router = APIRouter(prefix="/api/v1/intake", tags=["intake"])
router = APIRouter(prefix="/api/v1", tags=["matching"])

_PRACTICE_404: dict[int | str, dict[str, Any]] = {404: {"description": "No such practice (or not yours)"}}


@intake_router.get("", summary="The questionnaire and my saved draft, to resume")
async def get_intake(principal: CurrentPrincipal, matching: Matching) -> IntakeStateOut:
    return IntakeStateOut.of(await matching.intake_state(principal))


@intake_router.put("", summary="Save my draft answers and the step I am at")
async def put_intake_draft(body: IntakeDraftIn, principal: CurrentPrincipal, matching: Matching) -> IntakeStateOut:
    return IntakeStateOut.of(await matching.save_draft(principal, body.answers_doc(), body.step))


@intake_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Submit my intake",
    description="Answers are validated (`consent_required`, `invalid_residence`, `invalid_times`, ...), sealed "
    "and kept; the draft is replaced by this submission.",
)
async def submit_intake(body: IntakeAnswers, principal: CurrentPrincipal, matching: Matching) -> IntakeSubmitted:
    stored = await matching.submit(principal, body.to_domain())
    assert stored.submitted_at is not None
    return IntakeSubmitted(
        id=stored.id, questionnaire_version=stored.questionnaire_version, submitted_at=stored.submitted_at
    )


@router.post(
    "/matches",
    status_code=status.HTTP_201_CREATED,
    summary="Ask to be matched: top 3 suggestions, automatic assignment, or a practice's queue",
    description="Therapists who fail a hard rule are never suggested; the current therapist is left out (a "
    "switch). `automatic` for a client in care switches at once, as a choice does: the old care ends, its future "
    "sessions are cancelled by the policy, and the plan moves only with `transfer_records: true`. "
    "`409 intake_required` before an intake is submitted; `409 no_match` when automatic assignment finds nobody. "
    "`queue` waits for a group practice's admins to assign it: `422 practice_without_queue` for any other practice "
    "(an independent one, or a group practice without an admin).",
    responses={
        404: {"description": "`not_found`: no such practice (`queue`)"},
        409: {"description": "`intake_required`, `no_match`, `already_queued`"},
        422: {"description": "`practice_required`, `practice_without_queue` (`queue`), `validation_failed`"},
    },
)
async def request_match(body: MatchRequest, principal: CurrentPrincipal, matching: Matching) -> MatchOut:
    result = await matching.request(
        principal, MatchMode(body.mode), practice_id=body.practice_id, transfer_records=body.transfer_records
    )
    return MatchOut.of(result.record, result.suggestions)


@router.get("/matches/{match_id}", summary="One of my match requests", responses={404: {"description": "Not yours"}})
async def get_match(match_id: uuid.UUID, principal: CurrentPrincipal, matching: Matching) -> MatchOut:
    return MatchOut.of(await matching.get(principal, match_id))


@router.post(
    "/matches/{match_id}/choice",
    summary="Choose one of the suggested therapists (starts care; switches when I am in care)",
    description="Care starts with the therapist, a conversation opens with their welcome message. When the client "
    "already has a therapist, that relationship ends in the same step: future sessions are cancelled by the "
    "cancellation policy, the conversation becomes read-only, and the therapy plan moves to the new therapist "
    "only with `transfer_records: true`.",
    responses={
        404: {"description": "No such match of yours"},
        409: {"description": "`match_not_open`, `therapist_unavailable`"},
        422: {"description": "`not_suggested`"},
    },
)
async def choose_match(
    match_id: uuid.UUID, body: ChoiceIn, principal: CurrentPrincipal, matching: Matching
) -> MatchOut:
    record = await matching.choose(principal, match_id, body.therapist_id, transfer_records=body.transfer_records)
    return MatchOut.of(record)


@router.get(
    "/practices/{practice_id}/match-queue",
    summary="The practice's waiting queue",
    description="Longest waiting first.",
    responses=_PRACTICE_404,
)
async def get_queue(
    practice_id: uuid.UUID, principal: CurrentPrincipal, matching: Matching, limit: Limit = 50, cursor: Cursor = None
) -> Queue:
    page, next_cursor = page_out(
        await matching.queue(principal, practice_id, after=parse_time_id_cursor(cursor), limit=limit),
        lambda e: (e.record.created_at, e.record.id),
    )
    return Queue(items=[QueueItem.of(e) for e in page], next_cursor=next_cursor)


@router.post(
    "/practices/{practice_id}/match-queue/preview",
    summary="Preview a batch assignment of the queue (changes nothing)",
    description="The assignment with the best total score in which no therapist exceeds their room "
    "(capacity minus current caseload), and per client why.",
    responses=_PRACTICE_404,
)
async def preview_batch(practice_id: uuid.UUID, principal: CurrentPrincipal, matching: Matching) -> BatchOut:
    return BatchOut.of(await matching.batch(principal, practice_id, confirm=False))


@router.post(
    "/practices/{practice_id}/match-queue/assignments",
    status_code=status.HTTP_201_CREATED,
    summary="Assign the queue now (starts care for every assigned client)",
    description="Recomputed under lock, so it may differ from an earlier preview if the queue or caseloads changed.",
    responses=_PRACTICE_404,
)
async def confirm_batch(practice_id: uuid.UUID, principal: CurrentPrincipal, matching: Matching) -> BatchOut:
    return BatchOut.of(await matching.batch(principal, practice_id, confirm=True))


@router.get(
    "/practices/{practice_id}/time-to-match",
    summary="Time from intake to chosen therapist, for the practice's matches",
    responses=_PRACTICE_404,
)
async def time_to_match(practice_id: uuid.UUID, principal: CurrentPrincipal, matching: Matching) -> TimeToMatchOut:
    return TimeToMatchOut.of(await matching.time_to_match(principal, practice_id))
