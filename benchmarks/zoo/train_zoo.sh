#!/usr/bin/env bash
# Trains the zoo's weights (run from the repository root; logs in runs/).
set -euo pipefail
GT=${ENS2ZOO_SHARED:-../shared}/ground_truth
train() {  # name arch datasets [extra args]
  local name=$1 arch=$2 ds=$3; shift 3
  if [ -f "zoo_weights/$name.safetensors" ] && [ -z "${RETRAIN:-}" ]; then echo "$name exists (RETRAIN=1 to redo)"; return; fi
  .venv/bin/ens2zoo train --arch "$arch" --data "$GT" --datasets "$ds" --loss-window 100 \
    -o "zoo_weights/$name.safetensors" --zoo-name "$name" --threads "${THREADS:-1}" "$@" > "runs/train_$name.log" 2>&1
}
EXC='DS0[2-9]*,DS1*,DS2[01]*'
for job in "$@"; do
  case $job in
    ens2-exc) train ens2-exc unet "$EXC" --max-iter 3000 ;;
    ens2-inh) train ens2-inh unet 'DS2[2-7]*' --max-iter 3000 ;;
    mlp-exc)  train mlp-exc mlp "$EXC" ;;
    cnn-exc)  train cnn-exc cnn "$EXC" ;;
    lstm-exc) train lstm-exc lstm "$EXC" --batch-size 256 --max-iter 3000 ;;
  esac
done
