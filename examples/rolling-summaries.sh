#!/usr/bin/env bash
# Summarizes one long text with rolling summaries: while the text streams into the Flink job
# (embedded mini-cluster), a summary of everything read so far every EVERY tokens, then the
# final summary; prints the summaries in order.
# Usage: examples/rolling-summaries.sh [BOOK] [MODEL] [EVERY]
#   defaults: BOOK = the longest file of examples/books (when fetched, see fetch-books.sh),
#             else of examples/texts; MODEL = ../shared/models/iceeval-1m/iceeval-1m.gguf;
#             EVERY = 512 (tokens between rolling summaries)
# Environment: CONTEXT (positions; default: enough for BOOK at 2 characters per token plus the
#              summaries), ROLLING_MAX_TOKENS (default 48), MAX_TOKENS (final summary, default 64)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

longest() {
  local f best="" size max=-1
  for f in "$1"/*; do
    [ -f "$f" ] || continue
    size=$(wc -c < "$f")
    if [ "$size" -gt "$max" ]; then max=$size; best=$f; fi
  done
  echo "$best"
}

book=${1:-}
if [ -z "$book" ]; then
  [ -d "$root/examples/books" ] && book=$(longest "$root/examples/books")
  [ -n "$book" ] || book=$(longest "$root/examples/texts")
fi
model=${2:-$root/../shared/models/iceeval-1m/iceeval-1m.gguf}
every=${3:-512}
[ -f "$book" ] || { echo "rolling-summaries: $book is not a file; give a text file" >&2; exit 1; }
[ -f "$model" ] || { echo "rolling-summaries: model $model not found; give a GGUF model as the second argument" >&2; exit 1; }
chars=$(wc -c < "$book")
rolling_max=${ROLLING_MAX_TOKENS:-48}
max_tokens=${MAX_TOKENS:-64}
# NOTE: each rolling summary stays in the context (the model reads its own notes), so the
# context holds the book's tokens plus every summary and its instruction
context=${CONTEXT:-$(( chars / 2 + (chars / 2 / every + 2) * (rolling_max + 16) + max_tokens ))}

# NOTE: a rolling summary starts at the first chunk boundary at or after each multiple of EVERY,
# so chunks stay well under the interval: EVERY characters are a third to a half of EVERY tokens
chunk_chars=$(( every > 16 ? every : 16 ))

out=$(mktemp -d "${TMPDIR:-/tmp}/icecache-rolling.XXXXXX")
trap 'rm -rf "$out"' EXIT
echo "rolling-summaries: $(basename "$book") ($chars characters), a summary every $every tokens, context $context" >&2
"$root/bin/icecache" summarize --input "$book" --model "$model" --context "$context" \
  --rolling-every "$every" --chunk-chars "$chunk_chars" --conf "icecache.summary.rolling-max-tokens=$rolling_max" --max-tokens "$max_tokens" \
  --output "$out/summaries" --checkpoint-dir "$out/checkpoints" --progress OFF >&2

# the pieces in seq order, one summary per paragraph headed by its kind and coverage
find "$out/summaries" -type f -name 'part-*' -exec cat {} + | python3 -c '
import json, sys
pieces = sorted((json.loads(line) for line in sys.stdin if line.strip()), key=lambda p: p["seq"])
head = None
for p in pieces:
    key = (p["kind"], p["up_to"])
    if key != head:
        if head is not None:
            print()
        print("[%s summary of the first %d tokens]" % key)
        head = key
    sys.stdout.write(p["text"])
print()
if pieces and "stats" in pieces[-1]:
    print("stats: " + json.dumps(pieces[-1]["stats"]))
'
