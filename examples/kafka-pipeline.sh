#!/usr/bin/env bash
# A Kafka-fed pipeline: writes documents to a topic as chunk records (bin/icecache produce),
# then runs the summarization job reading that topic, bounded: it drains what the topic holds
# when the job starts, writes exactly-once JSON lines and ends.
#
# You bring the broker. With Apache Kafka's release tarball (KRaft mode, no ZooKeeper):
#   KAFKA_CLUSTER_ID=$(bin/kafka-storage.sh random-uuid)
#   bin/kafka-storage.sh format --standalone -t "$KAFKA_CLUSTER_ID" -c config/server.properties
#   bin/kafka-server-start.sh config/server.properties          # listens on localhost:9092
#
# Usage: examples/kafka-pipeline.sh BOOTSTRAP [TOPIC] [FILE|DIR...]
#   BOOTSTRAP  host:port of the broker, e.g. localhost:9092
#   TOPIC      default icecache-documents (created with 3 partitions when missing)
#   FILE|DIR   documents to produce; default examples/documents
# Environment: MODEL (default ../shared/models/stories260K/stories260Ktok512.gguf),
#   OUT (default /tmp/icecache-kafka), GROUP (consumer group, default icecache-kafka-example).
# Running it again produces the documents again; the group's committed offsets make the job
# read only the new records.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bootstrap=${1:?usage: examples/kafka-pipeline.sh BOOTSTRAP [TOPIC] [FILE|DIR...]}
topic=${2:-icecache-documents}
shift $(( $# >= 2 ? 2 : 1 ))
inputs=("$@")
[ ${#inputs[@]} -gt 0 ] || inputs=("$root/examples/documents")
model=${MODEL:-$root/../shared/models/stories260K/stories260Ktok512.gguf}
out=${OUT:-/tmp/icecache-kafka}
group=${GROUP:-icecache-kafka-example}
[ -f "$model" ] || { echo "kafka-pipeline: model $model not found; set MODEL=FILE.gguf" >&2; exit 1; }

"$root/bin/icecache" produce --kafka-bootstrap "$bootstrap" --kafka-topic "$topic" --chunk-chars 1024 \
  "${inputs[@]}"
rm -rf "$out"
"$root/bin/icecache" summarize --kafka-bootstrap "$bootstrap" --kafka-topic "$topic" --kafka-group "$group" \
  --kafka-bounded --model "$model" --context 2048 --max-tokens 64 \
  --output "$out" --checkpoint-dir "$out.checkpoints"
echo "summaries (JSON lines, one file per part) are in $out:"
ls "$out"/part-*.jsonl 2>/dev/null || ls -R "$out"
# the final piece of each document carries its statistics (and an "error" when it was cut short)
cat "$out"/part-*.jsonl 2>/dev/null | grep '"final":true' || true
