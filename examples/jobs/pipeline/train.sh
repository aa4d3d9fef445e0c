#!/bin/sh
# One rank of a 2-task gang: trains on its shard and writes a checkpoint each
# epoch (reported to mlsched); a checkpoint request (SIGUSR1) is answered at
# once. A retry resumes from $MLSCHED_RESUME_STEP.
set -eu
rank=$MLSCHED_GANG_RANK
size=$MLSCHED_GANG_SIZE
echo "train rank $rank/$size on GPU(s) [$CUDA_VISIBLE_DEVICES], attempt $MLSCHED_ATTEMPT"
epoch=${MLSCHED_RESUME_STEP:-0}
ckpt() {
  echo "$epoch" > "$MLSCHED_CHECKPOINT_DIR/rank$rank"
  [ "$rank" = 0 ] && echo "checkpoint $epoch file://$MLSCHED_CHECKPOINT_DIR" >&"$MLSCHED_REPORT_FD"
  return 0
}
trap ckpt USR1
shard=$(awk -v r="$rank" -v n="$size" 'NR % n == r' "$MLSCHED_RUN_DIR/data/samples.txt" | awk '{s+=$1} END {print s}')
while [ "$epoch" -lt "${EPOCHS:-3}" ]; do
  sleep 0.2
  epoch=$((epoch + 1))
  ckpt
  echo "epoch $epoch done"
done
echo "$shard" > "$MLSCHED_RUN_DIR/data/model-rank$rank.txt"
