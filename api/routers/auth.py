"""Registration, login, token refresh and logout."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Cookie, Form, Request, Response, status
from pydantic import ConfigDict, Field

from api.deps import ClientAddress, Identity, OptionalPrincipal, RequestId
from api.schemas.identity import LogoutRequest, RefreshRequest, RegisterRequest, TokenResponse, UserOut
from api.schemas.types import RequestModel
from api.session_end import ring_session_end
from domain.identity.service import Me, Registration, TokenPair
from domain.shared.errors import AuthenticationFailed, SessionRevoked
from domain.shared.principal import Role

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

REFRESH_COOKIE = "hearth_refresh"
COOKIE_PATH = "/api/v1/auth"


class TokenForm(RequestModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=320, description="The account's email")
    password: str = Field(min_length=1, max_length=256)
    grant_type: str | None = Field(default=None, pattern="^password$")
    scope: str = Field(default="", max_length=200)
    # Kept although nothing reads it: API.md specifies it for the planned MFA and the SPA's login form sends it.
    totp: str | None = Field(
        default=None,
        max_length=10,
        pattern="^[0-9]{6,8}$",
        description="Reserved for two-step sign-in, which Hearth does not offer yet: accepted and ignored",
    )


def _set_refresh_cookie(request: Request, response: Response, pair: TokenPair) -> None:
    settings = request.app.state.container.settings
    response.set_cookie(
        REFRESH_COOKIE,
        pair.refresh_token,
        max_age=max(settings.staff_absolute_hours, settings.client_absolute_hours) * 3600,
        path=COOKIE_PATH,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="strict",
    )


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    summary="Create a therapist or client account",
    description="A therapist gets their own independent practice. A client joins a practice later, "
    "when they book or are matched with a therapist.",
    responses={409: {"description": "The email is already registered (`email_taken`)"}},
)
async def register(body: RegisterRequest, identity: Identity, request_id: RequestId) -> UserOut:
    user = await identity.register(
        Registration(
            email=body.email,
            password=body.password,
            role=Role(body.role),
            display_name=body.display_name,
            timezone=body.timezone,
        ),
        request_id=request_id,
    )
    return UserOut.of(Me(user=user, practice_id=user.practice_id))


@router.post(
    "/token",
    summary="Log in with email and password (OAuth2 password grant)",
    description="Returns an access token (at most 10 minutes) and a refresh token, which is also set as an "
    "httpOnly SameSite=Strict cookie for the SPA. Unknown email and wrong password get the same answer.",
    responses={401: {"description": "Wrong email or password"}, 429: {"description": "Too many failures"}},
)
async def token(
    form: Annotated[TokenForm, Form()],
    identity: Identity,
    request: Request,
    response: Response,
    address: ClientAddress,
    request_id: RequestId,
) -> TokenResponse:
    pair = await identity.login(form.username, form.password, address, request_id=request_id)
    _set_refresh_cookie(request, response, pair)
    return TokenResponse.of(pair)


@router.post(
    "/refresh",
    summary="Exchange a refresh token for a new token pair",
    description="Each refresh token works once. Presenting a spent one ends its whole login session. The idle "
    "limit runs from the user's last activity, which a refresh declares with `idle_seconds`.",
    responses={401: {"description": "The refresh token is unknown, spent or expired"}},
)
async def refresh(
    identity: Identity,
    request: Request,
    response: Response,
    request_id: RequestId,
    body: Annotated[RefreshRequest | None, Body()] = None,
    hearth_refresh: Annotated[str | None, Cookie(include_in_schema=False)] = None,
) -> TokenResponse:
    raw = (body.refresh_token if body else None) or hearth_refresh
    if not raw:
        raise AuthenticationFailed("No refresh token was sent.", code="invalid_refresh_token")
    idle_for = timedelta(seconds=body.idle_seconds) if body and body.idle_seconds is not None else None
    try:
        pair = await identity.refresh(raw, request_id=request_id, idle_for=idle_for)
    except SessionRevoked as revoked:
        # As at logout: every process refuses the session's access tokens, and its live sockets (the thief's too)
        # re-check it and close with 4401 at once.
        await ring_session_end(request, revoked.user_id)
        raise
    _set_refresh_cookie(request, response, pair)
    return TokenResponse.of(pair)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End the login session",
    description="Revokes the refresh-token family of the session (from the access token, the body or the cookie); "
    "its access tokens stop working at once.",
)
async def logout(
    request: Request,
    identity: Identity,
    principal: OptionalPrincipal,
    request_id: RequestId,
    body: Annotated[LogoutRequest | None, Body()] = None,
    hearth_refresh: Annotated[str | None, Cookie(include_in_schema=False)] = None,
) -> Response:
    raw = (body.refresh_token if body else None) or hearth_refresh
    ended_for = await identity.logout(principal=principal, refresh_token=raw, request_id=request_id)
    if ended_for is not None:
        # Every process refuses the session's access tokens; the user's live sockets re-check their session and
        # close with 4401 if it was this one.
        await ring_session_end(request, ended_for)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(REFRESH_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")
    return response
