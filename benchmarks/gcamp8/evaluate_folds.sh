#!/usr/bin/env bash
# Score ens2-exc (the baseline: it never saw GCaMP8) and each fold's ens2-gcamp8 family on the held-out
# mice of the GCaMP8 mouse folds, one torch thread, window stride 4:
#   benchmarks/gcamp8/evaluate_folds.sh [FOLD ...]          (default: M1-M5; M1 is the selection fold)
# CONDITIONS (default: the target conditions and native; GCAMP8_CONDITIONS is the whole grid) may be set.
# 1. per fold: ens2-exc, and the family before calibration (ens2-gcamp8-uncalibrated; its folder's manifest
#    is written by `ens2zoo train --recipe ens2-gcamp8`, which keeps the members train_folds.sh trained);
# 2. once all five folds have step 1: fit_calibration.py writes the cross-fitted count gains and ν curve
#    into each fold's manifest (and the zoo's);
# 3. per fold: the calibrated family with each dataset's own indicator (ens2-gcamp8-indicator: --indicator
#    dataset).  (Before the ν curve, the pooled gain alone scaled every rate alike: its counts were the
#    uncalibrated ones times the fold's 'default' gain exactly, checked on M2, benchmarks/gcamp8/checks/.)
# Existing tables are kept (delete one to redo it; step 1 needs a manifest without count_calibration).  When a
# member changes, delete EVERY fold's ens2-gcamp8-uncalibrated and -indicator tables first: step 2 runs as soon as
# all five uncalibrated tables exist, and would otherwise fit the gains on old and new tables mixed.
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED="${ENS2ZOO_SHARED:-../shared}"
ENS2ZOO="${ENS2ZOO:-.venv/bin/ens2zoo}"
CONDITIONS="${CONDITIONS:-native,30:0,30:4,30:8,7.5:4}"
RES=benchmarks/gcamp8/results
mkdir -p "$RES" benchmarks/gcamp8/logs
FOLDS=("$@"); [ ${#FOLDS[@]} -gt 0 ] || FOLDS=(M1 M2 M3 M4 M5)
score() {  # name fold model-args...
  local name=$1 fold=$2; shift 2
  local out="$RES/${name}_${fold}_conditions.csv"
  [ -f "$out" ] && { echo "have $out"; return 0; }
  nice -n 5 "$ENS2ZOO" evaluate "$@" --data "$SHARED/ground_truth" --fold "$fold" --conditions "$CONDITIONS" \
    --stride 4 --threads 1 -o "$out" > "benchmarks/gcamp8/logs/evaluate_${name}_${fold}.log" 2>&1
  echo "wrote $out"
}
# a fold's members are trained when each member's weights lie in its folder, or (an ensemble) each of its
# networks (<member>.net<k>.safetensors, k < the member recipe's ensemble): the family recipe then only assembles
MEMBERS=$(.venv/bin/python -c "from ens2zoo.training.recipes import FAMILY_RECIPES, get_recipe
print(' '.join(f'{m.name}:{get_recipe(m.recipe).config.ensemble}' for m in FAMILY_RECIPES['ens2-gcamp8'].members))")
trained() {
  local dir=benchmarks/gcamp8/folds/$1 member name n k
  for member in $MEMBERS; do
    name=${member%%:*}; n=${member##*:}
    [ -f "$dir/$name.safetensors" ] && continue
    ((n > 1)) || return 1
    for ((k = 0; k < n; k++)); do [ -f "$dir/$name.net$k.safetensors" ] || return 1; done
  done
}
for fold in "${FOLDS[@]}"; do
  [ "$fold" = M1 ] || score ens2-exc "$fold" --model ens2-exc
  dir=benchmarks/gcamp8/folds/$fold
  if trained "$fold"; then
    "$ENS2ZOO" train --recipe ens2-gcamp8 --fold "$fold" --data "$SHARED/ground_truth" --log-every 0 -o "$dir"
    score ens2-gcamp8-uncalibrated "$fold" --weights "$dir"
  else
    echo "$fold: members not trained yet; skipped ens2-gcamp8"
  fi
done
if ls $RES/ens2-gcamp8-uncalibrated_M{1,2,3,4,5}_conditions.csv > /dev/null 2>&1; then
  .venv/bin/python benchmarks/gcamp8/fit_calibration.py --data "$SHARED/ground_truth"
  for fold in "${FOLDS[@]}"; do
    [ "$fold" = M1 ] && continue
    score ens2-gcamp8-indicator "$fold" --weights "benchmarks/gcamp8/folds/$fold" --indicator dataset
  done
else
  echo "not every fold has its uncalibrated table yet: calibration and calibrated scores skipped"
fi
