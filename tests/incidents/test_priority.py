"""The priority matrix as the service desk sees it: who gets helped first."""

from __future__ import annotations

import json

import pytest

from portal.incidents.priority import (
    DEFAULT_MATRIX,
    LEVELS,
    PRIORITIES,
    matrix_from_json,
    matrix_to_json,
    priority,
)

PRODUCT_TABLE = {
    # impact: (urgency high, medium, low), as printed in PRODUCT.md
    "high": ("P1", "P2", "P3"),
    "medium": ("P2", "P3", "P4"),
    "low": ("P3", "P4", "P5"),
}


@pytest.mark.parametrize(
    ("impact", "urgency", "expected"),
    [
        (impact, urgency, PRODUCT_TABLE[impact][column])
        for impact in LEVELS
        for column, urgency in enumerate(LEVELS)
    ],
)
def test_default_matrix_matches_the_product_table(impact: str, urgency: str, expected: str) -> None:
    assert priority(impact, urgency) == expected


def test_default_matrix_has_every_cell_and_only_known_priorities() -> None:
    assert set(DEFAULT_MATRIX) == {(i, u) for i in LEVELS for u in LEVELS}
    assert set(DEFAULT_MATRIX.values()) == set(PRIORITIES)


def test_an_outage_for_everyone_that_blocks_work_is_p1_and_one_persons_wish_is_p5() -> None:
    assert priority("high", "high") == "P1"
    assert priority("low", "low") == "P5"


def test_impact_weighs_the_same_as_urgency_by_default() -> None:
    for a in LEVELS:
        for b in LEVELS:
            assert priority(a, b) == priority(b, a)


def test_an_admin_matrix_replaces_the_default() -> None:
    stricter = dict(DEFAULT_MATRIX) | {("medium", "high"): "P1", ("low", "low"): "P4"}

    assert priority("medium", "high", stricter) == "P1"
    assert priority("low", "low", stricter) == "P4"
    assert priority("high", "low", stricter) == "P3"
    assert priority("medium", "high") == "P2"  # the default is untouched


@pytest.mark.parametrize(
    ("impact", "urgency", "message"),
    [
        ("critical", "high", "unknown impact 'critical'; expected one of high, medium, low"),
        ("high", "urgent", "unknown urgency 'urgent'"),
        ("High", "high", "unknown impact 'High'"),
        ("", "low", "unknown impact ''"),
        (None, "low", "unknown impact None"),
    ],
)
def test_an_unknown_level_is_refused_with_a_readable_message(
    impact: str, urgency: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        priority(impact, urgency)


def test_a_matrix_with_a_gap_says_which_cell_is_missing() -> None:
    gappy = {key: value for key, value in DEFAULT_MATRIX.items() if key != ("low", "medium")}

    with pytest.raises(ValueError, match="no cell for impact 'low' and urgency 'medium'"):
        priority("low", "medium", gappy)


def test_the_json_form_round_trips() -> None:
    data = matrix_to_json(DEFAULT_MATRIX)

    assert data == {
        "high": {"high": "P1", "medium": "P2", "low": "P3"},
        "medium": {"high": "P2", "medium": "P3", "low": "P4"},
        "low": {"high": "P3", "medium": "P4", "low": "P5"},
    }
    assert matrix_from_json(json.loads(json.dumps(data))) == DEFAULT_MATRIX


def test_a_matrix_read_from_json_drives_priority() -> None:
    data = matrix_to_json(DEFAULT_MATRIX)
    data["low"]["high"] = "P2"

    assert priority("low", "high", matrix_from_json(data)) == "P2"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["medium"].pop("low"), "missing cell impact 'medium', urgency 'low'"),
        (lambda d: d.pop("low"), "missing row for impact 'low'"),
        (lambda d: d.update(low="P5"), "missing row for impact 'low'"),
        (lambda d: d["high"].update(high="P0"), r"impact 'high', urgency 'high': 'P0' is not one"),
        (lambda d: d["high"].update(high="p1"), "'p1' is not one of P1, P2, P3, P4, P5"),
        (lambda d: d["high"].update(high=1), "1 is not one of"),
        (lambda d: d.update(critical={}), "unknown impact 'critical'"),
        (lambda d: d["low"].update(urgent="P1"), "unknown urgency 'urgent' for impact 'low'"),
    ],
)
def test_json_with_a_mistake_is_refused(change, message: str) -> None:
    data = matrix_to_json(DEFAULT_MATRIX)
    change(data)

    with pytest.raises(ValueError, match=message):
        matrix_from_json(data)


def test_every_mistake_is_reported_at_once() -> None:
    data = matrix_to_json(DEFAULT_MATRIX)
    data["high"]["high"] = "P9"
    del data["low"]["low"]

    with pytest.raises(ValueError) as excinfo:
        matrix_from_json(data)

    assert "'P9'" in str(excinfo.value)
    assert "missing cell impact 'low', urgency 'low'" in str(excinfo.value)


@pytest.mark.parametrize("data", [[], "P1", None])
def test_json_that_is_not_an_object_is_refused(data) -> None:
    with pytest.raises(ValueError, match="expected an object of impact rows"):
        matrix_from_json(data)


def test_an_incomplete_or_invalid_matrix_is_never_written() -> None:
    gappy = {key: value for key, value in DEFAULT_MATRIX.items() if key != ("high", "low")}
    with pytest.raises(ValueError, match="missing cell impact 'high', urgency 'low'"):
        matrix_to_json(gappy)

    with pytest.raises(ValueError, match="'P7' is not one of"):
        matrix_to_json(DEFAULT_MATRIX | {("low", "low"): "P7"})

    with pytest.raises(ValueError, match="unknown cells"):
        matrix_to_json(DEFAULT_MATRIX | {("urgent", "high"): "P1"})
