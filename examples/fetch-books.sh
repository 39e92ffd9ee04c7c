#!/usr/bin/env bash
# Fetches public-domain books from Debian packages at run time and extracts plain text into
# examples/books/ (ignored by git). Needs apt-get and dpkg-deb (Debian/Ubuntu) and network access
# to the archive; no root: packages are downloaded with 'apt-get download' and unpacked locally.
#   jargon-text         the Jargon File               -> jargon.txt
#   r-cran-janeaustenr  six Jane Austen novels (R data) -> emma.txt, mansfieldpark.txt, ...
#                       (Rscript when installed, else examples/tools/rdata_text.py)
#   sword-text-web      the World English Bible (SWORD module) -> web-bible.txt, one verse a line
#                       (examples/tools/sword_text.py; mod2imp -s only when python3 is missing)
# Usage: examples/fetch-books.sh [OUT_DIR]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tools=$here/tools
out=${1:-$here/books}
work=$here/.debs
austen=(emma mansfieldpark northangerabbey persuasion prideprejudice sensesensibility)

for tool in apt-get dpkg-deb; do
  command -v "$tool" >/dev/null || {
    echo "fetch-books: '$tool' not found; this script needs a Debian or Ubuntu system (apt-get, dpkg-deb)" >&2
    exit 1
  }
done
have_python=false
command -v python3 >/dev/null && have_python=true

mkdir -p "$out" "$work"
out=$(cd "$out" && pwd)
cd "$work"
failed=0

fetch() {
  if ! ls "$1"_*.deb >/dev/null 2>&1; then
    apt-get download "$1" >&2 || { echo "fetch-books: 'apt-get download $1' failed; run 'apt-get update' or check the network" >&2; return 1; }
  fi
  rm -rf "x-$1" && mkdir "x-$1" && dpkg-deb -x "$1"_*.deb "x-$1"
}

no_python() {
  echo "fetch-books: python3 not found; install python3 (apt-get install python3) to extract $1" >&2
  failed=1
}

# Writes stdin to $1 only when the extractor ($2...) succeeds, so no half-written book is left.
extract_to() {
  local target=$1; shift
  if "$@" > "$target.tmp"; then mv "$target.tmp" "$target"; else rm -f "$target.tmp"; failed=1; fi
}

# mod2imp -s prints "$$$Book C:V" then the verse text; this joins them into one line a verse and
# drops headings and introductions (keys "[...]", "Book 0:0", "Book C:0").
mod2imp_verses() {
  SWORD_PATH="$1" mod2imp "$2" -s | awk '
    function flush() { if (ref != "" && text != "") print ref " " text }
    /^\$\$\$/ { flush(); ref = substr($0, 4); text = ""; if (ref ~ /:0$|^\[/) ref = ""; next }
    { gsub(/[ \t\r]+/, " "); sub(/^ /, ""); sub(/ $/, ""); if ($0 != "") text = (text == "" ? $0 : text " " $0) }
    END { flush() }'
}

# The Jargon File: one plain-text file (possibly gzipped).
if fetch jargon-text; then
  f=$(find x-jargon-text -type f -name 'jargon.txt*' | head -1)
  case "$f" in *.gz) gzip -dc "$f" ;; *) cat "$f" ;; esac > "$out/jargon.txt"
else
  failed=1
fi

# Jane Austen: the package stores the novels as character vectors in an R lazy-load database.
if fetch r-cran-janeaustenr; then
  db=$(find "$work/x-r-cran-janeaustenr" -path '*/janeaustenr/data/Rdata.rdx' | head -1)
  db=${db%.rdx}
  if command -v Rscript >/dev/null; then
    lib=$(dirname "$(dirname "$(dirname "$db")")")
    for book in "${austen[@]}"; do
      extract_to "$out/$book.txt" Rscript -e \
        ".libPaths(c('$lib', .libPaths())); library(janeaustenr); writeLines(get('$book'))"
    done
  elif $have_python; then
    for book in "${austen[@]}"; do
      extract_to "$out/$book.txt" python3 "$tools/rdata_text.py" "$db" "$book"
    done
  else
    no_python "the Austen novels (or install r-base-core for Rscript)"
  fi
else
  failed=1
fi

# World English Bible: a SWORD zText module with OSIS markup.
if fetch sword-text-web; then
  sword=$work/x-sword-text-web/usr/share/sword
  if $have_python; then
    extract_to "$out/web-bible.txt" python3 "$tools/sword_text.py" "$sword"
  elif command -v mod2imp >/dev/null; then
    module=$(sed -n 's/^\[\(.*\)\]$/\1/p' "$sword"/mods.d/*.conf | head -1)
    extract_to "$out/web-bible.txt" mod2imp_verses "$sword" "$module"
  else
    no_python "the World English Bible (or install libsword-utils for mod2imp)"
  fi
else
  failed=1
fi

for f in jargon.txt "${austen[@]/%/.txt}" web-bible.txt; do
  [ -f "$out/$f" ] && printf 'fetch-books: %-22s %9d bytes %7d lines\n' "$f" "$(wc -c < "$out/$f")" "$(wc -l < "$out/$f")" >&2
done
# Compare with published facts (chapter counts, opening lines, Genesis 1:1, the 66 books).
if $have_python; then
  python3 -B "$tools/check_books.py" "$out" || failed=1
fi
exit "$failed"
