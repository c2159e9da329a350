"""HEARTH_MATCHING_WEIGHTS: overrides by field name on top of the documented defaults, checked at start-up."""

from __future__ import annotations

import pytest

from api.bootstrap import load_settings, matching_weights
from domain.matching.scoring import DEFAULT_WEIGHTS
from domain.shared.errors import ValidationFailed


def test_overrides_replace_only_the_named_weights():
    weights = matching_weights({"specialty": 40, "horizon_days": 7.0})
    assert weights.specialty == 40 and weights.horizon_days == 7 and isinstance(weights.horizon_days, int)
    assert weights.availability == DEFAULT_WEIGHTS.availability
    assert matching_weights({}) == DEFAULT_WEIGHTS


def test_settings_read_them_from_the_environment(monkeypatch):
    monkeypatch.setenv("HEARTH_MATCHING_WEIGHTS", '{"load": 0, "gender": 12.5}')
    weights = matching_weights(load_settings().matching_weights)
    assert weights.load == 0 and weights.gender == 12.5


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"charisma": 10}, ValueError),
        ({"specialty": -1}, ValidationFailed),
        ({"horizon_days": 0}, ValidationFailed),
        ({"availability_target": 2.5}, ValidationFailed),
    ],
)
def test_bad_weights_stop_start_up(overrides, error):
    with pytest.raises(error):
        matching_weights(overrides)
