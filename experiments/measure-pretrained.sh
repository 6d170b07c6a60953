#!/usr/bin/env bash
# Measures the pretrained start (issue 7): import face-api's recognition ResNet as task 1, verify it on both shared
# pairs files, prune it gradually by distillation (2,000 CelebA training faces, 2 epochs per ratio, goal = the
# unpruned accuracy on CelebA pairs minus 0.01), re-verify, then pack age and gender (UTKFace) into the freed
# weights. Writes runs/pretrained/ (model, event logs) and experiments/results/pretrained/*.json.
set -euo pipefail
cd "$(dirname "$0")/.."
out=runs/pretrained
res=experiments/results/pretrained
mkdir -p "$out" "$res"
model=$out/model.pae
rm -rf "${out:?}"/* "$res"/*.json
paenet() { node bin/paenet.mjs "$@"; }
timed() {
  local name=$1; shift
  local t0=$(date +%s)
  paenet "$@" > "$res/$name.json"
  echo "$name: $(( $(date +%s) - t0 )) s" | tee -a "$res/times.txt"
}
: > "$res/times.txt"
timed import import "$model" --from face-api-recognition --pairs data/celeba-identity/pairs.txt --json
timed before-glint eval "$model" --task identity --data data/celeb-glint360k-sample/pairs.txt --json
timed before-orl eval "$model" --task identity --data data/orl-faces/pairs.txt --json
timed prune prune "$model" --task identity --data data/celeba-identity/manifest.csv --pairs data/celeba-identity/pairs.txt \
  --goal auto --goal-margin 0.01 --limit 2000 --prune-epochs 2 --quiet --json
timed after-glint eval "$model" --task identity --data data/celeb-glint360k-sample/pairs.txt --json
timed after-orl eval "$model" --task identity --data data/orl-faces/pairs.txt --json
common=(--epochs 6 --prune-ratios 0.25,0.5,0.75 --prune-epochs 2 --limit-train 3000 --goal auto --goal-margin 0.01 --quiet --json)
timed age add-task "$model" --name age --kind classify --data data/utkface-agegender/manifest.csv --label label "${common[@]}"
timed gender add-task "$model" --name gender --kind classify --data data/utkface-agegender/manifest.csv --label gender "${common[@]}"
timed after-all-celeba eval "$model" --task identity --data data/celeba-identity/pairs.txt --json
paenet info "$model" > "$res/info.txt"
paenet info "$model" --json > "$res/info.json"
cat "$res/info.txt"
