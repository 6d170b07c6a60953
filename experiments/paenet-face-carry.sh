#!/usr/bin/env bash
# Carries the paenet-face build (experiments/paenet-face.json, output ~/.cache/paenet/paenet-face) across sessions
# whose machines may not keep ~/.cache: `save` copies its checkpoints (the model after the last finished task, and
# the checkpoint inside the running task) and event log into models/build/paenet-face/ for a commit; `restore` puts
# them back where the build looks, unless a newer run is already there. Then the same command resumes:
#   node bin/paenet.mjs experiment experiments/paenet-face.json
set -euo pipefail
cd "$(dirname "$0")/.."
run="$HOME/.cache/paenet/paenet-face"
kept="models/build/paenet-face"
case "${1:-}" in
  save)
    [ -d "$run/checkpoints" ] || { echo "paenet-face-carry: no build at $run" >&2; exit 1; }
    rm -rf "$kept" && mkdir -p "$kept"
    cp -r "$run/checkpoints" "$kept/"
    [ -f "$run/events.jsonl" ] && cp "$run/events.jsonl" "$kept/"
    # The console log of a background run (nohup … > ~/.cache/paenet/paenet-face.log), when there is one.
    [ -f "$run.log" ] && cp "$run.log" "$kept/build.log"
    du -sh "$kept"
    ;;
  restore)
    [ -d "$kept/checkpoints" ] || { echo "paenet-face-carry: nothing saved in $kept" >&2; exit 1; }
    if [ -d "$run/checkpoints" ]; then echo "paenet-face-carry: $run already holds a build; left as it is"; exit 0; fi
    mkdir -p "$run"
    cp -r "$kept/checkpoints" "$run/"
    [ -f "$kept/events.jsonl" ] && cp "$kept/events.jsonl" "$run/"
    echo "restored into $run"
    ;;
  *)
    echo "usage: experiments/paenet-face-carry.sh save|restore" >&2
    exit 2
    ;;
esac
