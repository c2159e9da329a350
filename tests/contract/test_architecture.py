"""The dependency rule (ARCHITECTURE.md) holds: import-linter's contracts pass."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


def test_the_linter_catches_a_violation(tmp_path):
    # Proves the contracts are live: a domain module importing sqlalchemy must be reported.
    bad = ROOT / "domain" / "_contract_probe.py"
    bad.write_text("import sqlalchemy  # noqa\n")
    try:
        lint = Path(sys.executable).with_name("lint-imports")
        result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode != 0
        assert "domain._contract_probe -> sqlalchemy" in result.stdout
    finally:
        bad.unlink()


def test_python_jose_is_not_installed():
    import importlib.util

    assert importlib.util.find_spec("jose") is None
