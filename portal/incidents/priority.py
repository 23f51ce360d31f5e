"""The priority matrix: impact and urgency give a priority, in one function admins can re-map."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LEVELS = ("high", "medium", "low")
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")

Matrix = Mapping[tuple[str, str], str]

DEFAULT_MATRIX: dict[tuple[str, str], str] = {
    ("high", "high"): "P1",
    ("high", "medium"): "P2",
    ("high", "low"): "P3",
    ("medium", "high"): "P2",
    ("medium", "medium"): "P3",
    ("medium", "low"): "P4",
    ("low", "high"): "P3",
    ("low", "medium"): "P4",
    ("low", "low"): "P5",
}


def priority(impact: str, urgency: str, matrix: Matrix | None = None) -> str:
    """Rank an incident by impact and urgency, so every agent orders the queue the same way."""
    for name, level in (("impact", impact), ("urgency", urgency)):
        if level not in LEVELS:
            raise ValueError(f"unknown {name} {level!r}; expected one of {', '.join(LEVELS)}")
    table = DEFAULT_MATRIX if matrix is None else matrix
    try:
        return table[(impact, urgency)]
    except KeyError:
        raise ValueError(
            f"the priority matrix has no cell for impact {impact!r} and urgency {urgency!r}"
        ) from None


def matrix_from_json(data: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    """Read an admin's matrix ({impact: {urgency: priority}}), refusing gaps and typos."""
    if not isinstance(data, Mapping):
        raise ValueError("invalid priority matrix: expected an object of impact rows")
    problems = [f"unknown impact {key!r}" for key in data if key not in LEVELS]
    matrix: dict[tuple[str, str], str] = {}
    for impact in LEVELS:
        row = data.get(impact)
        if not isinstance(row, Mapping):
            problems.append(f"missing row for impact {impact!r}")
            continue
        problems += [
            f"unknown urgency {key!r} for impact {impact!r}" for key in row if key not in LEVELS
        ]
        for urgency in LEVELS:
            value = row.get(urgency)
            if value is None:
                problems.append(f"missing cell impact {impact!r}, urgency {urgency!r}")
            elif value not in PRIORITIES:
                problems.append(
                    f"impact {impact!r}, urgency {urgency!r}: {value!r} is not one of "
                    f"{', '.join(PRIORITIES)}"
                )
            else:
                matrix[(impact, urgency)] = value
    if problems:
        raise ValueError("invalid priority matrix: " + "; ".join(problems))
    return matrix


def matrix_to_json(matrix: Matrix) -> dict[str, dict[str, str]]:
    """Write a matrix in the nested JSON form admins edit (the inverse of matrix_from_json)."""
    cells = {(impact, urgency) for impact in LEVELS for urgency in LEVELS}
    extra = [key for key in matrix if key not in cells]
    if extra:
        raise ValueError(f"invalid priority matrix: unknown cells {extra!r}")
    # The same checks as on the way in, so a matrix that could not be read back is never written.
    matrix_from_json(
        {
            impact: {urgency: matrix.get((impact, urgency)) for urgency in LEVELS}
            for impact in LEVELS
        }
    )
    return {impact: {urgency: matrix[(impact, urgency)] for urgency in LEVELS} for impact in LEVELS}
