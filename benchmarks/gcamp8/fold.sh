#!/usr/bin/env bash
# Write and score the ens2-gcamp8 family of one GCaMP8 mouse fold (its members trained by train_folds.sh):
#   benchmarks/gcamp8/fold.sh M2 [STRIDE]
# `ens2zoo train --recipe ens2-gcamp8 --fold M2` keeps the members already in the folder (same recipe)
# and writes its manifest; `ens2zoo evaluate --fold M2` scores the fold's held-out mice under the
# GCaMP8 grid (native rows included) at window stride STRIDE (default 4, as the baseline).
set -euo pipefail
cd "$(dirname "$0")/../.."
FOLD=$1; STRIDE=${2:-4}
SHARED="${ENS2ZOO_SHARED:-../shared}"
ENS2ZOO="${ENS2ZOO:-.venv/bin/ens2zoo}"
DIR=benchmarks/gcamp8/folds/$FOLD
# members trained before the folds had their folders
for m in ens2-gcamp8-v1 ens2-gcamp8-nm; do
  old=benchmarks/gcamp8/weights/${m}_fold_${FOLD}.safetensors
  [ -f "$old" ] && { mkdir -p "$DIR"; mv "$old" "$DIR/$m.safetensors"; }
done
"$ENS2ZOO" train --recipe ens2-gcamp8 --fold "$FOLD" --data "$SHARED/ground_truth" --threads 1 -o "$DIR"
GRID=$(.venv/bin/python -c "from ens2zoo.data.groups import GCAMP8_CONDITIONS; print(GCAMP8_CONDITIONS)")
nice -n 5 "$ENS2ZOO" evaluate --weights "$DIR" --data "$SHARED/ground_truth" --fold "$FOLD" --conditions "$GRID" \
  --stride "$STRIDE" --threads 1 -o "benchmarks/gcamp8/results/ens2-gcamp8_${FOLD}_conditions.csv"
