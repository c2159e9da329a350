"""Contract models for live sessions: the session state, the check-in, ICE servers and the call frames."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.scheduling import AppointmentStatusName, ModalityName
from api.schemas.types import RequestModel
from domain.sessions.ice import IceServer
from domain.sessions.model import CheckIn, SessionEvent
from domain.sessions.service import SessionView

MAX_SDP = 100_000

EventKindName = Literal[
    "checked_in",
    "admitted",
    "joined",
    "left",
    "modality_changed",
    "path_changed",
    "phone_status",
    "ended",
    "no_show",
    "therapist_no_show",
]
MediaPathName = Literal["p2p", "relayed"]


class EmergencyContactBody(RequestModel):
    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(min_length=8, max_length=16, description="E.164, e.g. +14155550123")


class CheckInBody(RequestModel):
    model_config = {
        "extra": "forbid",
        "json_schema_extra": {
            "examples": [
                {
                    "country": "US",
                    "region": "NY",
                    "at_home": True,
                    "emergency_contact": {"name": "Alex Client", "phone": "+12125550100"},
                    "emergency_contact_updated": False,
                    "private": True,
                }
            ]
        },
    }

    country: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2, e.g. US")
    region: str | None = Field(default=None, max_length=3, description="US state (required in the US), e.g. NY")
    at_home: bool = Field(strict=True)
    emergency_contact: EmergencyContactBody
    emergency_contact_updated: bool = Field(
        strict=True, description="False: the client confirmed the contact as shown; True: they changed it"
    )
    private: bool = Field(
        strict=True, description="True: in a private place. False: not alone - this session becomes chat only"
    )


class CheckInOut(BaseModel):
    country: str
    region: str | None
    at_home: bool
    emergency_contact: EmergencyContactBody
    emergency_contact_updated: bool
    private: bool
    submitted_at: datetime

    @classmethod
    def of(cls, c: CheckIn) -> CheckInOut:
        return cls(
            country=c.country,
            region=c.region,
            at_home=c.at_home,
            emergency_contact=EmergencyContactBody(name=c.emergency_contact.name, phone=c.emergency_contact.phone),
            emergency_contact_updated=c.emergency_contact_updated,
            private=c.private,
            submitted_at=c.submitted_at,
        )


class SessionEventOut(BaseModel):
    at: datetime
    kind: EventKindName
    actor_id: uuid.UUID | None
    modality: ModalityName | None
    detail: str | None

    @classmethod
    def of(cls, e: SessionEvent) -> SessionEventOut:
        return cls(
            at=e.at,
            kind=e.kind.value,
            actor_id=e.actor_id,
            modality=e.modality.value if e.modality else None,
            detail=e.detail,
        )


class JoinWindowOut(BaseModel):
    opens_at: datetime
    closes_at: datetime


class SessionOut(BaseModel):
    appointment_id: uuid.UUID
    status: AppointmentStatusName
    start: datetime
    end: datetime
    therapist_id: uuid.UUID
    client_id: uuid.UUID
    booked_modality: ModalityName
    modality: ModalityName = Field(description="The current modality (step-down changes it within the session)")
    media_path: MediaPathName
    require_relayed: bool = Field(description="The practice requires media through the relay")
    relay_available: bool
    window: JoinWindowOut
    you: Literal["therapist", "client"]
    polite: bool = Field(
        description="MDN perfect negotiation role: the client is polite (rolls back its offer on a collision), "
        "the therapist impolite (ignores the incoming offer)"
    )
    checked_in: bool
    waiting: bool = Field(description="The client checked in and waits to be admitted")
    admitted: bool
    auto_admit: bool
    connected: list[uuid.UUID]
    check_in: CheckInOut | None
    known_emergency_contact: EmergencyContactBody | None = Field(
        description="For the client before the check-in: the contact given last time, to confirm or update"
    )
    licence_warning: str | None = Field(description="For the therapist: not licensed where the client is today")
    ended_at: datetime | None
    events: list[SessionEventOut]

    @classmethod
    def of(cls, v: SessionView) -> SessionOut:
        a, s = v.appointment, v.session
        return cls(
            appointment_id=a.id,
            status=a.status.value,
            start=a.start,
            end=a.end,
            therapist_id=a.therapist_id,
            client_id=a.client_id,
            booked_modality=a.modality.value,
            modality=s.modality.value,
            media_path=s.media_path.value,
            require_relayed=v.require_relayed,
            relay_available=v.relay_available,
            window=JoinWindowOut(opens_at=v.window.opens, closes_at=v.window.closes),
            you="therapist" if v.viewer_role == "therapist" else "client",
            polite=v.polite,
            checked_in=s.checked_in_at is not None,
            waiting=v.waiting,
            admitted=v.admitted,
            auto_admit=s.auto_admit,
            connected=sorted(v.connected, key=str),
            check_in=CheckInOut.of(v.check_in) if v.check_in else None,
            known_emergency_contact=EmergencyContactBody(
                name=v.known_emergency_contact.name, phone=v.known_emergency_contact.phone
            )
            if v.known_emergency_contact
            else None,
            licence_warning=v.licence_warning,
            ended_at=s.ended_at,
            events=[SessionEventOut.of(e) for e in v.events],
        )


class AutoAdmit(RequestModel):
    enabled: bool = Field(strict=True)


class StepDown(RequestModel):
    modality: Literal["audio", "phone", "chat"]


class IceServerOut(BaseModel):
    urls: list[str]
    username: str | None = None
    credential: str | None = None

    @classmethod
    def of(cls, s: IceServer) -> IceServerOut:
        return cls(urls=list(s.urls), username=s.username, credential=s.credential)


class IceServers(BaseModel):
    ice_servers: list[IceServerOut] = Field(description="Pass as RTCConfiguration.iceServers")
    expires_at: datetime | None = Field(description="When the TURN credentials stop working")


class SessionSettings(RequestModel):
    require_relayed: bool = Field(strict=True, description="All live sessions of the practice use the relay")


# --- call frames over /api/v1/ws -------------------------------------------------------------------------------


class SessionJoinFrame(RequestModel):
    type: Literal["session_join"]
    appointment_id: uuid.UUID


class SessionLeaveFrame(RequestModel):
    type: Literal["session_leave"]
    appointment_id: uuid.UUID


class CallOfferFrame(RequestModel):
    type: Literal["call_offer"]
    appointment_id: uuid.UUID
    sdp: str = Field(min_length=1, max_length=MAX_SDP)


class CallAnswerFrame(RequestModel):
    type: Literal["call_answer"]
    appointment_id: uuid.UUID
    sdp: str = Field(min_length=1, max_length=MAX_SDP)


class IceCandidateFrame(RequestModel):
    type: Literal["ice_candidate"]
    appointment_id: uuid.UUID
    candidate: str = Field(max_length=2000, description="Empty: the end of candidates")
    sdp_mid: str | None = Field(default=None, max_length=64)
    sdp_mline_index: int | None = Field(default=None, ge=0, le=1000)


class RenegotiateFrame(RequestModel):
    type: Literal["renegotiate"]
    appointment_id: uuid.UUID


class ModeChangeFrame(RequestModel):
    type: Literal["mode_change"]
    appointment_id: uuid.UUID
    modality: Literal["audio", "phone", "chat"]


class PathChangeFrame(RequestModel):
    type: Literal["path_change"]
    appointment_id: uuid.UUID
    media_path: MediaPathName


class RelayOfferFrame(RequestModel):
    type: Literal["relay_offer"]
    appointment_id: uuid.UUID
    sdp: str = Field(min_length=1, max_length=MAX_SDP)


class SessionJoinedFrame(BaseModel):
    type: Literal["session_joined"] = "session_joined"
    appointment_id: uuid.UUID
    polite: bool = Field(description="Perfect-negotiation role: the client is polite, the therapist impolite")
    session: SessionOut


class SessionUpdateFrame(BaseModel):
    type: Literal["session_update"] = "session_update"
    appointment_id: uuid.UUID
    session: SessionOut


class PeerOfferFrame(BaseModel):
    type: Literal["call_offer"] = "call_offer"
    appointment_id: uuid.UUID
    from_user_id: uuid.UUID
    seq: int
    sdp: str


class PeerAnswerFrame(BaseModel):
    type: Literal["call_answer"] = "call_answer"
    appointment_id: uuid.UUID
    from_user_id: uuid.UUID
    seq: int
    sdp: str


class PeerIceCandidateFrame(BaseModel):
    type: Literal["ice_candidate"] = "ice_candidate"
    appointment_id: uuid.UUID
    from_user_id: uuid.UUID
    seq: int
    candidate: str
    sdp_mid: str | None
    sdp_mline_index: int | None


class PeerRenegotiateFrame(BaseModel):
    type: Literal["renegotiate"] = "renegotiate"
    appointment_id: uuid.UUID
    from_user_id: uuid.UUID
    seq: int
    reason: str = Field(description="peer_joined, peer_left or requested")


class RelayAnswerFrame(BaseModel):
    type: Literal["relay_answer"] = "relay_answer"
    appointment_id: uuid.UUID
    sdp: str
    streams: dict[str, uuid.UUID] = Field(description="SDP mid of each forwarded stream -> whose media it carries")


CallClientFrame = (
    SessionJoinFrame
    | SessionLeaveFrame
    | CallOfferFrame
    | CallAnswerFrame
    | IceCandidateFrame
    | RenegotiateFrame
    | ModeChangeFrame
    | PathChangeFrame
    | RelayOfferFrame
)
CallServerFrame = (
    SessionJoinedFrame
    | SessionUpdateFrame
    | PeerOfferFrame
    | PeerAnswerFrame
    | PeerIceCandidateFrame
    | PeerRenegotiateFrame
    | RelayAnswerFrame
)
