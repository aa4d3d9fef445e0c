#!/usr/bin/env bash
# Installs mlsched from the build tree into a scratch prefix, then configures,
# builds and runs examples/consumer against it with find_package(mlsched);
# and runs a job with the installed `mlsched`, whose tasks must run under the
# prefix's own supervisor (libexec/mlsched/mlsched-supervisor, found beside
# bin/), not the build tree's.
set -euo pipefail
build_dir=$1
source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir/examples/consumer" -B "$work/build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/build" >/dev/null
"$work/build/consumer"
if [[ -x "$work/prefix/bin/mlsched" ]]; then
  cat >"$work/job.yaml" <<'YAML'
name: installed
defaults: {tenant: t, resources: {cpu: 0.1, memory: 16Mi}}
jobs:
  - name: parent
    command: [sh, -c, 'readlink "/proc/$PPID/exe" > "$MLSCHED_RUN_DIR/parent"']
YAML
  env -u MLSCHED_SUPERVISOR "$work/prefix/bin/mlsched" run "$work/job.yaml" --plain --no-nvml \
    --log-dir "$work/logs" >/dev/null
  want="$(readlink -f "$work/prefix/libexec/mlsched/mlsched-supervisor")"
  got="$(cat "$work/logs/parent")"
  if [[ "$got" != "$want" ]]; then
    echo "the installed mlsched ran its task under \"$got\", not \"$want\"" >&2
    exit 1
  fi
  echo "installed mlsched: task ran under $got"
fi
