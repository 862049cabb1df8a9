#!/usr/bin/env bash
# Add the high-noise member (recipe ens2-hn) to the ens2-exc / ens2-inh family of LODO folds and score it:
#   benchmarks/lodo/train_high_noise.sh [FOLD ...]      (default: the report folds, then the inhibitory folds)
# For each fold the family folder benchmarks/lodo/weights/<family>_lodo_DSxx/ is completed by
# `ens2zoo train --recipe <family>` (its trained members are kept;
# only ens2-<cells>-hn trains, one torch thread, resumable), then scored on the held-out dataset at high ν
# (CONDITIONS, default 30:12,30:20, stride 4): the three-member family and, for comparison, its
# noise-matched member alone (what the two-member family served there) into
# benchmarks/lodo/highnoise/<model>_lodo_DSxx_conditions.csv.  PARALLEL folds at a time (default 1).
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED="${ENS2ZOO_SHARED:-../shared}"
ENS2ZOO="${ENS2ZOO:-.venv/bin/ens2zoo}"
export SHARED ENS2ZOO CONDITIONS="${CONDITIONS:-30:12,30:20}"
mkdir -p benchmarks/lodo/logs benchmarks/lodo/highnoise
FOLDS=("$@"); [ ${#FOLDS[@]} -gt 0 ] || FOLDS=(DS04 DS06 DS09 DS15 DS20 DS22 DS23 DS24 DS25 DS26 DS27)
one_fold() {
  fold=$1
  case $fold in DS2[2-7]) family=ens2-inh; group=inhibitory ;; *) family=ens2-exc; group=excitatory ;; esac
  dir=benchmarks/lodo/weights/${family}_lodo_$fold
  nice -n 5 "$ENS2ZOO" train --recipe "$family" --data "$SHARED/ground_truth" --datasets "$group" \
    --exclude "$fold*" --threads 1 --resume --log-every 100 -o "$dir" > "benchmarks/lodo/logs/${family}-hn_$fold.log" 2>&1
  for model in "$family" "$family-nm"; do
    out=benchmarks/lodo/highnoise/${model}_lodo_${fold}_conditions.csv
    [ -f "$out" ] && continue
    weights=$dir; [ "$model" = "$family" ] || weights=$dir/$model.safetensors
    nice -n 5 "$ENS2ZOO" evaluate --weights "$weights" --data "$SHARED/ground_truth" --datasets "$fold*" \
      --conditions "$CONDITIONS" --stride 4 --threads 1 -o "$out" > "benchmarks/lodo/logs/evaluate_${model}_$fold.log" 2>&1
  done
  echo "done $fold"
}
export -f one_fold
printf '%s\n' "${FOLDS[@]}" | xargs -P "${PARALLEL:-1}" -I{} bash -c 'one_fold {}'
