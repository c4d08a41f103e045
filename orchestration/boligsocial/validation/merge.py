"""One GX result for a load validated a chunk at a time: the chunks' results and outcomes merged
per expectation."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from boligsocial.validation.report import (
    SAMPLE_SIZE,
    Outcome,
    plain,
)

if TYPE_CHECKING:
    pass


# Counts a GX result holds per expectation, summed over chunks; lists, concatenated up to a cap.
_RESULT_COUNTS = ("element_count", "unexpected_count", "missing_count")


_RESULT_LISTS = ("partial_unexpected_list", "partial_unexpected_index_list")


_RESULT_LIST_CAP = 1000


def merged_result(merged: dict[str, Any] | None, chunk: dict[str, Any]) -> dict[str, Any]:
    """One GX validation result (JSON) for a load validated a chunk at a time: per expectation
    (the same suite, so the same order) success if every chunk's, counts summed, percentages
    from the sums, lists of unexpected values concatenated (at most _RESULT_LIST_CAP)."""
    if merged is None:
        return chunk
    for whole, part in zip(merged["results"], chunk["results"], strict=True):
        whole["success"] = bool(whole["success"]) and bool(part["success"])
        total, more = whole.get("result") or {}, part.get("result") or {}
        for key in _RESULT_COUNTS:
            if isinstance(total.get(key), int) and isinstance(more.get(key), int):
                total[key] += more[key]
        for key in _RESULT_LISTS:
            if isinstance(total.get(key), list) and isinstance(more.get(key), list):
                total[key] = (total[key] + more[key])[:_RESULT_LIST_CAP]
        if isinstance(total.get("partial_unexpected_counts"), list) and isinstance(
            more.get("partial_unexpected_counts"), list
        ):
            total["partial_unexpected_counts"] = _merged_counts(
                total["partial_unexpected_counts"], more["partial_unexpected_counts"]
            )
        elements, missing = total.get("element_count"), total.get("missing_count") or 0
        if isinstance(elements, int) and isinstance(total.get("unexpected_count"), int):
            unexpected = total["unexpected_count"]
            if "unexpected_percent" in total:
                present = elements - missing
                total["unexpected_percent"] = 100 * unexpected / present if present else None
            if "unexpected_percent_total" in total:
                total["unexpected_percent_total"] = (
                    100 * unexpected / elements if elements else None
                )
            if "missing_percent" in total:
                total["missing_percent"] = 100 * missing / elements if elements else None
        whole["result"] = total
    successes = sum(bool(r["success"]) for r in merged["results"])
    evaluated = len(merged["results"])
    merged["success"] = successes == evaluated
    merged["statistics"] = {
        **merged.get("statistics", {}),
        "evaluated_expectations": evaluated,
        "successful_expectations": successes,
        "unsuccessful_expectations": evaluated - successes,
        "success_percent": 100 * successes / evaluated if evaluated else None,
    }
    return merged


def _merged_counts(whole: list[dict], part: list[dict]) -> list[dict]:
    """GX's `partial_unexpected_counts` of two chunks as one: a value's counts summed, most
    frequent first."""
    counts: dict[str, dict] = {}
    for item in [*whole, *part]:
        key = json.dumps(plain(item.get("value")), sort_keys=True)
        entry = counts.setdefault(key, {"value": item.get("value"), "count": 0})
        entry["count"] += item.get("count") or 0
    merged = sorted(counts.values(), key=lambda entry: -entry["count"])
    return merged[:_RESULT_LIST_CAP]


def merged_outcome(whole: Outcome | None, part: Outcome) -> Outcome:
    """One expectation's outcome over the chunks so far: failed if any chunk failed, counts
    summed, the first SAMPLE_SIZE samples in file and row order."""
    if whole is None:
        return part
    if not part.success:
        whole.success = False
        whole.observed = whole.observed if whole.observed is not None else part.observed
    for name in ("unexpected_count", "element_count"):
        if getattr(part, name) is not None:
            setattr(whole, name, (getattr(whole, name) or 0) + getattr(part, name))
    samples = whole.samples + part.samples
    samples.sort(key=lambda s: (str(s.get("file") or ""), s.get("row") or 0))
    whole.samples = samples[:SAMPLE_SIZE]
    return whole
