#!/usr/bin/env bash
# The two smaller identity sets, added to the model of measure-add-task.sh (run that first): same budget and goal.
set -euo pipefail
cd "$(dirname "$0")/.."
res=experiments/results/add-task
model=runs/measure/model.pae
common=(--epochs 8 --prune-ratios 0.25,0.5,0.75 --prune-epochs 2 --limit-train 3000 --goal auto --goal-margin 0.01 --quiet --json)
for spec in "orl:data/orl-faces/manifest.csv" "glint:data/celeb-glint360k-sample/manifest.csv"; do
  name=${spec%%:*}; data=${spec#*:}
  t0=$(date +%s)
  node bin/paenet.mjs add-task "$model" --name "face-$name" --kind identity --data "$data" --label identity "${common[@]}" > "$res/face-$name.json"
  echo "face-$name: $(( $(date +%s) - t0 )) s" | tee -a "$res/times.txt"
done
node bin/paenet.mjs info "$model" > "$res/info.txt"
node bin/paenet.mjs info "$model" --json > "$res/info.json"
cat "$res/info.txt"
