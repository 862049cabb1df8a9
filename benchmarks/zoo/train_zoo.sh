#!/usr/bin/env bash
# Trains the zoo's weights (run from the repository root; logs in runs/).
#   benchmarks/zoo/train_zoo.sh ens2-exc-v1 ens2-exc-nm ens2-exc ...
# ens2-exc is the family of ens2-exc-v1 (ν < 1.5) and ens2-exc-nm (ν ≥ 1.5): train both first and
# set their records' trained_frame_rates/trained_noise_levels (the family copies them); ens2-inh likewise.
set -euo pipefail
GT=${ENS2ZOO_SHARED:-../shared}/ground_truth
mkdir -p runs
train() {  # name datasets [training options: a recipe, or an architecture with settings]
  local name=$1 ds=$2; shift 2
  if [ -f "zoo_weights/$name.safetensors" ] && [ -z "${RETRAIN:-}" ]; then echo "$name exists (RETRAIN=1 to redo)"; return; fi
  .venv/bin/ens2zoo train --data "$GT" --datasets "$ds" -o "zoo_weights/$name.safetensors" --zoo-name "$name" \
    --threads "${THREADS:-2}" --resume "$@" > "runs/train_$name.log" 2>&1
}
family() {  # name low-member high-member: recipes, trained ranges and metrics kept from the records
  .venv/bin/python - "$@" <<'PY'
import sys
from pathlib import Path
from ens2zoo.zoo.manifest import read_records, write_family, write_records
name, low, high = sys.argv[1:4]
z = Path("zoo_weights")
records = {r["name"]: r for r in read_records(z)}
# a member's recipe and trained ranges: from its own record, else from the family's record
known = {**{m["name"]: m for m in records.get(name, {}).get("members", [])}, **records}
kept = {m: {k: known[m][k] for k in ("recipe", "trained_frame_rates", "trained_noise_levels") if known[m].get(k)}
        for m in (low, high) if m in known}
cells = "excitatory neurons (DS02–DS21)" if name.endswith("-exc") else "inhibitory neurons (DS22–DS27)"
write_family(z, name, [
    {"name": low, "weights": z / f"{low}.safetensors", "noise_range": [None, 1.5], **kept.get(low, {})},
    {"name": high, "weights": z / f"{high}.safetensors", "noise_range": [1.5, None], **kept.get(high, {})},
], description=f"ENS² U-Net family, {cells}, routed by each neuron's noise level ν: ν < 1.5 → {low} "
               f"(recordings as they are), ν ≥ 1.5 → {high} (also trained on copies re-imaged at 7.5–30 Hz, ν 1–9)",
   metrics=records.get(name, {}).get("metrics"))
# the noise-matched member is served through its family only (not listed on its own)
write_records([r for r in read_records(z) if r["name"] != high])
PY
}
EXC=excitatory  # dataset groups of ens2zoo.data.groups
INH=inhibitory
for job in "$@"; do
  case $job in
    ens2-exc-v1) train ens2-exc-v1 "$EXC" --recipe ens2-v1 ;;
    ens2-exc-nm) train ens2-exc-nm "$EXC" --recipe ens2-nm ;;
    ens2-exc)    family ens2-exc ens2-exc-v1 ens2-exc-nm ;;
    ens2-inh-v1) train ens2-inh-v1 "$INH" --recipe ens2-v1 ;;
    ens2-inh-nm) train ens2-inh-nm "$INH" --recipe ens2-nm ;;
    ens2-inh)    family ens2-inh ens2-inh-v1 ens2-inh-nm ;;
    mlp-exc)     train mlp-exc "$EXC" --arch mlp --loss-window 100 ;;
    cnn-exc)     train cnn-exc "$EXC" --arch cnn --loss-window 100 ;;
    lstm-exc)    train lstm-exc "$EXC" --arch lstm --batch-size 256 --max-iter 3000 --loss-window 100 ;;
    *) echo "unknown zoo model $job" >&2; exit 2 ;;
  esac
done
