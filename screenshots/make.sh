#!/usr/bin/env bash
# Renders the dashboard's main screens to PNG from the demo: tmux at a fixed
# size runs the built binary, send-keys drives it, capture-pane keeps the
# colours, aha turns them into HTML and headless Chromium takes the picture.
# Needs: tmux, aha, chromium-headless-shell (or chromium). Run: task screenshots
set -euo pipefail
cd "$(dirname "$0")/.."
out=screenshots
cols=120 rows=36
session=flyrescue-shots-$$
work=$(mktemp -d)
trap 'tmux kill-session -t "$session" 2>/dev/null || true; rm -rf "$work"' EXIT

browser=$(command -v chromium-headless-shell || command -v chromium || true)
[ -n "$browser" ] || { echo "need chromium-headless-shell or chromium" >&2; exit 1; }
command -v aha >/dev/null || { echo "need aha (apt-get install aha)" >&2; exit 1; }

go build -o "$work/flyrescue" .
# demo ARGS...: a fresh demo in the tmux session, given time to poll.
demo() {
  tmux kill-session -t "$session" 2>/dev/null || true
  tmux new-session -d -s "$session" -x "$cols" -y "$rows" \
    "env COLORTERM=truecolor TERM=xterm-256color $work/flyrescue demo $*"
  sleep 2.5
}
demo --speed 2 --seed 1

shot() { # name
  local name=$1
  tmux capture-pane -t "$session" -e -p > "$work/$name.ans"
  {
    cat <<'HTML'
<!doctype html><meta charset="utf-8">
<style>
  body { margin: 0; background: #0d1117; }
  pre { margin: 0; padding: 12px; font-family: "DejaVu Sans Mono", "Liberation Mono", monospace;
        font-size: 14px; line-height: 1.25; color: #e6edf3; background: #0d1117; }
</style>
<body><pre>
HTML
    aha --no-header < "$work/$name.ans"
    echo '</pre></body>'
  } > "$work/$name.html"
  "$browser" --no-sandbox --headless --disable-gpu --hide-scrollbars \
    --window-size=1045,655 --screenshot="$out/$name.png" "file://$work/$name.html" >/dev/null 2>&1
  echo "wrote $out/$name.png"
}
# One key per send-keys: "Escape ?" sent together reads as alt+?.
keys() {
  for k in "$@"; do tmux send-keys -t "$session" "$k"; sleep 0.15; done
  sleep "${PAUSE:-0.3}"
}

shot table
keys / ; for w in group:worker_autoscale Space state:failed,stuck; do keys "$w"; done
keys Enter Down Down Space Space
shot filter-marks
PAUSE=1.5 keys u
shot plan
# The plan handed on: each step as the flyctl command that does it.
PAUSE=0.5 keys o
shot handoff
keys Escape
PAUSE=2 keys y
shot progress
keys Escape Home Down Down
PAUSE=1.2 keys Enter
shot detail
# The same machine's logs: what it printed before it failed.
keys Escape
PAUSE=2.5 keys l
shot logs
keys Escape ?
shot help
keys Escape
PAUSE=1 keys J
shot journal
keys Escape
# Sorted by age, oldest first: > five times (id -> name, group, region,
# state, age), then I.
keys '>' '>' '>' '>' '>' I
shot sorting
keys q y 2>/dev/null || true

# A second demo: the target image fails its health checks and runs nowhere
# yet, so an update goes canary-first and the breaker halts each group.
demo --scenario minority --machines 100 --speed 20 --seed 1 --target fails-checks --deploying=false
keys / ; for w in group:worker Space image:old; do keys "$w"; done
keys Enter a
PAUSE=1.5 keys u
PAUSE=45 keys y
shot halted
keys q y 2>/dev/null || true

# A third demo: an update of every web machine, watched through a filter
# that shows the workers: the web machines in flight stay pinned, and the
# footer gives the rate and the ETA from the machines finished so far.
demo --scenario minority --machines 300 --speed 2 --seed 1 --deploying=false
keys / ; for w in group:web Space image:old; do keys "$w"; done
keys Enter a
PAUSE=1.5 keys u
PAUSE=1 keys y
keys / C-u ; for w in group:worker; do keys "$w"; done
PAUSE=${ETA_WAIT:-12} keys Enter
shot progress-eta
keys q y 2>/dev/null || true
