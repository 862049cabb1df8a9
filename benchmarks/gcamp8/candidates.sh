#!/usr/bin/env bash
# Design candidates for ens2-gcamp8's noise-matched member (it serves ν ≥ 1.5, so every row of 30:4, 30:8
# and 7.5:4), tried on the selection fold only (default M1) against one network of recipe ens2-gcamp8-nm's
# settings (1500 iterations on the fold's GCaMP8 mice, copies at 7.5–60 Hz and ν 1–20, seed 0: the fold's member
# until session 15, network 0 of today's ensemble; its M1 rows: results/ens2-gcamp8-one-network_M1_conditions.csv):
#   long   the one network for 3000 iterations (the fold logs' best loss still falls at 1500)
#   joint  the one network on the fold's GCaMP8 mice and the classic excitatory datasets DS02–DS21
#   cosine the one network with the learning rate annealed to 0 over the 1500 iterations (--lr-schedule cosine)
#   lognu  the one network with each copy's ν drawn log-uniformly in 1–20 (46 % of copies below ν 4, not 16 %)
#   ensemble the one network averaged with two more trained alike from seeds 1 and 2 (--ensemble 3, CASCADE's
#          way; an averaging probe of session 14 gained on M1): adopted in session 15 (recipe ens2-gcamp8-nm).
#          Networks already trained are kept when they lie in the folder as ensemble.net<k>.safetensors (on M1:
#          the fold's networks ens2-gcamp8-nm.net<k>, copied)
#   corr   the one network trained on the negative Pearson correlation per window (--loss corr, ENS²'s third loss):
#          the metric itself; its scale is arbitrary, so its count is the calibration's to fix (session 16)
#   wide   the one network with 13 features per level instead of 9 (--hparam features=13, ~2x the
#          computation): more capacity for the ~50 h of re-imaged training data (session 16)
#   pretrained the member (3 networks) fine-tuned from ens2-exc's noise-matched network instead of a random start
#          (--init-weights ens2-exc-nm: classic excitatory DS02–DS21 re-imaged at 7.5–30 Hz and ν 1–9, never a
#          GCaMP8 recording): what 20 classic datasets taught it about transients and noise, for the 12 training
#          mice to adjust (session 17; the 'joint' mixture had cost 5 points at 7.5 Hz)
#   stretch the one network with each copy's time axis scaled by a factor drawn log-uniformly in 0.8–1.25
#          (--reimage '...;stretch=0.8-1.25', ens2zoo.data.reimage.stretch: kinetics and firing 0.8–1.25x as fast,
#          the same ΔF/F per spike): more indicator kinetics than the 12 training mice show (session 17)
#   r30, r7.5  the one network with every copy at one frame rate, 30 or 7.5 Hz (ν 1-20): a member per frame rate,
#          as CASCADE trains a model per frame rate, scored at that rate's conditions (session 17)
#   seed3, seed6 (seed<N>) one more network of the member's settings from seed N (seeds 1, 4, 5 and 11 start dead):
#          with the member's 3 networks, `average_probe.py nm,seed3,seed6` is a 5-network member, as CASCADE
#          averages 5 (session 18)
#   DS30, DS31, DS32  a member per variant: the one network on the fold's training mice of that variant only,
#          scored on the fold's held-out neurons of that variant only (the issue: members per variant if they gain ≥ 2)
# Each candidate trains (one torch thread, resumable) into benchmarks/gcamp8/candidates/<FOLD>/<name>.safetensors
# and is scored alone, uncalibrated, on the fold's held-out mice (stride 4) into <name>_conditions.csv.
# Two at a time.
#   benchmarks/gcamp8/candidates.sh [FOLD] [CANDIDATE ...]
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED="${ENS2ZOO_SHARED:-../shared}"
ENS2ZOO="${ENS2ZOO:-.venv/bin/ens2zoo}"
FOLD=${1:-M1}; shift || true
CANDIDATES=("$@"); [ ${#CANDIDATES[@]} -gt 0 ] || CANDIDATES=(long joint)
DIR=benchmarks/gcamp8/candidates/$FOLD
HELD_OUT=$(.venv/bin/python -c "from ens2zoo.data.groups import get_fold; print(get_fold('$FOLD').held_out)")
mkdir -p "$DIR" benchmarks/gcamp8/logs
export SHARED ENS2ZOO FOLD DIR HELD_OUT
one() {
  name=$1
  # one network with recipe ens2-gcamp8-nm's settings; each candidate changes one of them
  local settings=(--arch unet --max-iter 1500 --loss-window 100)
  local nm_reimage='rates=7.5,15,30,60;noise=1-20;copies=4'
  case $name in
    long) args=(--arch unet --max-iter 3000 --loss-window 100 --reimage "$nm_reimage" --fold "$FOLD") ;;
    joint) args=("${settings[@]}" --reimage "$nm_reimage" --datasets gcamp8,excitatory --exclude "$HELD_OUT") ;;
    cosine) args=("${settings[@]}" --reimage "$nm_reimage" --fold "$FOLD" --lr-schedule cosine) ;;
    lognu) args=("${settings[@]}" --reimage "$nm_reimage;scale=log" --fold "$FOLD") ;;
    ensemble) args=("${settings[@]}" --reimage "$nm_reimage" --fold "$FOLD" --ensemble 3) ;;
    corr) args=("${settings[@]}" --reimage "$nm_reimage" --fold "$FOLD" --loss corr) ;;
    wide) args=("${settings[@]}" --reimage "$nm_reimage" --fold "$FOLD" --hparam features=13) ;;
    stretch) args=("${settings[@]}" --reimage "$nm_reimage;stretch=0.8-1.25" --fold "$FOLD") ;;
    r30|r7.5) args=("${settings[@]}" --reimage "rates=${name#r};noise=1-20;copies=4" --fold "$FOLD") ;;
    pretrained) args=("${settings[@]}" --reimage "$nm_reimage" --fold "$FOLD" --init-weights ens2-exc-nm --ensemble 3) ;;
    DS3[0-2]) args=("${settings[@]}" --reimage "$nm_reimage" --datasets "$name*" --exclude "$HELD_OUT") ;;
    seed[0-9]*) args=("${settings[@]}" --reimage "$nm_reimage" --fold "$FOLD" --seed "${name#seed}") ;;
    *) echo "unknown candidate $name" >&2; return 1 ;;
  esac
  local scored=(--fold "$FOLD")  # a variant's member: only that variant's held-out neurons
  case $name in DS3[0-2]) scored=(--datasets "$(tr ',' '\n' <<< "$HELD_OUT" | grep "^$name" | paste -sd,)") ;; esac
  out=$DIR/$name.safetensors
  [ -f "$out" ] || nice -n 5 "$ENS2ZOO" train "${args[@]}" --data "$SHARED/ground_truth" \
    --threads 1 --resume --log-every 100 -o "$out" > "benchmarks/gcamp8/logs/candidate_${name}_$FOLD.log" 2>&1
  table=$DIR/${name}_conditions.csv
  [ -f "$table" ] || nice -n 5 "$ENS2ZOO" evaluate --weights "$out" --data "$SHARED/ground_truth" "${scored[@]}" \
    --conditions 30:4,30:8,7.5:4 --stride 4 --threads 1 -o "$table" \
    > "benchmarks/gcamp8/logs/evaluate_candidate_${name}_$FOLD.log" 2>&1
  echo "done $name"
}
export -f one
printf '%s\n' "${CANDIDATES[@]}" | xargs -P 2 -I{} bash -c 'one {}'
