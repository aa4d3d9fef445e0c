#!/bin/sh
# Writes the "dataset" the training tasks read.
set -eu
mkdir -p "$MLSCHED_RUN_DIR/data"
seq 1 1000 > "$MLSCHED_RUN_DIR/data/samples.txt"
echo "preprocess: wrote $(wc -l < "$MLSCHED_RUN_DIR/data/samples.txt") samples"
