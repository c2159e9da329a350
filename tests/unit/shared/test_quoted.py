"""A domain error quotes at most a short prefix of the value it rejects."""

from __future__ import annotations

import pytest

from domain.billing.money import check_currency
from domain.scheduling.model import validate_profile
from domain.shared.errors import ValidationFailed, quoted
from tests.unit.scheduling.test_model import profile


def test_short_values_are_quoted_whole() -> None:
    assert quoted("US-NY") == "'US-NY'"
    assert quoted(7) == "7"


def test_long_values_are_cut_and_sized() -> None:
    text = quoted("x" * 900_000)
    assert text.startswith("'xxxx") and text.endswith("… (900000 characters)")
    assert len(text) < 80


@pytest.mark.parametrize(
    "reject",
    [
        lambda huge: validate_profile(profile(licenses=(huge,))),
        lambda huge: validate_profile(profile(languages=(huge,))),
        lambda huge: check_currency(huge),
    ],
)
def test_domain_errors_do_not_echo_a_huge_value(reject) -> None:
    with pytest.raises(ValidationFailed) as err:
        reject("q" * 100_000)
    assert len(err.value.detail) < 200
