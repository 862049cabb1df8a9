#!/usr/bin/env bash
# Score ens2-exc (the baseline: it never saw GCaMP8) and each fold's ens2-gcamp8 family on the held-out
# mice of the GCaMP8 mouse folds, one fold after another, one torch thread, window stride 4:
#   benchmarks/gcamp8/evaluate_folds.sh [FOLD ...]          (default: the report folds M2-M5)
# CONDITIONS (default: the target conditions and native; GCAMP8_CONDITIONS is the whole grid) may be set.
# A fold's family folder is written here (ens2zoo train --recipe ens2-gcamp8 keeps the two members that
# train_folds.sh trained); a fold whose members are not trained yet is skipped for ens2-gcamp8.  Existing tables are kept (delete one to redo it).
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED="${ENS2ZOO_SHARED:-../shared}"
ENS2ZOO="${ENS2ZOO:-.venv/bin/ens2zoo}"
CONDITIONS="${CONDITIONS:-native,30:0,30:4,30:8,7.5:4}"
RES=benchmarks/gcamp8/results
mkdir -p "$RES"
FOLDS=("$@"); [ ${#FOLDS[@]} -gt 0 ] || FOLDS=(M2 M3 M4 M5)
score() {  # name fold model-args...
  local name=$1 fold=$2; shift 2
  local out="$RES/${name}_${fold}_conditions.csv"
  [ -f "$out" ] && { echo "have $out"; return 0; }
  nice -n 5 "$ENS2ZOO" evaluate "$@" --data "$SHARED/ground_truth" --fold "$fold" --conditions "$CONDITIONS" \
    --stride 4 --threads 1 -o "$out" > "benchmarks/gcamp8/logs/evaluate_${name}_${fold}.log" 2>&1
  echo "wrote $out"
}
for fold in "${FOLDS[@]}"; do
  score ens2-exc "$fold" --model ens2-exc
  dir=benchmarks/gcamp8/folds/$fold
  if [ -f "$dir/ens2-gcamp8-v1.safetensors" ] && [ -f "$dir/ens2-gcamp8-nm.safetensors" ]; then
    "$ENS2ZOO" train --recipe ens2-gcamp8 --fold "$fold" --data "$SHARED/ground_truth" --log-every 0 -o "$dir"
    score ens2-gcamp8 "$fold" --weights "$dir"
  else
    echo "$fold: members not trained yet; skipped ens2-gcamp8"
  fi
done
