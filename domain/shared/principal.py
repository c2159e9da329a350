"""Who is acting: resolved from a verified access token by the API layer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    CLIENT = "client"
    THERAPIST = "therapist"
    PRACTICE_ADMIN = "practice_admin"


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: uuid.UUID
    role: Role
    practice_id: uuid.UUID | None
    session_id: uuid.UUID | None = None
    request_id: str | None = None
