#!/bin/sh
# Combines the ranks' results and checks them against the dataset.
set -eu
total=$(cat "$MLSCHED_RUN_DIR"/data/model-rank*.txt | awk '{s+=$1} END {print s}')
expected=$(awk '{s+=$1} END {print s}' "$MLSCHED_RUN_DIR/data/samples.txt")
echo "evaluate: model sum $total, expected $expected"
[ "$total" = "$expected" ]
