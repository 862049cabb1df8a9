#!/usr/bin/env bash
# Choose the ν from which ens2-exc hands neurons to its high-noise member, on DS01 (never used for training,
# not a report fold): the zoo's ens2-exc-nm (trained on ν 1–9) and ens2-exc-hn (ν 6–20) scored at 30 Hz and
# ν 6–16 (stride 4, one thread) into benchmarks/lodo/highnoise/<member>_DS01_threshold.csv.
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED="${ENS2ZOO_SHARED:-../shared}"
for member in ens2-exc-nm ens2-exc-hn; do
  out=benchmarks/lodo/highnoise/${member}_DS01_threshold.csv
  [ -f "$out" ] && continue
  nice -n 5 .venv/bin/ens2zoo evaluate --weights "zoo_weights/$member.safetensors" --data "$SHARED/ground_truth" \
    --datasets 'DS01*' --conditions 30:6,30:8,30:10,30:12,30:16 --stride 4 --threads 1 -o "$out"
done
