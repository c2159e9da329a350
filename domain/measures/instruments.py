"""Versioned questionnaires: their items, answer options, severity bands and risk rules.

An instrument is identified by `(code, version)`. A scored response records both, so a later version (new
wording, new bands) never changes how an old response reads. The registry returns the newest version of a code
unless a version is asked for.

PHQ-9 and GAD-7 were developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, with
an educational grant from Pfizer Inc.; no permission is required to reproduce, translate, display or distribute
them. The item texts below are the standard English wordings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from domain.shared.errors import NotFound, quoted


class InstrumentCode(StrEnum):
    PHQ9 = "phq9"
    GAD7 = "gad7"


class Severity(StrEnum):
    MINIMAL = "minimal"
    MILD = "mild"
    MODERATE = "moderate"
    MODERATELY_SEVERE = "moderately_severe"
    SEVERE = "severe"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class RiskFlag(StrEnum):
    SUICIDAL_IDEATION = "suicidal_ideation"


@dataclass(frozen=True, slots=True)
class AnswerOption:
    value: int
    label: str


@dataclass(frozen=True, slots=True)
class Item:
    """One scored question. `key` names it in a response (`answers.<key>`); `number` is its 1-based position."""

    key: str
    number: int
    text: str


@dataclass(frozen=True, slots=True)
class SeverityBand:
    """Totals `minimum..maximum` (both inclusive) read as `severity`."""

    minimum: int
    maximum: int
    severity: Severity

    def contains(self, total: int) -> bool:
        return self.minimum <= total <= self.maximum


@dataclass(frozen=True, slots=True)
class RiskRule:
    """An answer of at least `minimum_answer` on `item_key` raises `flag`, whatever the total."""

    item_key: str
    minimum_answer: int
    flag: RiskFlag


@dataclass(frozen=True, slots=True)
class SupplementaryQuestion:
    """An optional question asked after the items and never scored (PHQ-9's functional difficulty)."""

    key: str
    text: str
    options: tuple[AnswerOption, ...]


@dataclass(frozen=True, slots=True)
class Instrument:
    code: str
    version: int
    name: str  # short display name: "PHQ-9"
    title: str
    stem: str
    items: tuple[Item, ...]
    options: tuple[AnswerOption, ...]
    bands: tuple[SeverityBand, ...]
    risk_rules: tuple[RiskRule, ...] = ()
    difficulty: SupplementaryQuestion | None = None
    attribution: str = ""

    def __post_init__(self) -> None:
        # A broken definition is a programming error, not user input: fail at import time.
        if not self.code or self.version < 1 or not self.items or not self.options:
            raise ValueError(f"instrument {self.code!r}: code, version >= 1, items and options are required")
        keys = [item.key for item in self.items]
        if len(set(keys)) != len(keys) or [item.number for item in self.items] != list(range(1, len(self.items) + 1)):
            raise ValueError(f"instrument {self.code!r}: item keys must be unique and numbered 1..n in order")
        if [option.value for option in self.options] != list(range(len(self.options))):
            raise ValueError(f"instrument {self.code!r}: option values must be 0..n-1 in order")
        expected = 0
        for band in self.bands:
            if band.minimum != expected or band.maximum < band.minimum:
                raise ValueError(f"instrument {self.code!r}: bands must be contiguous from 0")
            expected = band.maximum + 1
        if expected != self.max_total + 1:
            raise ValueError(f"instrument {self.code!r}: bands must end at the maximum total {self.max_total}")
        for rule in self.risk_rules:
            if rule.item_key not in keys or not 0 < rule.minimum_answer <= self.max_answer:
                raise ValueError(f"instrument {self.code!r}: bad risk rule {rule!r}")
        if self.difficulty is not None and self.difficulty.key in keys:
            raise ValueError(f"instrument {self.code!r}: the difficulty question's key clashes with an item")

    @property
    def max_answer(self) -> int:
        return self.options[-1].value

    @property
    def max_total(self) -> int:
        return len(self.items) * self.max_answer

    @property
    def item_keys(self) -> tuple[str, ...]:
        return tuple(item.key for item in self.items)

    def band_for(self, total: int) -> SeverityBand:
        for band in self.bands:
            if band.contains(total):
                return band
        raise ValueError(f"{total} is outside 0..{self.max_total} for {self.code}")


FREQUENCY_OPTIONS: tuple[AnswerOption, ...] = (
    AnswerOption(0, "Not at all"),
    AnswerOption(1, "Several days"),
    AnswerOption(2, "More than half the days"),
    AnswerOption(3, "Nearly every day"),
)

_ATTRIBUTION = (
    "Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, with an educational "
    "grant from Pfizer Inc. No permission required to reproduce, translate, display or distribute."
)


def _items(*texts: str) -> tuple[Item, ...]:
    return tuple(Item(key=f"q{n}", number=n, text=text) for n, text in enumerate(texts, start=1))


DIFFICULTY_QUESTION = SupplementaryQuestion(
    key="difficulty",
    text=(
        "If you checked off any problems, how difficult have these problems made it for you to do your work, "
        "take care of things at home, or get along with other people?"
    ),
    options=(
        AnswerOption(0, "Not difficult at all"),
        AnswerOption(1, "Somewhat difficult"),
        AnswerOption(2, "Very difficult"),
        AnswerOption(3, "Extremely difficult"),
    ),
)

PHQ9 = Instrument(
    code=InstrumentCode.PHQ9,
    version=1,
    name="PHQ-9",
    title="Patient Health Questionnaire (PHQ-9)",
    stem="Over the last 2 weeks, how often have you been bothered by any of the following problems?",
    items=_items(
        "Little interest or pleasure in doing things",
        "Feeling down, depressed, or hopeless",
        "Trouble falling or staying asleep, or sleeping too much",
        "Feeling tired or having little energy",
        "Poor appetite or overeating",
        "Feeling bad about yourself — or that you are a failure or have let yourself or your family down",
        "Trouble concentrating on things, such as reading the newspaper or watching television",
        "Moving or speaking so slowly that other people could have noticed? Or the opposite — being so fidgety "
        "or restless that you have been moving around a lot more than usual",
        "Thoughts that you would be better off dead or of hurting yourself in some way",
    ),
    options=FREQUENCY_OPTIONS,
    bands=(
        SeverityBand(0, 4, Severity.MINIMAL),
        SeverityBand(5, 9, Severity.MILD),
        SeverityBand(10, 14, Severity.MODERATE),
        SeverityBand(15, 19, Severity.MODERATELY_SEVERE),
        SeverityBand(20, 27, Severity.SEVERE),
    ),
    risk_rules=(RiskRule(item_key="q9", minimum_answer=1, flag=RiskFlag.SUICIDAL_IDEATION),),
    difficulty=DIFFICULTY_QUESTION,
    attribution=_ATTRIBUTION,
)

GAD7 = Instrument(
    code=InstrumentCode.GAD7,
    version=1,
    name="GAD-7",
    title="Generalized Anxiety Disorder 7-item scale (GAD-7)",
    stem="Over the last 2 weeks, how often have you been bothered by the following problems?",
    items=_items(
        "Feeling nervous, anxious, or on edge",
        "Not being able to stop or control worrying",
        "Worrying too much about different things",
        "Trouble relaxing",
        "Being so restless that it is hard to sit still",
        "Becoming easily annoyed or irritable",
        "Feeling afraid, as if something awful might happen",
    ),
    options=FREQUENCY_OPTIONS,
    bands=(
        SeverityBand(0, 4, Severity.MINIMAL),
        SeverityBand(5, 9, Severity.MILD),
        SeverityBand(10, 14, Severity.MODERATE),
        SeverityBand(15, 21, Severity.SEVERE),
    ),
    attribution=_ATTRIBUTION,
)


class InstrumentRegistry:
    """Instruments by code and version. Immutable once built."""

    __slots__ = ("_by_code",)

    def __init__(self, instruments: Iterable[Instrument]) -> None:
        by_code: dict[str, dict[int, Instrument]] = {}
        for instrument in instruments:
            versions = by_code.setdefault(str(instrument.code), {})
            if instrument.version in versions:
                raise ValueError(f"{instrument.code} version {instrument.version} is registered twice")
            versions[instrument.version] = instrument
        self._by_code: Mapping[str, Mapping[int, Instrument]] = MappingProxyType(
            {code: MappingProxyType(dict(sorted(versions.items()))) for code, versions in sorted(by_code.items())}
        )

    def get(self, code: str, version: int | None = None) -> Instrument:
        """The instrument `code` at `version` (the newest when `None`); `NotFound(code="unknown_instrument")`."""
        versions = self._by_code.get(code) if isinstance(code, str) else None
        if not versions:
            raise NotFound(f"Unknown questionnaire {quoted(code)}.", code="unknown_instrument")
        if version is None:
            return versions[max(versions)]
        instrument = versions.get(version)
        if instrument is None:
            raise NotFound(f"Questionnaire {quoted(code)} has no version {quoted(version)}.", code="unknown_instrument")
        return instrument

    def codes(self) -> tuple[str, ...]:
        return tuple(self._by_code)

    def latest(self) -> tuple[Instrument, ...]:
        """The newest version of every instrument, by code."""
        return tuple(self.get(code) for code in self._by_code)


DEFAULT_REGISTRY = InstrumentRegistry((PHQ9, GAD7))


def get_instrument(code: str, version: int | None = None) -> Instrument:
    """Look `code` up in the default registry (see `InstrumentRegistry.get`)."""
    return DEFAULT_REGISTRY.get(code, version)
