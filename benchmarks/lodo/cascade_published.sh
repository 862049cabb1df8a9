#!/usr/bin/env bash
# CASCADE's published model (Global_EXC_30Hz_smoothing25ms, trained on DS03-DS20) as a peer, on the data it never
# saw, at 30 Hz (30:0 = the recording's own noise, 30:2, 30:4, 30:8), beside ens2-exc on the same neurons:
#   DS01 (zoo ens2-exc, never trained on DS01), DS02 and DS21 (ens2-exc's LODO family of that fold),
#   the GCaMP8 report folds' held-out mice (ens2-exc's and ens2-gcamp8's tables: benchmarks/gcamp8/evaluate_folds.sh).
# CASCADE's 30 Hz output is scored at 60 Hz by splitting each frame's rate equally over its two samples.
# One torch thread; ens2-exc at window stride 4 (as every condition row); existing tables are kept.
#   benchmarks/lodo/cascade_published.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED="${ENS2ZOO_SHARED:-../shared}"
ENS2ZOO="${ENS2ZOO:-.venv/bin/ens2zoo}"
CASCADE="$SHARED/cascade_reference/Global_EXC_30Hz_smoothing25ms"
CONDITIONS=30:0,30:2,30:4,30:8
OUT=benchmarks/lodo/cascade-published
mkdir -p "$OUT" benchmarks/gcamp8/results
score() {  # output stride selection-args... model-args...
  local out=$1 stride=$2; shift 2
  [ -f "$out" ] && { echo "have $out"; return 0; }
  nice -n 5 "$ENS2ZOO" evaluate "$@" --data "$SHARED/ground_truth" --conditions "$CONDITIONS" --stride "$stride" \
    --threads 1 -o "$out" > "$out.log" 2>&1 && rm "$out.log" && echo "wrote $out"
}
for ds in DS01 DS02 DS21; do
  score "$OUT/cascade-published_${ds}_conditions.csv" 1 --datasets "$ds*" --weights "$CASCADE"
done
for fold in M2 M3 M4 M5; do
  score "benchmarks/gcamp8/results/cascade-published_${fold}_conditions.csv" 1 --fold "$fold" --weights "$CASCADE"
done
score "$OUT/ens2-exc_DS01_conditions.csv" 4 --datasets "DS01*" --model ens2-exc
for ds in DS02 DS21; do
  score "$OUT/ens2-exc_${ds}_conditions.csv" 4 --datasets "$ds*" --weights "benchmarks/lodo/weights/ens2-exc_lodo_$ds"
done
