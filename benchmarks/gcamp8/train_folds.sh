#!/usr/bin/env bash
# Train the ens2-gcamp8 family on the GCaMP8 mouse folds (ens2zoo.data.groups) and for the zoo:
# its two members as separate jobs, two at a time, one torch thread each, into the family folders
# (benchmarks/gcamp8/folds/<FOLD>/, zoo_weights/ for the zoo); resumable (finished members are
# skipped, unfinished ones continue from their checkpoints).  evaluate_folds.sh then writes each fold's
# family manifest (the same `ens2zoo train --recipe ens2-gcamp8` keeps the trained members) and scores it.
#   benchmarks/gcamp8/train_folds.sh [JOB ...]     JOB = MEMBER-RECIPE:FOLD (FOLD = M1..M5, or zoo)
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED="${ENS2ZOO_SHARED:-../shared}"
ENS2ZOO="${ENS2ZOO:-.venv/bin/ens2zoo}"
mkdir -p benchmarks/gcamp8/logs
# report folds and the zoo first, the selection fold M1 last
JOBS=("$@")
[ ${#JOBS[@]} -gt 0 ] || JOBS=(ens2-gcamp8-nm:M2 ens2-gcamp8-v1:M2 ens2-gcamp8-nm:M3 ens2-gcamp8-v1:M3
  ens2-gcamp8-nm:zoo ens2-gcamp8-v1:zoo ens2-gcamp8-nm:M4 ens2-gcamp8-v1:M4 ens2-gcamp8-nm:M5
  ens2-gcamp8-v1:M5 ens2-gcamp8-nm:M1 ens2-gcamp8-v1:M1)
run_one() {
  recipe=${1%%:*}; fold=${1##*:}
  if [ "$fold" = zoo ]; then out="zoo_weights/${recipe}.safetensors"; args=(); else
    out="benchmarks/gcamp8/folds/$fold/${recipe}.safetensors"; args=(--fold "$fold"); fi
  [ -f "$out" ] && { echo "have $out"; return 0; }
  mkdir -p "$(dirname "$out")"
  nice -n 5 "$ENS2ZOO" train --recipe "$recipe" --data "$SHARED/ground_truth" "${args[@]}" --threads 1 \
    -o "$out" --resume > "benchmarks/gcamp8/logs/${recipe}_${fold}.log" 2>&1 && echo "done $out"
}
export -f run_one; export SHARED ENS2ZOO
printf '%s\n' "${JOBS[@]}" | xargs -P 2 -I{} bash -c 'run_one {}'
