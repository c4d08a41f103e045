"""A small warehouse holding the marts of MARTS.md and marts.list_categories, with their
columns and the dbt types.

The publication tests need marts without running ingest and dbt. The numbers follow the
marts' rules in a simplified way (one-year windows, no suppression, constant benchmarks): the
thresholds, met flags, margins, persons_to_exit, statuses and shares are consistent with each
other, so the report draws what it would for real data. The outlook repeats the last data
year's values one year on (the persistence assumption; with one-year windows and constant
benchmarks the criteria of O are those of Y, and runs of years grow by one). `edition` changes
the data, as a new monthly refresh would: edition 2 adds a data year and moves every value.
"""

from __future__ import annotations

import csv
import math
import random
from pathlib import Path

import duckdb
import pandas as pd

from boligsocial.configuration.settings import DBT_PROJECT_DIR

AREAS = {
    "RINGPARKEN": ("Ringparken", 2100, 868),
    "SYDBYEN": ("Sydbyen", 1150, 462),
    "MOTALAVEJ": ("Motalavej", 1400, 694),
    "PARKVEJ": ("Parkvej", 520, 228),
}
# Start values of (unemployment, crime, education, non_western, income relative to region).
START = {
    "RINGPARKEN": (0.45, 0.040, 0.62, 0.56, 0.50),
    "SYDBYEN": (0.33, 0.012, 0.45, 0.35, 0.68),
    "MOTALAVEJ": (0.44, 0.030, 0.64, 0.52, 0.53),
    "PARKVEJ": (0.28, 0.008, 0.40, 0.18, 0.75),
}
REGION_INCOME = 250_000.0
NATIONAL_CRIME = 0.0068
METRIC_DENOMINATOR = {
    "unemployment_18_64": 0.62,
    "crime_18plus": 0.78,
    "basic_education_30_59": 0.40,
    "non_western": 1.0,
    "income_15_64": 0.60,
}
EFFORT_AREAS = ("Uddannelse og beskæftigelse", "Tryghed og trivsel", "Forebyggelse og forældre")

# Column types as the dbt models produce them (the contract's names, in contract order).
TYPES = {
    "area_metrics": {
        "area_id": "varchar",
        "area_name": "varchar",
        "year": "integer",
        "metric": "varchar",
        "numerator": "double",
        "denominator": "double",
        "value": "double",
        "has_suppressed": "boolean",
        "municipality_value": "double",
        "national_value": "double",
    },
    "area_criteria": {
        "area_id": "varchar",
        "year": "integer",
        "ruleset": "varchar",
        "category": "varchar",
        "criterion": "varchar",
        "role": "varchar",
        "metric": "varchar",
        "value": "double",
        "operator": "varchar",
        "threshold": "double",
        "met": "boolean",
        "margin": "double",
        "persons_to_exit": "bigint",
    },
    "area_status": {
        "area_id": "varchar",
        "year": "integer",
        "ruleset": "varchar",
        "category": "varchar",
        "residents": "double",
        "eligible": "boolean",
        "criteria_met": "integer",
        "criteria_required": "integer",
        "gate_met": "boolean",
        "qualifies": "boolean",
        "consecutive_years_qualified": "integer",
        "in_force": "boolean",
        "complete": "boolean",
    },
    "area_list_status": {
        "area_id": "varchar",
        "year": "integer",
        "ruleset": "varchar",
        "status": "varchar",
        "status_label_da": "varchar",
        "in_force": "boolean",
    },
    "area_safety": {
        "area_id": "varchar",
        "area_name": "varchar",
        "year": "integer",
        "tryghedsindeks": "double",
        "national_index": "double",
        "udsatte_average_index": "double",
        "police_incidents": "integer",
        "arson_incidents": "integer",
        "vandalism_cases": "integer",
        "vandalism_cost_dkk": "decimal(18,2)",
        "dwellings": "integer",
        "vandalism_cost_per_dwelling_dkk": "double",
    },
    "resource_allocation": {
        "year": "integer",
        "area_id": "varchar",
        "effort_area": "varchar",
        "track": "varchar",
        "fte": "decimal(18,4)",
        "budget_dkk": "decimal(18,2)",
    },
    "allocation_8020": {
        "year": "integer",
        "area_id": "varchar",
        "budget_drift_dkk": "decimal(18,2)",
        "budget_projekt_dkk": "decimal(18,2)",
        "fte_drift": "decimal(18,4)",
        "fte_projekt": "decimal(18,4)",
        "share_drift": "double",
        "target_share_drift": "double",
        "deviation_pp": "double",
        "within_tolerance": "boolean",
    },
    "allocation_recommendation": {
        "year": "integer",
        "area_id": "varchar",
        "need_score": "double",
        "need_share": "double",
        "actual_share": "double",
        "recommended_budget_dkk": "decimal(18,2)",
        "delta_budget_dkk": "decimal(18,2)",
    },
    "area_outlook": {
        "area_id": "varchar",
        "area_name": "varchar",
        "latest_year": "integer",
        "outlook_year": "integer",
        "ruleset": "varchar",
        "status_latest": "varchar",
        "status_outlook": "varchar",
        "status_outlook_label_da": "varchar",
        "escalates": "boolean",
        "consecutive_years_outlook": "integer",
        "persons_to_avoid": "integer",
        "persons_to_avoid_criteria": "varchar",
        "assumption": "varchar",
    },
    "area_outlook_criteria": {
        "area_id": "varchar",
        "year": "integer",
        "ruleset": "varchar",
        "category": "varchar",
        "criterion": "varchar",
        "role": "varchar",
        "metric": "varchar",
        "value": "double",
        "operator": "varchar",
        "threshold": "double",
        "met": "boolean",
        "margin": "double",
        "persons_to_exit": "integer",
        "benchmark_carried_from_year": "integer",
    },
    "allocation_policy": {
        "first_year": "integer",
        "target_share_drift": "double",
        "tolerance_pp": "double",
    },
    "list_categories": {
        "ruleset": "varchar",
        "category": "varchar",
        "label_da": "varchar",
        "severity": "integer",
        "base_category": "varchar",
        "criteria_required": "integer",
        "min_residents": "integer",
        "consecutive_years": "integer",
        "first_year": "integer",
        "last_year": "integer",
        "legal_basis": "varchar",
    },
    "area_list_reconciliation": {
        "area_id": "varchar",
        "area_name": "varchar",
        "year": "integer",
        "ruleset": "varchar",
        "computed_status": "varchar",
        "official_status": "varchar",
        "computed_complete": "boolean",
        "agrees": "boolean",
    },
}
# The planted disagreements with the official list: (area, years before the last data year)
# -> whether the computed status is complete (False: missing data may explain it).
DISAGREEMENTS = {("RINGPARKEN", 1): True, ("PARKVEJ", 2): False}
# The marts the dbt project builds (and publication publishes).
MARTS = tuple(m for m in TYPES if any((DBT_PROJECT_DIR / "models").rglob(f"{m}.sql")))


def _seed(name: str) -> list[dict[str, str]]:
    with (DBT_PROJECT_DIR / "seeds" / f"{name}.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _met(value: float, operator: str, threshold: float) -> bool:
    if operator == ">":
        return value > threshold + 1e-9
    if operator == ">=":
        return value >= threshold - 1e-9
    return value < threshold - 1e-9


def _reconciliation(list_rows: list[dict], last_year: int) -> pd.DataFrame:
    """The official list for 2012 (before the statistics: nothing computed) and the two years
    before the last data year, agreeing with the computed status except where planted."""
    computed = {(r["area_id"], r["year"]): r for r in list_rows if r["in_force"]}
    rows = []
    for year in (2012, last_year - 2, last_year - 1):
        for area_id, (name, _, _) in AREAS.items():
            row = computed.get((area_id, year))
            status = row["status"] if row else None
            official = status or "none"
            complete = None if row is None else True
            planted = DISAGREEMENTS.get((area_id, last_year - year))
            if planted is not None:
                official = "udsat" if status != "udsat" else "none"
                complete = planted
            rows.append(
                {
                    "area_id": area_id,
                    "area_name": name,
                    "year": year,
                    "ruleset": row["ruleset"] if row else "sub_2010",
                    "computed_status": status,
                    "official_status": official,
                    "computed_complete": complete,
                    "agrees": None if status is None else status == official,
                }
            )
    return pd.DataFrame(rows)


def _listed(group: pd.DataFrame, area_id: str, year: int, ruleset: str) -> dict:
    """area_list_status' row of one area, year and ruleset from its area_status rows."""
    listed = group[group["qualifies"]].sort_values("_severity", ascending=False)
    return {
        "area_id": area_id,
        "year": year,
        "ruleset": ruleset,
        "status": listed["category"].iloc[0] if len(listed) else "none",
        "status_label_da": listed["_label"].iloc[0] if len(listed) else "Ikke på listen",
        "in_force": bool(group["in_force"].any()),
    }


def _cheapest_route(
    categories: list[dict], criteria: pd.DataFrame, category: str, status: pd.DataFrame
) -> tuple[int | None, str | None]:
    """MARTS.md's persons_to_avoid and its criteria, for a listed category (0 for none)."""
    if category == "none":
        return 0, None
    by_key = {c["category"]: c for c in categories if c["ruleset"] == criteria["ruleset"].iloc[0]}
    chain = [category]
    while by_key[chain[-1]]["base_category"]:
        chain.append(by_key[chain[-1]]["base_category"])
    met = criteria[criteria["met"] & criteria["persons_to_exit"].notna()]
    counted = met[(met["category"] == chain[-1]) & (met["role"] == "count")]
    counted = counted.sort_values(["persons_to_exit", "criterion"])
    needed = int(status["criteria_met"].iloc[0] - status["criteria_required"].iloc[0] + 1)
    routes = []
    if len(counted) >= needed:
        chosen = counted.head(needed)
        names = ", ".join(
            f"{c}.{k}" for c, k in zip(chosen["category"], chosen["criterion"], strict=True)
        )
        routes.append((int(chosen["persons_to_exit"].sum()), needed, names))
    gates = met[met["category"].isin(chain) & (met["role"] == "gate")]
    for c, k, n in zip(
        gates["category"], gates["criterion"], gates["persons_to_exit"], strict=True
    ):
        routes.append((int(n), 1, f"{c}.{k}"))
    if not routes:
        return None, None
    persons, _, names = min(routes)
    return persons, names


def build_marts(path: Path, *, edition: int = 1) -> Path:
    """Create (or replace) the marts in the DuckDB file at path."""
    rng = random.Random(f"marts-fixture-{edition}")
    last_year = 2023 + edition
    years = range(2013, last_year + 1)
    categories = _seed("ruleset_categories")
    criteria = _seed("ruleset_criteria")

    metrics, area_values = [], {}
    for area_id, (name, residents, _) in AREAS.items():
        shares = list(START[area_id])
        for year in years:
            shares = [max(0.002, s * (1 + rng.uniform(-0.06, 0.04))) for s in shares]
            bef = round(residents * (1 + rng.uniform(-0.05, 0.05)))
            values = {"residents": (bef, None, float(bef))}
            for metric, share in zip(METRIC_DENOMINATOR, shares, strict=True):
                denominator = round(bef * METRIC_DENOMINATOR[metric])
                if metric == "income_15_64":
                    income = share * REGION_INCOME
                    values[metric] = (income * denominator, float(denominator), income)
                else:
                    numerator = round(share * denominator)
                    values[metric] = (float(numerator), float(denominator), numerator / denominator)
            area_values[area_id, year] = values
            for metric, (numerator, denominator, value) in values.items():
                metrics.append(
                    {
                        "area_id": area_id,
                        "area_name": name,
                        "year": year,
                        "metric": metric,
                        "numerator": float(numerator),
                        "denominator": denominator,
                        "value": value,
                        "has_suppressed": False,
                        "municipality_value": None if metric == "residents" else value * 0.4,
                        "national_value": NATIONAL_CRIME if metric == "crime_18plus" else None,
                    }
                )
        area_values[area_id, last_year + 1] = values  # the outlook year: Y's values persist

    criteria_rows = []
    for (area_id, year), values in area_values.items():
        for c in criteria:
            numerator, denominator, value = values[c["metric"]]
            parameter = float(c["threshold"])
            threshold = {
                "absolute": parameter,
                "national_average": parameter * NATIONAL_CRIME,
                "regional_average": parameter * REGION_INCOME,
            }[c["threshold_basis"]]
            met = _met(value, c["operator"], threshold)
            margin = threshold - value if c["operator"] == "<" else value - threshold
            persons = None
            if c["metric"] != "income_15_64":
                x = numerator - denominator * threshold
                k = math.ceil(x - 1e-9) if c["operator"] == ">" else math.floor(x + 1e-9) + 1
                persons = (k if k <= numerator else None) if met else 0
            criteria_rows.append(
                {
                    "area_id": area_id,
                    "year": year,
                    "ruleset": c["ruleset"],
                    "category": c["category"],
                    "criterion": c["criterion"],
                    "role": c["role"],
                    "metric": c["metric"],
                    "value": value,
                    "operator": c["operator"],
                    "threshold": threshold,
                    "met": met,
                    "margin": margin,
                    "persons_to_exit": persons,
                }
            )
    criteria_frame = pd.DataFrame(criteria_rows)

    status_rows, qualifies = [], {}
    by_key = {(c["ruleset"], c["category"]): c for c in categories}
    groups = dict(list(criteria_frame.groupby(["area_id", "year", "ruleset"])))
    for (area_id, year), values in area_values.items():
        for c in categories:
            key = (c["ruleset"], c["category"])
            root = c
            while root["base_category"]:
                root = by_key[c["ruleset"], root["base_category"]]
            own = groups[area_id, year, c["ruleset"]]
            counted = own[(own["category"] == root["category"]) & (own["role"] == "count")]
            gates = own[(own["category"] == c["category"]) & (own["role"] == "gate")]
            residents = values["residents"][2]
            eligible = residents >= int(c["min_residents"])
            criteria_met = int(counted["met"].sum())
            required = int(root["criteria_required"])
            gate_met = bool(gates["met"].all())
            if not c["base_category"]:
                ok = eligible and criteria_met >= required and gate_met
            elif not c["consecutive_years"]:
                ok = qualifies[(area_id, year, *key[:1], c["base_category"])] and gate_met
            else:
                n = int(c["consecutive_years"])
                ok = all(
                    qualifies.get((area_id, y, c["ruleset"], c["base_category"]), False)
                    for y in range(year - n + 1, year + 1)
                )
            qualifies[area_id, year, c["ruleset"], c["category"]] = ok
            run = 0
            while ok and qualifies.get((area_id, year - run, c["ruleset"], c["category"])):
                run += 1
            last = int(c["last_year"]) if c["last_year"] else 9999
            status_rows.append(
                {
                    "area_id": area_id,
                    "year": year,
                    "ruleset": c["ruleset"],
                    "category": c["category"],
                    "residents": residents,
                    "eligible": eligible,
                    "criteria_met": criteria_met,
                    "criteria_required": required,
                    "gate_met": gate_met,
                    "qualifies": ok,
                    "consecutive_years_qualified": run,
                    "in_force": int(c["first_year"]) <= year <= last,
                    "complete": True,
                    "_severity": int(c["severity"]),
                    "_label": c["label_da"],
                }
            )
    outlook_year = last_year + 1
    all_status = pd.DataFrame(status_rows)
    status = all_status[all_status["year"] <= last_year]
    list_rows = [
        _listed(group, *key) for key, group in status.groupby(["area_id", "year", "ruleset"])
    ]
    outlook_criteria_frame = criteria_frame[criteria_frame["year"] == outlook_year]
    criteria_frame = criteria_frame[criteria_frame["year"] <= last_year]
    outlook_rows = []
    for (area_id, ruleset), group in all_status[all_status["year"] == outlook_year].groupby(
        ["area_id", "ruleset"]
    ):
        listed = _listed(group, area_id, outlook_year, ruleset)
        if not listed["in_force"]:
            continue
        before = next(
            r
            for r in list_rows
            if (r["area_id"], r["year"], r["ruleset"]) == (area_id, last_year, ruleset)
        )
        severity = {
            c["category"]: int(c["severity"]) for c in categories if c["ruleset"] == ruleset
        }
        rank = {"none": -1, **severity}
        row = group[group["category"] == listed["status"]]
        persons, route = _cheapest_route(
            categories,
            outlook_criteria_frame[
                (outlook_criteria_frame["area_id"] == area_id)
                & (outlook_criteria_frame["ruleset"] == ruleset)
            ],
            listed["status"],
            row,
        )
        outlook_rows.append(
            {
                "area_id": area_id,
                "area_name": AREAS[area_id][0],
                "latest_year": last_year,
                "outlook_year": outlook_year,
                "ruleset": ruleset,
                "status_latest": before["status"],
                "status_outlook": listed["status"],
                "status_outlook_label_da": listed["status_label_da"],
                "escalates": rank[listed["status"]] > rank[before["status"]],
                "consecutive_years_outlook": int(row["consecutive_years_qualified"].iloc[0])
                if len(row)
                else 0,
                "persons_to_avoid": persons,
                "persons_to_avoid_criteria": route,
                "assumption": "persistence",
            }
        )
    outlook_criteria_frame = outlook_criteria_frame[
        outlook_criteria_frame["ruleset"].isin({r["ruleset"] for r in outlook_rows})
    ].assign(benchmark_carried_from_year=last_year)

    safety_rows = []
    for area_id, (name, _, dwellings) in AREAS.items():
        index = {"RINGPARKEN": 61.0, "MOTALAVEJ": 70.0, "SYDBYEN": 77.0}.get(area_id)
        for year in range(2014, last_year + 1):
            surveyed = index is not None and (area_id != "SYDBYEN" or year >= 2017)
            cost = round(dwellings * rng.uniform(40, 160), 2) * (1 + (edition - 1) / 10)
            safety_rows.append(
                {
                    "area_id": area_id,
                    "area_name": name,
                    "year": year,
                    "tryghedsindeks": index + (year - 2014) * 0.6 + rng.uniform(-1, 1)
                    if surveyed
                    else None,
                    "national_index": 88.0 + (year - 2014) * 0.2,
                    "udsatte_average_index": 72.0 + (year - 2014) * 0.4,
                    "police_incidents": rng.randint(5, 60),
                    "arson_incidents": rng.randint(0, 12),
                    "vandalism_cases": rng.randint(5, 50),
                    "vandalism_cost_dkk": round(cost, 2),
                    "dwellings": dwellings,
                    "vandalism_cost_per_dwelling_dkk": cost / dwellings,
                }
            )

    allocation = []
    for year in range(2017, last_year + 1):
        for area_id in AREAS:
            for effort_area in EFFORT_AREAS:
                for track, budget in (("drift", 900_000), ("projekt", 230_000)):
                    amount = budget * rng.uniform(0.6, 1.3) * (1.1 if edition > 1 else 1)
                    allocation.append(
                        {
                            "year": year,
                            "area_id": area_id,
                            "effort_area": effort_area,
                            "track": track,
                            "fte": round(amount / 550_000, 2),
                            "budget_dkk": round(amount, 0),
                        }
                    )
    allocation_frame = pd.DataFrame(allocation)
    split_rows = []
    for (year, area_id), group in [
        *allocation_frame.groupby(["year", "area_id"]),
        *(
            (key, g)
            for key, g in allocation_frame.assign(area_id="ALLE").groupby(["year", "area_id"])
        ),
    ]:
        drift = group[group["track"] == "drift"]
        projekt = group[group["track"] == "projekt"]
        share = drift["budget_dkk"].sum() / group["budget_dkk"].sum()
        split_rows.append(
            {
                "year": year,
                "area_id": area_id,
                "budget_drift_dkk": drift["budget_dkk"].sum(),
                "budget_projekt_dkk": projekt["budget_dkk"].sum(),
                "fte_drift": drift["fte"].sum(),
                "fte_projekt": projekt["fte"].sum(),
                "share_drift": share,
                "target_share_drift": 0.8,
                "deviation_pp": (share - 0.8) * 100,
                "within_tolerance": abs((share - 0.8) * 100) <= 5 + 1e-9,
            }
        )
    split = pd.DataFrame(split_rows)
    recommendation_rows = []
    for year in range(2017, last_year + 1):
        total = split[(split["year"] == year) & (split["area_id"] == "ALLE")]
        total_budget = float(
            total["budget_drift_dkk"].iloc[0] + total["budget_projekt_dkk"].iloc[0]
        )
        scores = {}
        for area_id in AREAS:
            rows = groups[area_id, year, "law_2021" if year >= 2021 else "law_2018"]
            rows = rows[rows["category"] == "udsat"]
            pressure = [
                (t / v if op == "<" else v / t)
                for v, t, op in zip(rows["value"], rows["threshold"], rows["operator"], strict=True)
            ]
            if pressure and year < last_year:  # the newest effort year has no statistics yet
                residents = area_values[area_id, year]["residents"][2]
                scores[area_id] = residents * sum(pressure) / len(pressure)
        for area_id in AREAS:
            row = split[(split["year"] == year) & (split["area_id"] == area_id)].iloc[0]
            budget = float(row["budget_drift_dkk"] + row["budget_projekt_dkk"])
            score = scores.get(area_id)
            need_share = score / sum(scores.values()) if score is not None else None
            recommended = round(need_share * total_budget, 2) if need_share is not None else None
            recommendation_rows.append(
                {
                    "year": year,
                    "area_id": area_id,
                    "need_score": score,
                    "need_share": need_share,
                    "actual_share": budget / total_budget,
                    "recommended_budget_dkk": recommended,
                    "delta_budget_dkk": recommended - budget if recommended is not None else None,
                }
            )

    frames = {
        "area_list_reconciliation": _reconciliation(list_rows, last_year),
        "area_metrics": pd.DataFrame(metrics),
        "area_criteria": criteria_frame,
        "area_status": status,
        "area_list_status": pd.DataFrame(list_rows),
        "area_outlook": pd.DataFrame(outlook_rows),
        "area_outlook_criteria": outlook_criteria_frame,
        "list_categories": pd.DataFrame(categories).replace("", None),
        "area_safety": pd.DataFrame(safety_rows),
        "resource_allocation": allocation_frame,
        "allocation_8020": split,
        "allocation_policy": pd.DataFrame(
            [{"first_year": 2000, "target_share_drift": 0.8, "tolerance_pp": 5.0}]
        ),
        "allocation_recommendation": pd.DataFrame(recommendation_rows),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        for mart, columns in TYPES.items():
            con.register("frame", frames[mart])
            casts = ", ".join(f'cast("{c}" as {t}) as "{c}"' for c, t in columns.items())
            con.execute(f"create or replace table marts.{mart} as select {casts} from frame")
            con.unregister("frame")
    return path
