#!/usr/bin/env bash
# The GitHub Action's `perfgate check` step (action.yml runs it; tests/cli/action.rs tests it).
#
# The inputs arrive as INPUT_* environment variables, never interpolated into a script. A flag
# is passed only for an input that is set: an empty input leaves the decision to perfgate.toml
# (the working directory's, or INPUT_CONFIG), then to perfgate's own defaults — so the action
# gates exactly as `perfgate check` does locally.
#
#   INPUT_LOGS        paths, space-separated     (else [sources] paths, else .logs/**/*.log)
#   INPUT_CONFIG      --config                   (else ./perfgate.toml when present)
#   INPUT_BASELINE    --baseline                 (else [baseline] path, else .perfgate/baseline.json)
#   INPUT_COMMENT     --comment                  INPUT_COMMENT_ID  --comment-id
#   INPUT_FAIL_ON     --fail-on                  INPUT_REPORT      --json
#   INPUT_HTML        --html
set -euo pipefail

args=(check)
add() { # flag, value: the flag only when the value is set
  if [ -n "$2" ]; then args+=("$1" "$2"); fi
}
add --config "${INPUT_CONFIG:-}"
add --baseline "${INPUT_BASELINE:-}"
add --comment "${INPUT_COMMENT:-}"
add --comment-id "${INPUT_COMMENT_ID:-}"
add --fail-on "${INPUT_FAIL_ON:-}"
add --json "${INPUT_REPORT:-}"
add --html "${INPUT_HTML:-}"
# Paths are split on whitespace and not expanded here: perfgate expands globs itself.
read -r -a paths <<< "${INPUT_LOGS:-}" || true
# ${paths[@]+…}: an empty array under `set -u` in the bash 3.2 of macOS runners.
exec perfgate "${args[@]}" ${paths[@]+"${paths[@]}"}
