#!/usr/bin/env bash
# Measures the pretrained start (issue 7): import face-api's recognition ResNet as task 1, verify it on both shared
# pairs files, prune it gradually by distillation (2,000 CelebA training faces, 2 epochs per ratio, goal = the
# unpruned accuracy on CelebA pairs minus 0.01) and re-verify. Packing later tasks into the freed weights from this
# start is experiments/exp1-pretrained.json and exp2-pretrained.json (`paenet experiment`).
# Writes runs/pretrained/ (model, event logs) and experiments/results/pretrained/*.json.
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
paenet info "$model" > "$res/info.txt"
paenet info "$model" --json > "$res/info.json"
cat "$res/info.txt"
