"""Markdown table of the zoo's models from zoo_weights/manifest.json (one row per network: a
family's members get a row each; held-out median correlation from the record's metrics).

    .venv/bin/python benchmarks/zoo/zoo_table.py
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ens2zoo.zoo.manifest import read_records

WINDOWS_PER_HOUR = 60 * 3600  # training windows are 60 Hz samples


def _hours(t: Mapping[str, Any]) -> float:
    """Hours of 60 Hz training windows (re-imaged copies included)."""
    return t.get("data_hours") or t.get("hours") or t["windows"] / WINDOWS_PER_HOUR


def _training(t: Mapping[str, Any]) -> str:
    """iterations (best) | minutes | s per iteration, of a fit or of a distillation plus fine-tuning; of an
    ensemble, each network's iterations (best) and the total minutes."""
    if "networks" in t:
        runs = t["networks"]
        seconds = sum(n["seconds"] for n in runs)
        return (" + ".join(f"{n['iterations']} ({n['best_iteration']})" for n in runs) + f" | {seconds / 60:.1f} min | "
                f"{seconds / sum(n['iterations'] for n in runs):.3f}")
    best = t["best_iteration"] if "best_iteration" in t else t["distill"]["best_iteration"]
    per_it = t.get("seconds_per_iteration", t["seconds"] / t["iterations"])
    return f"{t['iterations']} ({best}) | {t['seconds'] / 60:.1f} min | {per_it:.3f}"


def _held_out(metrics: Mapping[str, Any]) -> str:
    """``key: corr %`` of every pooled figure (median over its neurons; per-condition figures left out)."""
    return "; ".join(f"{key}: {m['all']['corr']:.1f} ({m['all']['neurons']})"
                     for key, m in metrics.items() if "all" in m) or "—"


def rows(records: list[dict[str, Any]]) -> list[str]:
    out = []
    for r in records:
        networks = ([(f"{r['name']} → {m['name']} ({_serves(m)})", m["sha256"],
                      r["provenance"]["members"][m["name"]]["training"]) for m in r["members"]]
                    if r.get("members") else [(r["name"], r["sha256"], r["provenance"]["training"])])
        for i, (name, sha, t) in enumerate(networks):
            data = f"{len(r['training_data'])} datasets, {_hours(t):.1f} h"
            metrics = _held_out(r.get("metrics", {})) if i == 0 else "″"
            out.append(f"| {name} | {r['architecture']} | {data} | {_training(t)} | `{sha[:12]}…` | {metrics} |")
    return out


def _band(noise_range: list[float | None]) -> str:
    low, high = noise_range
    return f"< {high:g}" if low is None else f"≥ {low:g}" if high is None else f"{low:g}–{high:g}"


def _serves(member: Mapping[str, Any]) -> str:
    """The ν a family member serves, and its frame rates (Hz) when it serves a band of them only."""
    rates = member.get("frame_rate_range")
    return f"ν {_band(member['noise_range'])}" + (f", {rates[0]:g}–{rates[1]:g} Hz" if rates else "")


def main() -> None:
    print("| name | architecture | training data (60 Hz h) | iterations (best) | training time | s/iteration "
          "| sha256 | measured median corr % (neurons), by metrics key |")
    print("| --- | --- | --- | ---: | ---: | ---: | --- | --- |")
    print("\n".join(rows(read_records())))


if __name__ == "__main__":
    main()
