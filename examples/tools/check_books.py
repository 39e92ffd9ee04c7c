#!/usr/bin/env python3
"""Checks fetched books against published facts about them, not against the extractors.

  check_books.py examples/books

Austen: each novel's opening words and its number of chapters (Pride and Prejudice 61, Emma 55,
Persuasion 24, Sense and Sensibility 50, Mansfield Park 48, Northanger Abbey 31). Bible: Genesis
1:1 and Revelation 22:21 in the World English Bible, all 66 books of the Protestant canon
present, and at least 31,000 of KJV's 31,102 verse references among them. Files that are absent
are skipped. Prints one line per failed fact and exits 1 if any failed.
"""
import pathlib
import re
import sys

import versification

AUSTEN = {
    "prideprejudice": (61, "It is a truth universally acknowledged"),
    "emma": (55, "Emma Woodhouse, handsome, clever, and rich"),
    "persuasion": (24, "Sir Walter Elliot, of Kellynch Hall"),
    "sensesensibility": (50, "The family of Dashwood had long been settled in Sussex"),
    "mansfieldpark": (48, "About thirty years ago Miss Maria Ward"),
    "northangerabbey": (31, "No one who had ever seen Catherine Morland in her infancy"),
}
CHAPTER_HEADING = re.compile(r"^chapter [0-9ivxlc]+\b", re.IGNORECASE | re.MULTILINE)
VERSES = {
    "Genesis 1:1": "In the beginning, God created the heavens and the earth.",
    "Revelation 22:21": "The grace of the Lord Jesus Christ be with all the saints. Amen.",
}
PROTESTANT_CANON_BOOKS = 66
MIN_CANON_VERSES = 31_000


def check_austen(books, failures):
    for name, (chapters, opening) in AUSTEN.items():
        path = books / f"{name}.txt"
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        found = len(CHAPTER_HEADING.findall(text))
        if found != chapters:
            failures.append(f"{path.name}: {found} chapter headings, expected {chapters}")
        if opening not in " ".join(text.split()):
            failures.append(f"{path.name}: the opening words '{opening}' are missing")


def check_bible(books, failures):
    path = books / "web-bible.txt"
    if not path.is_file():
        return
    canon = [b for testament in versification.testaments("KJV") for b in testament]
    verses = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        reference, text = split_reference(line)
        verses[reference] = text
    for reference, text in VERSES.items():
        if verses.get(reference) != text:
            failures.append(f"{path.name}: {reference} is {verses.get(reference)!r}, expected {text!r}")
    present = {ref.rsplit(" ", 1)[0] for ref in verses}
    missing_books = [b.name for b in canon if b.name not in present]
    if len(canon) - len(missing_books) != PROTESTANT_CANON_BOOKS:
        failures.append(f"{path.name}: books missing from the 66: {', '.join(missing_books)}")
    canon_verses = sum(1 for b in canon for c, n in enumerate(b.verses_per_chapter, 1)
                       for v in range(1, n + 1) if f"{b.name} {c}:{v}" in verses)
    if canon_verses < MIN_CANON_VERSES:
        failures.append(f"{path.name}: {canon_verses} of KJV's 31102 verse references, expected >= {MIN_CANON_VERSES}")


def split_reference(line):
    """'Song of Solomon 1:1 The Song…' -> ('Song of Solomon 1:1', 'The Song…')."""
    match = re.match(r"^(.+? \d+:\d+) (.*)$", line)
    return (match.group(1), match.group(2)) if match else (line, "")


def main(argv):
    if len(argv) != 1:
        sys.exit("usage: check_books.py BOOKS_DIR")
    books = pathlib.Path(argv[0])
    failures = []
    check_austen(books, failures)
    check_bible(books, failures)
    for failure in failures:
        print(f"check_books: {failure}", file=sys.stderr)
    if failures:
        sys.exit(1)
    print(f"check_books: the books in {books} match the published facts", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
