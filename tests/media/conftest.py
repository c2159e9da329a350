"""Every media test runs in a private network namespace with only loopback (tests/support/netns.py)."""

from __future__ import annotations

import pytest

from tests.support import netns


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if netns.inside():
        assert netns.only_loopback(), "media tests must not see a real network interface"
        return None
    netns.rerun_in_netns(pyfuncitem.nodeid)
    return True
