#!/usr/bin/env bash
# Summarizes every file of a folder of books with the Flink job (embedded mini-cluster), one
# JSON-lines result set per run, then prints each book's final piece and statistics.
# Usage: examples/summarize-books.sh MODEL.gguf [BOOKS_DIR] [OUT_DIR] [CONTEXT]
#   defaults: BOOKS_DIR=examples/books (see fetch-books.sh), OUT_DIR=/tmp/icecache-books,
#             CONTEXT=131072 (must hold the longest book plus the summary, in tokens)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
model=${1:?usage: examples/summarize-books.sh MODEL.gguf [BOOKS_DIR] [OUT_DIR] [CONTEXT]}
books=${2:-$root/examples/books}
out=${3:-/tmp/icecache-books}
context=${4:-131072}
[ -d "$books" ] || { echo "summarize-books: $books not found; run examples/fetch-books.sh first" >&2; exit 1; }
rm -rf "$out"
"$root/bin/icecache" summarize --input "$books" --model "$model" --context "$context" \
  --prompt $'{document}\n\nTL;DR:' --max-tokens 256 --budget 512 \
  --output "$out" --checkpoint-dir "$out.checkpoints"
# the last piece of each book carries its statistics
cat "$out"/part-*.jsonl 2>/dev/null | grep '"final":true' || true
