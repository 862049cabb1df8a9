"""Markdown table of the zoo's models from zoo_weights/manifest.json.

    .venv/bin/python benchmarks/zoo/zoo_table.py
"""

from __future__ import annotations

from ens2zoo.zoo.manifest import read_records


def main() -> None:
    print("| name | architecture | training data | iterations (best) | training time | s/iteration | sha256 |")
    print("| --- | --- | --- | ---: | ---: | ---: | --- |")
    for r in read_records():
        t = r.get("provenance", {}).get("training")
        if not t:
            print(f"| {r['name']} | {r['architecture']} | not trained yet | | | | |")
            continue
        data = f"{len(r['training_data'])} datasets, {t['hours']:.1f} h"
        print(f"| {r['name']} | {r['architecture']} | {data} | {t['iterations']} ({t['best_iteration']}) | "
              f"{t['seconds'] / 60:.1f} min | {t['seconds_per_iteration']:.3f} | `{r['sha256'][:12]}…` |")


if __name__ == "__main__":
    main()
