"""JSON forms of the values billing seals: a charge's coding and a client's claim record."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from domain.billing.coding import Coding, CodingBasis, CodingField, CodingOverride


def coding_to_dict(coding: Coding) -> dict[str, Any]:
    return {
        "cpt": coding.cpt,
        "modifier": coding.modifier,
        "place_of_service": coding.place_of_service,
        "diagnoses": list(coding.diagnoses),
        "basis": coding.basis.value,
        "psychotherapy_minutes": coding.psychotherapy_minutes,
        "chat_minutes": coding.chat_minutes,
        "overrides": [
            {
                "field": o.field.value,
                "previous": o.previous,
                "new": o.new,
                "reason": o.reason,
                "by": str(o.by),
                "at": o.at.isoformat(),
            }
            for o in coding.overrides
        ],
    }


def coding_from_dict(doc: dict[str, Any]) -> Coding:
    return Coding(
        cpt=doc["cpt"],
        modifier=doc["modifier"],
        place_of_service=doc["place_of_service"],
        diagnoses=tuple(doc["diagnoses"]),
        basis=CodingBasis(doc["basis"]),
        psychotherapy_minutes=int(doc["psychotherapy_minutes"]),
        chat_minutes=int(doc["chat_minutes"]),
        overrides=tuple(
            CodingOverride(
                field=CodingField(o["field"]),
                previous=o["previous"],
                new=o["new"],
                reason=o["reason"],
                by=uuid.UUID(o["by"]),
                at=datetime.fromisoformat(o["at"]),
            )
            for o in doc["overrides"]
        ),
    )


def claim_to_dict(diagnoses: tuple[str, ...], date_of_birth: date | None) -> dict[str, Any]:
    return {"diagnoses": list(diagnoses), "date_of_birth": date_of_birth.isoformat() if date_of_birth else None}


def claim_from_dict(doc: dict[str, Any]) -> tuple[tuple[str, ...], date | None]:
    born = doc.get("date_of_birth")
    return tuple(doc.get("diagnoses", ())), date.fromisoformat(born) if born else None
