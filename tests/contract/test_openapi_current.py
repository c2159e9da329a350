"""The committed openapi.json is exactly what the app produces."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _generated() -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "api.cli", "openapi"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out)


def test_openapi_json_is_current():
    committed = json.loads((ROOT / "openapi.json").read_text())
    assert committed == _generated(), "openapi.json is stale: run `make openapi` and commit it"


def test_contract_conventions():
    spec = _generated()
    assert spec["openapi"].startswith("3.1")
    seen = set()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            tag = op["tags"][0]
            assert op["operationId"].startswith(f"{tag}-"), op["operationId"]
            assert op["operationId"] not in seen
            seen.add(op["operationId"])
            assert op.get("summary"), (method, path)
            for status, response in op["responses"].items():
                if int(status) >= 400 and status != "503":
                    assert "application/problem+json" in response["content"], (method, path, status)
    assert "Problem" in spec["components"]["schemas"]


def test_server_frames_require_every_field_they_always_carry():
    """A server frame is sent whole (its `type`, and null for an unset optional field): the contract says so, or
    clients generated from it get an optional `type` to tell frames apart by."""
    from typing import get_args

    from api.schemas.messaging import AckFrame, ErrorFrame, ServerFrame

    schemas = _generated()["components"]["schemas"]
    for model in get_args(ServerFrame):
        schema = schemas[model.__name__]
        assert set(schema.get("required", [])) == set(schema["properties"]), model.__name__
    sent = ErrorFrame(code="not_found", detail="No such conversation.").model_dump(mode="json")
    assert set(sent) == set(schemas["ErrorFrame"]["required"])
    assert "type" in schemas[AckFrame.__name__]["required"]
