"""iCalendar feeds: a secret address per user for their calendar app."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request, Response, status

from api.calendar_ics import render_feed
from api.deps import Calendar, CurrentPrincipal
from api.schemas.scheduling import CalendarFeedOut

router = APIRouter(prefix="/api/v1", tags=["calendar"])


@router.post(
    "/calendar-feeds",
    status_code=status.HTTP_201_CREATED,
    summary="Create my calendar feed address",
    description="Returns a new secret address; any earlier one stops working.",
)
async def create_feed(principal: CurrentPrincipal, calendar: Calendar, request: Request) -> CalendarFeedOut:
    token = await calendar.new_feed(principal)
    base = request.app.state.container.settings.public_url.rstrip("/")
    return CalendarFeedOut(url=f"{base}/api/v1/calendar/{token}.ics", token=token)


@router.delete("/calendar-feeds", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke my calendar feed address")
async def revoke_feed(principal: CurrentPrincipal, calendar: Calendar) -> Response:
    await calendar.revoke(principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/calendar/{token}.ics",
    summary="A calendar feed (iCalendar)",
    description="No login: the address itself is the secret. Titles carry no names or clinical words.",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}, 404: {"description": "Unknown or revoked address"}},
)
async def read_feed(
    calendar: Calendar, token: str = Path(min_length=20, max_length=100, pattern="^[A-Za-z0-9_-]+$")
) -> Response:
    feed = await calendar.feed(token)
    return Response(render_feed(feed), media_type="text/calendar; charset=utf-8")
