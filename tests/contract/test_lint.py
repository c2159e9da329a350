"""ruff and mypy (strict for domain/) stay clean; README documents every setting."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from infra.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_ruff_is_clean():
    result = subprocess.run([str(BIN / "ruff"), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_mypy_is_clean():
    result = subprocess.run([str(BIN / "mypy")], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_readme_lists_every_setting():
    readme = (ROOT / "README.md").read_text()
    missing = []
    for name in Settings.model_fields:
        env = "DATABASE_URL" if name == "database_url" else f"HEARTH_{name.upper()}"
        if f"`{env}`" not in readme:
            missing.append(env)
    assert missing == [], f"README's configuration table lacks {missing}"
