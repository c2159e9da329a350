"""`RemoteRelay`: the MediaRelay port backed by a `hearth relay` process over its internal HTTP API."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from domain.media.relay import RelayAnswer, RelayUnavailable, RoomFull
from domain.shared.errors import ValidationFailed


class RemoteRelay:
    def __init__(
        self,
        base_url: str,
        secret: str,
        *,
        timeout: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        # Negotiation includes the relay's ICE gathering, hence a timeout in seconds rather than milliseconds.
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"authorization": f"Bearer {secret}"},
            timeout=timeout,
            transport=transport,
        )

    async def negotiate(self, room_id: str, participant_id: str, offer_sdp: str) -> RelayAnswer:
        response = await self._request(
            "POST", f"{_room(room_id)}/participants/{_id(participant_id)}/negotiate", json={"sdp": offer_sdp}
        )
        if response.status_code == 409:
            raise RoomFull(_code(response))
        if response.status_code == 422:
            raise ValidationFailed("the offer cannot be relayed", code=_code(response))
        body = _ok(response).json()
        return RelayAnswer(sdp=body["sdp"], streams={str(k): str(v) for k, v in body["streams"].items()})

    async def leave(self, room_id: str, participant_id: str) -> None:
        _ok(await self._request("DELETE", f"{_room(room_id)}/participants/{_id(participant_id)}"))

    async def close_room(self, room_id: str) -> None:
        _ok(await self._request("DELETE", _room(room_id)))

    async def participants(self, room_id: str) -> list[str]:
        response = _ok(await self._request("GET", f"{_room(room_id)}/participants"))
        return [str(p) for p in response.json()["participants"]]

    async def _request(self, method: str, url: str, json: dict[str, str] | None = None) -> httpx.Response:
        try:
            return await self._http.request(method, url, json=json)
        except httpx.TransportError as exc:
            # Callers answer a frame with it (a problem code), rather than closing the socket with 1011.
            raise RelayUnavailable("The media relay is not answering; try again shortly.") from exc

    async def close(self) -> None:
        await self._http.aclose()


def _ok(response: httpx.Response) -> httpx.Response:
    if response.is_success:
        return response
    raise RelayUnavailable(f"The media relay answered {response.status_code} ({_code(response)}).")


def _id(value: str) -> str:
    return quote(value, safe="")


def _room(room_id: str) -> str:
    return f"/rooms/{_id(room_id)}"


def _code(response: httpx.Response) -> str:
    try:
        return str(response.json()["code"])
    except (ValueError, KeyError, TypeError):
        return "relay_error"
