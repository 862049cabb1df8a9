#!/usr/bin/env bash
# Design candidate for ens2-gcamp8, tried on the selection fold M1 only: a third member ens2-gcamp8-nm9
# (recipe ens2-gcamp8-nm9: copies at 7.5/15/30 Hz and ν 1-9, the conditions' range) serving ν 1.5-9, the
# ν 1-20 member keeping ν ≥ 9.  Writes the candidate family into benchmarks/gcamp8/candidates/<FOLD>/
# (copies of the fold's trained members; only the table is committed) and scores it uncalibrated like
# evaluate_folds.sh step 1 (the committed candidates/M1/uncalibrated_conditions.csv (commit c048ee4) had the
# member as one network; since session 16 the recipe and M1's member are a 3-network ensemble):
#   benchmarks/gcamp8/candidate_nm9.sh [FOLD] [alone]   (default M1; the member must be trained in folds/FOLD/)
# alone: instead, score the member by itself at the target conditions 30:4, 30:8 and 7.5:4 (uncalibrated, stride 4,
# candidates/<FOLD>/nm9-alone_conditions.csv), to compare it there with the ν 1-20 member alone
# (candidates/<FOLD>/ensemble_conditions.csv: both 3-network ensembles since session 16) and so choose which ν
# each serves.
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED="${ENS2ZOO_SHARED:-../shared}"
FOLD=${1:-M1}
src=benchmarks/gcamp8/folds/$FOLD
dir=benchmarks/gcamp8/candidates/$FOLD
if [ "${2:-}" = alone ]; then
  exec nice -n 3 .venv/bin/ens2zoo evaluate --weights "$src/ens2-gcamp8-nm9.safetensors" --data "$SHARED/ground_truth" \
    --fold "$FOLD" --conditions 30:4,30:8,7.5:4 --stride 4 --threads 1 -o "$dir/nm9-alone_conditions.csv"
fi
.venv/bin/python - "$src" "$dir" <<'PY'
import sys
from pathlib import Path
from ens2zoo.zoo.manifest import write_family
src, dst = map(Path, sys.argv[1:])
write_family(dst, "ens2-gcamp8-nm9-candidate", [
    {"name": "ens2-gcamp8-v1", "weights": src / "ens2-gcamp8-v1.safetensors", "noise_range": [None, 1.5]},
    {"name": "ens2-gcamp8-nm9", "weights": src / "ens2-gcamp8-nm9.safetensors", "noise_range": [1.5, 9.0]},
    {"name": "ens2-gcamp8-nm", "weights": src / "ens2-gcamp8-nm.safetensors", "noise_range": [9.0, None]},
], description="candidate: ens2-gcamp8 with a ν 1.5-9 member trained at the conditions' ν (selection fold only)")
PY
nice -n 3 .venv/bin/ens2zoo evaluate --weights "$dir" --data "$SHARED/ground_truth" --fold "$FOLD" \
  --conditions native,30:0,30:4,30:8,7.5:4 --stride 4 --threads 1 -o "$dir/uncalibrated_conditions.csv"
