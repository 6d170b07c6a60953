#!/usr/bin/env bash
# Measures a whole `paenet add-task` cycle (individual-network goal, training, gradual pruning, expansion if needed)
# on each shared face set, packing them into ONE model in the paper's order: face → age → gender → expression.
# Budget per task: 3,000 training images, 8 epochs, pruning ratios 0.25/0.5/0.75 with 2 epochs each; goal = the
# individual network minus 0.01 (validation sets of a few hundred images carry about that much noise).
# Writes runs/measure/ (model, event logs) and experiments/results/add-task/*.json (one summary per task).
set -euo pipefail
cd "$(dirname "$0")/.."
out=runs/measure
res=experiments/results/add-task
mkdir -p "$out" "$res"
model=$out/model.pae
rm -rf "$out"/* "$res"/*.json
paenet() { node bin/paenet.mjs "$@"; }
common=(--epochs 8 --prune-ratios 0.25,0.5,0.75 --prune-epochs 2 --limit-train 3000 --goal auto --goal-margin 0.01 --quiet --json)
paenet init "$model" --arch resnet-small --force
run() {
  local name=$1; shift
  local t0=$(date +%s)
  paenet add-task "$model" --name "$name" "$@" "${common[@]}" > "$res/$name.json"
  echo "$name: $(( $(date +%s) - t0 )) s" | tee -a "$res/times.txt"
}
: > "$res/times.txt"
run face --kind identity --data data/celeba-identity/manifest.csv
run age --kind classify --data data/utkface-agegender/manifest.csv --label label
run gender --kind classify --data data/utkface-agegender/manifest.csv --label gender
run expression --kind classify --data data/fer2013/manifest.csv --label label --class-weights pae --limit-val 1500
paenet info "$model" > "$res/info.txt"
paenet info "$model" --json > "$res/info.json"
cat "$res/info.txt"
