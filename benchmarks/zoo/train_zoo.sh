#!/usr/bin/env bash
# Trains the zoo's weights (run from the repository root; logs in runs/).
#   benchmarks/zoo/train_zoo.sh ens2-exc-v1 ens2-exc ens2-inh-v1 ens2-inh mlp-exc ...
# ens2-exc is the family recipe of ens2-exc-v1 (ν < 1.5), ens2-exc-nm (1.5–9) and ens2-exc-hn (ν ≥ 9)
# (ens2zoo.training.recipes): `ens2zoo train --recipe ens2-exc -o zoo_weights` keeps the members already
# there and trains the others; ens2-inh likewise.  A family's record loses its metrics when rewritten:
# re-record them (benchmarks/zoo/record_metrics.py, RESULTS.md section 6).
set -euo pipefail
GT=${ENS2ZOO_SHARED:-../shared}/ground_truth
mkdir -p runs
train() {  # name datasets [training options: a recipe, or an architecture with settings]
  local name=$1 ds=$2; shift 2
  if [ -f "zoo_weights/$name.safetensors" ] && [ -z "${RETRAIN:-}" ]; then echo "$name exists (RETRAIN=1 to redo)"; return; fi
  .venv/bin/ens2zoo train --data "$GT" --datasets "$ds" -o "zoo_weights/$name.safetensors" --zoo-name "$name" \
    --threads "${THREADS:-2}" --resume "$@" > "runs/train_$name.log" 2>&1
}
family() {  # name group: the family recipe trains the members not yet in zoo_weights/ and writes the record
  .venv/bin/ens2zoo train --recipe "$1" --data "$GT" --datasets "$2" -o zoo_weights --threads "${THREADS:-2}" \
    --resume > "runs/train_$1.log" 2>&1
}
EXC=excitatory  # dataset groups of ens2zoo.data.groups
INH=inhibitory
for job in "$@"; do
  case $job in
    ens2-exc-v1) train ens2-exc-v1 "$EXC" --recipe ens2-v1 ;;
    ens2-exc)    family ens2-exc "$EXC" ;;
    ens2-inh-v1) train ens2-inh-v1 "$INH" --recipe ens2-v1 ;;
    ens2-inh)    family ens2-inh "$INH" ;;
    mlp-exc)     train mlp-exc "$EXC" --arch mlp --loss-window 100 ;;
    cnn-exc)     train cnn-exc "$EXC" --arch cnn --loss-window 100 ;;
    lstm-exc)    train lstm-exc "$EXC" --arch lstm --batch-size 256 --max-iter 3000 --loss-window 100 ;;
    *) echo "unknown zoo model $job" >&2; exit 2 ;;
  esac
done
