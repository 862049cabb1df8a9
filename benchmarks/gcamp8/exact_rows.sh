#!/usr/bin/env bash
# The GCaMP8 target rows exact: ens2-exc and the calibrated ens2-gcamp8 (each dataset's own indicator) on the
# report folds' held-out mice at window stride 1, what `predict` does by default.  evaluate_folds.sh scores the
# same rows at stride 4 to keep the grid affordable on 2 cores (RESULTS section 2: approximate); these tables
# check the targets' margins without that approximation.  Two scorings at a time, one torch thread each:
#   benchmarks/gcamp8/exact_rows.sh [FOLD ...]            (default: the report folds M2-M5)
# Writes results/exact/<model>_<FOLD>_conditions.csv (kept if present: delete one to redo it).
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED="${ENS2ZOO_SHARED:-../shared}"
ENS2ZOO="${ENS2ZOO:-.venv/bin/ens2zoo}"
CONDITIONS="${CONDITIONS:-30:0,30:4,30:8,7.5:4}"
OUT=benchmarks/gcamp8/results/exact
mkdir -p "$OUT" benchmarks/gcamp8/logs
FOLDS=("$@"); [ ${#FOLDS[@]} -gt 0 ] || FOLDS=(M2 M3 M4 M5)
score() {  # name fold
  local name=$1 fold=$2 out="$OUT/$1_$2_conditions.csv" model
  [ -f "$out" ] && { echo "have $out"; return 0; }
  case $name in
    ens2-exc) model=(--model ens2-exc) ;;
    ens2-gcamp8-indicator) model=(--weights "benchmarks/gcamp8/folds/$fold" --indicator dataset) ;;
  esac
  nice -n 5 "$ENS2ZOO" evaluate "${model[@]}" --data "$SHARED/ground_truth" --fold "$fold" \
    --conditions "$CONDITIONS" --stride 1 --threads 1 -o "$out" > "benchmarks/gcamp8/logs/exact_${name}_${fold}.log" 2>&1
  echo "wrote $out"
}
export -f score; export OUT SHARED ENS2ZOO CONDITIONS
# the three-network family first (the longest), two at a time
for name in ens2-gcamp8-indicator ens2-exc; do for fold in "${FOLDS[@]}"; do echo "$name $fold"; done; done |
  xargs -P 2 -L 1 bash -c 'score "$0" "$1"'
