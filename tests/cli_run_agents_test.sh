#!/bin/sh
# `mlsched run --agents`: the example pipeline on two mlsched-agent processes
# (2 simulated GPUs each) on loopback ports.
set -eu
bin=$1; jobs=$2; dir=$(mktemp -d)
trap 'kill $a0 $a1 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
"$bin/mlsched-agent" --listen 127.0.0.1:0 --name node-0 --gpus 2 --no-nvml --cpus 2 \
  --log-dir "$dir/logs" --port-file "$dir/p0" & a0=$!
"$bin/mlsched-agent" --listen 127.0.0.1:0 --name node-1 --gpus 2 --no-nvml --cpus 2 \
  --log-dir "$dir/logs" --port-file "$dir/p1" & a1=$!
i=0; while [ ! -s "$dir/p0" ] || [ ! -s "$dir/p1" ]; do i=$((i+1)); [ $i -lt 600 ]; sleep 0.1; done
"$bin/mlsched" run "$jobs" --plain --agents "127.0.0.1:$(cat "$dir/p0"),127.0.0.1:$(cat "$dir/p1")"
