#!/usr/bin/env bash
# The GCaMP8 variant folds: each jGCaMP8 variant held out (DS30 8f, DS31 8m, DS32 8s).  ens2-gcamp8 (both
# members, recipe ens2-gcamp8) is trained on the other two variants (one torch thread, resumable; members already
# in the folder with their recipe are kept) and scored on the held-out variant's neurons (stride 4, uncalibrated:
# the count gains are per variant):
#   benchmarks/gcamp8/variant_folds.sh [FOLD ...]        (default: DS30 DS31 DS32; PARALLEL=2 at a time)
# into benchmarks/gcamp8/folds/<FOLD>/ and results/ens2-gcamp8-uncalibrated_<FOLD>_conditions.csv.  Existing
# tables are kept.  REPORT.md's variant-fold table sets them beside the mouse folds' family on the same neurons.
# The committed variant folds are session 14's, when the noise-matched member was one network: their tables are
# results/ens2-gcamp8-one-network_DS3x_conditions.csv, set beside the mouse folds' one-network tables.  To redo
# them with today's recipe (the member the mean of 3 networks), move each folds/DS3x/ens2-gcamp8-nm.safetensors
# to ens2-gcamp8-nm.net0.safetensors (network 0) first.
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED="${ENS2ZOO_SHARED:-../shared}"
ENS2ZOO="${ENS2ZOO:-.venv/bin/ens2zoo}"
CONDITIONS="${CONDITIONS:-native,30:0,30:4,30:8,7.5:4}"
FOLDS=("$@"); [ ${#FOLDS[@]} -gt 0 ] || FOLDS=(DS30 DS31 DS32)
mkdir -p benchmarks/gcamp8/results benchmarks/gcamp8/logs
export SHARED ENS2ZOO CONDITIONS
one() {
  local fold=$1 dir=benchmarks/gcamp8/folds/$1
  local table=benchmarks/gcamp8/results/ens2-gcamp8-uncalibrated_${fold}_conditions.csv
  nice -n 5 "$ENS2ZOO" train --recipe ens2-gcamp8 --fold "$fold" --data "$SHARED/ground_truth" --threads 1 --resume \
    --log-every 100 -o "$dir" > "benchmarks/gcamp8/logs/ens2-gcamp8_$fold.log" 2>&1
  [ -f "$table" ] || nice -n 5 "$ENS2ZOO" evaluate --weights "$dir" --data "$SHARED/ground_truth" --fold "$fold" \
    --conditions "$CONDITIONS" --stride 4 --threads 1 -o "$table" \
    > "benchmarks/gcamp8/logs/evaluate_ens2-gcamp8-uncalibrated_$fold.log" 2>&1
  echo "done $fold"
}
export -f one
printf '%s\n' "${FOLDS[@]}" | xargs -P "${PARALLEL:-2}" -I{} bash -c 'one {}'
