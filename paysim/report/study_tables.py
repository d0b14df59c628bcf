"""The tables of a study's report, and the facts listed at its top.

Trial numbers (objective values, constraint values, parameters, state) are the store's
``trials`` rows; the best trial, the planner's optimum, the Pareto front, the equilibrium and
its certificate are ``result.json``'s (``paysim optimize`` wrote both from the same study).
"""

from __future__ import annotations

import json

from paysim.report.html import Block, Column, Table
from paysim.report.study_data import StudyData, Trial, dimensions, objectives

MAX_TRIALS = 25
"""Trials listed in the trials table (the best ones)."""
MAX_PARAM_COLUMNS = 8


def _d(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _l(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def study_meta(data: StudyData) -> list[tuple[str, str]]:
    r = data.result
    counts = _d(r.get("trials"))
    timings = _d(r.get("timings"))
    rows = [
        ("study", f"{r.get('study_name')} (id {r.get('study_id')})"),
        ("mode / status", f"{r.get('mode')} / {r.get('status')}"),
        ("spec", str(r.get("spec"))),
        ("scenario", str(r.get("scenario"))),
        ("seeds", ", ".join(str(s) for s in _l(r.get("seeds")))),
        (
            "objectives",
            "; ".join(_objective_text(o) for o in objectives(r)) or "none (best response)",
        ),
        ("constraints", "; ".join(str(c) for c in _l(r.get("constraints"))) or "none"),
        ("storage / trial database", f"{r.get('storage')} / {data.database}"),
        ("paysim (study)", str(r.get("paysim_version"))),
    ]
    if counts:
        rows.append(("trials", ", ".join(f"{k} {v}" for k, v in counts.items())))
    if timings:
        wall = timings.get("wall_seconds")
        tps = timings.get("trials_per_second")
        text = f"{wall:.2f} s" if isinstance(wall, int | float) else "?"
        if isinstance(tps, int | float):
            text += f", {tps:.1f} trials/s"
        rows.append(("wall time", text))
    eq = _d(r.get("equilibrium"))
    if eq:
        cert = _d(eq.get("certificate"))
        rows.append(
            (
                "equilibrium",
                f"{eq.get('status')} after {eq.get('rounds')} round(s); "
                f"ε = {cert.get('epsilon')} (largest gain from a unilateral deviation)",
            )
        )
    if "price_of_anarchy" in r:
        rows.append(("price of anarchy", str(r.get("price_of_anarchy"))))
    warnings = _l(r.get("warnings"))
    if warnings:
        rows.append(("warnings", "; ".join(str(w) for w in warnings)))
    return rows


def _objective_text(o: dict[str, object]) -> str:
    return f"{o.get('label')} ({o.get('direction')}, {o.get('aggregate')})"


def _dimensions(data: StudyData) -> Table:
    columns = [
        Column("name", "dimension"),
        Column("kind", "kind"),
        Column("min", "min", "float"),
        Column("max", "max", "float"),
        Column("step", "step", "float"),
        Column("log", "log"),
        Column("choices", "choices"),
    ]
    rows = []
    for d in dimensions(data.result):
        values = {c.key: d.get(c.key) for c in columns}
        if isinstance(values["choices"], list):
            values["choices"] = ", ".join(str(c) for c in _l(values["choices"]))
        rows.append((str(d.get("name")), values))
    return Table("dimensions", "Search space", columns, rows)


def _flat_params(entry: dict[str, object]) -> dict[str, object]:
    """``{agent: {policy, params: {p: v}}}`` as ``{"AGENT.policy": …, "AGENT.p": v}``."""
    out: dict[str, object] = {}
    for agent, value in _d(entry.get("params")).items():
        v = _d(value)
        if "policy" in v:
            out[f"{agent}.policy"] = v["policy"]
        for name, number in _d(v.get("params")).items():
            out[f"{agent}.{name}"] = number
    return out


def _trial_table(
    name: str, title: str, entries: list[dict[str, object]], data: StudyData, note: str
) -> Table:
    objs = objectives(data.result)
    constraints = _l(data.result.get("constraints"))
    params = list(dict.fromkeys(k for e in entries for k in _flat_params(e)))
    columns = [
        Column("trial", "trial", "int"),
        *(Column(f"value_{i}", str(o.get("label")), "float") for i, o in enumerate(objs)),
        *(
            Column(f"constraint_{i}", f"{c} (≤ 0 feasible)", "float")
            for i, c in enumerate(constraints)
        ),
        *(Column(p, p, "float") for p in params),
    ]
    rows = []
    for e in entries:
        values: dict[str, object] = {"trial": e.get("trial"), **_flat_params(e)}
        for i, v in enumerate(_l(e.get("values"))):
            values[f"value_{i}"] = v
        for i, v in enumerate(_l(e.get("constraints"))):
            values[f"constraint_{i}"] = v
        rows.append((str(e.get("trial")), values))
    return Table(name, title, columns, rows, note)


def _best(data: StudyData) -> list[Table]:
    out = []
    for key, title in (("best", "Best trial"), ("planner", "The planner's optimum")):
        entry = _d(data.result.get(key))
        if entry:
            recheck = _d(entry.get("recheck"))
            note = "From result.json."
            if recheck:
                matches = "reproduced exactly" if recheck.get("matches") else "NOT reproduced"
                note += f" Re-run on the seeds: {matches} ({recheck.get('values')})."
            out.append(_trial_table(key, title, [entry], data, note))
    front = [e for e in _l(data.result.get("pareto")) if isinstance(e, dict)]
    if front:
        out.append(
            _trial_table(
                "pareto", "Pareto front", front, data, "From result.json (Pareto-optimal trials)."
            )
        )
    return out


def _trials(data: StudyData) -> Table | None:
    name = str(data.result.get("study_name"))
    objs = objectives(data.result)
    rows = [t for t in data.trials if t.phase == "joint" and t.study == name]
    if not rows or not objs:
        return None
    sign = -1.0 if objs[0].get("direction") == "maximize" else 1.0

    def key(t: Trial) -> tuple[int, float, int]:
        ok = t.state == "complete" and bool(t.values)
        return (0 if ok else 1, sign * (t.values[0] if t.values and ok else 0.0), t.number)

    shown = sorted(rows, key=key)[:MAX_TRIALS]
    names = [str(d.get("name")) for d in dimensions(data.result)]
    wide = len(names) <= MAX_PARAM_COLUMNS
    columns = [
        Column("number", "trial", "int"),
        Column("state", "state"),
        *(Column(f"value_{i}", str(o.get("label")), "float") for i, o in enumerate(objs)),
        Column("feasible", "feasible"),
        *(
            (Column(n, n, "float") for n in names)
            if wide
            else [Column("params", "parameters", "code")]
        ),
        Column("engine_seconds", "engine s", "float"),
    ]
    table_rows = []
    for t in shown:
        values: dict[str, object] = {
            "number": t.number,
            "state": t.state,
            "feasible": "–" if t.feasible is None else ("yes" if t.feasible else "no"),
            "engine_seconds": t.engine_seconds,
        }
        for i, v in enumerate(t.values or []):
            values[f"value_{i}"] = v
        if wide:
            values.update(t.params)
        else:
            values["params"] = json.dumps(t.params, sort_keys=True)
        table_rows.append((str(t.number), values))
    return Table(
        "trials",
        f"Trials of the joint study (the best {len(shown)} of {len(rows)})",
        columns,
        table_rows,
        "From the trials table, best first (complete trials by the first objective).",
    )


def _equilibrium(data: StudyData) -> list[Table]:
    eq = _d(data.result.get("equilibrium"))
    if not eq:
        return []
    cert = _d(eq.get("certificate"))
    columns = [
        Column("agent", "agent"),
        Column("profile", "equilibrium parameters", "code"),
        Column("value", "own objective", "float"),
        Column("best_deviation_value", "best deviation's objective", "float"),
        Column("gain", "gain", "float"),
        Column("deviations", "deviations evaluated", "int"),
        Column("method", "method"),
    ]
    profile = _d(eq.get("profile"))
    rows = []
    for entry in _l(cert.get("agents")):
        e = _d(entry)
        agent = str(e.get("agent"))
        values = {c.key: e.get(c.key) for c in columns}
        values["profile"] = json.dumps(profile.get(agent), sort_keys=True)
        rows.append((agent, values))
    note = (
        f"{eq.get('status')} after {eq.get('rounds')} round(s); ε = {cert.get('epsilon')}: no "
        "agent gains more than ε by deviating alone on the deviations evaluated."
    )
    cert_table = Table("equilibrium", "Equilibrium and its certificate", columns, rows, note)
    path_columns = [
        Column("step", "step", "int"),
        Column("round", "round", "int"),
        Column("agent", "agent"),
        Column("params", "its new parameters", "code"),
        Column("value", "own objective", "float"),
        Column("moved", "moved", "float"),
        Column("candidates", "candidates", "int"),
    ]
    path_rows = []
    for i, entry in enumerate(_l(eq.get("path"))):
        e = _d(entry)
        values = {c.key: e.get(c.key) for c in path_columns}
        values["step"] = i + 1
        values["params"] = json.dumps(e.get("params"), sort_keys=True)
        path_rows.append((str(i + 1), values))
    path = Table("br_path", "Best-response path", path_columns, path_rows, "From result.json.")
    return [cert_table, path]


def study_tables(data: StudyData) -> tuple[list[Block], list[Block]]:
    """The tables before the figures, and those after them."""
    intro: list[Block] = [*_best(data), *_equilibrium(data)[:1]]
    after: list[Block] = [*_equilibrium(data)[1:], _dimensions(data)]
    trials = _trials(data)
    if trials is not None:
        after.append(trials)
    return intro, after
