#!/usr/bin/env bash
# Fetches public-domain books from Debian packages at run time and extracts plain text into
# examples/books/ (ignored by git). Needs apt-get (Debian/Ubuntu) and network access to the
# archive; no root: packages are downloaded with 'apt-get download' and unpacked locally.
#   r-cran-janeaustenr  six Jane Austen novels (R data: extracted with Rscript when installed)
#   sword-text-web      the World English Bible (SWORD module; plain text via diatheke/mod2imp
#                       when installed, else the raw module files are listed)
#   jargon-text         the Jargon File (plain text)
# Usage: examples/fetch-books.sh [OUT_DIR]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:-$here/books}
work=$here/.debs
mkdir -p "$out" "$work"
cd "$work"

fetch() {
  if ! ls "$1"_*.deb >/dev/null 2>&1; then
    apt-get download "$1" >&2 || { echo "fetch-books: 'apt-get download $1' failed; run 'apt-get update' or check the network" >&2; return 1; }
  fi
  rm -rf "x-$1" && mkdir "x-$1" && dpkg-deb -x "$1"_*.deb "x-$1"
}

# The Jargon File: one plain-text file (possibly gzipped).
if fetch jargon-text; then
  f=$(find x-jargon-text -type f -name 'jargon.txt*' | head -1)
  case "$f" in *.gz) gzip -dc "$f" ;; *) cat "$f" ;; esac > "$out/jargon.txt"
  echo "fetch-books: $out/jargon.txt ($(wc -c < "$out/jargon.txt") bytes)" >&2
fi

# Jane Austen: the package stores the novels as R data; Rscript turns each into lines of text.
if fetch r-cran-janeaustenr; then
  if command -v Rscript >/dev/null; then
    lib=$(dirname "$(find x-r-cran-janeaustenr -type d -name janeaustenr | head -1)")
    for book in emma mansfieldpark northangerabbey persuasion prideprejudice sensesensibility; do
      Rscript -e ".libPaths(c('$lib', .libPaths())); library(janeaustenr); writeLines(get('$book'))" \
        > "$out/$book.txt" 2>/dev/null || rm -f "$out/$book.txt"
    done
  else
    echo "fetch-books: Rscript not found; the Austen novels are R data (.rdb) in $work/x-r-cran-janeaustenr." \
         "Install r-base-core (apt-get install r-base-core) and rerun to extract them." >&2
  fi
fi

# World English Bible: a SWORD module; mod2imp (package libsword-utils) writes it as text.
if fetch sword-text-web; then
  if command -v mod2imp >/dev/null; then
    SWORD_PATH="$work/x-sword-text-web/usr/share/sword" mod2imp WEB | grep -v '^\$\$\$' > "$out/web-bible.txt"
    echo "fetch-books: $out/web-bible.txt ($(wc -c < "$out/web-bible.txt") bytes)" >&2
  else
    echo "fetch-books: mod2imp not found (apt-get install libsword-utils); the module files are in" \
         "$work/x-sword-text-web/usr/share/sword" >&2
  fi
fi

ls -l "$out" >&2
