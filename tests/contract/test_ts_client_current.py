"""The SPA's generated client matches the committed openapi.json."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"


def test_generated_typescript_client_is_current():
    npm = shutil.which("npm")
    assert npm, "Node.js/npm is required"
    assert (FRONTEND / "node_modules").is_dir(), "run `make test` (it installs the SPA's packages)"
    result = subprocess.run([npm, "run", "--silent", "check:api"], cwd=FRONTEND, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
