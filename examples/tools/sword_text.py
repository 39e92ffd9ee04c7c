#!/usr/bin/env python3
"""A SWORD zText Bible module as plain text, one verse a line, without the SWORD tools.

A zText module keeps each testament in three files (ot.* and nt.* under the .conf's DataPath):
  .bzs  block index, 12 bytes a block: offset and size in .bzz, uncompressed size (uint32 LE)
  .bzz  the blocks, each zlib-compressed (CompressType=ZIP)
  .bzv  verse index, 10 bytes a slot: block number and offset in the block (uint32 LE), size
        (uint16 LE); one slot per position of the versification (see versification.py)
The markup (SourceType=OSIS) is stripped: footnotes, cross-references, section headings and
speaker labels go, canonical headings (Psalm titles) stay. Book and chapter introductions are
left out. Each verse with text becomes one line "Book Chapter:Verse text", e.g.

  Genesis 1:1 In the beginning, God created the heavens and the earth.

  sword_text.py .../usr/share/sword > web-bible.txt
  sword_text.py --module engWEB2015eb .../usr/share/sword > web-bible.txt

SWORD_DIR is the folder holding mods.d/ and modules/. Exit status 1 on any error.
"""
import argparse
import html
import pathlib
import re
import struct
import sys
import zlib

import versification

PROG = "sword_text"
BLOCK_ENTRY = struct.Struct("<III")
VERSE_ENTRY = struct.Struct("<IIH")
# A block larger than this is refused: whole-book blocks of the largest Bible books are ~2 MB.
MAX_BLOCK_BYTES = 64 << 20
ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "latin-1": "latin-1", "latin1": "latin-1"}

TAG = re.compile(r"<(/?)([A-Za-z][\w:]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>")
CHAPTER_ID = re.compile(r"<chapter\b[^>]*\bosisID=\"([^\"]+)\"")
# Elements whose content is not verse text (titles are dropped unless canonical="true").
DROPPED = {"note", "speaker", "title"}
# Elements that separate words where they open or close (lines of poetry, paragraphs).
BREAKS = {"l", "lb", "lg", "p", "div", "item", "list", "title"}
# Milestone-form divisions (<div sID=".." type=".."/> .. <div eID=".."/>) that hold front or back
# matter, which OSIS importers attach to the neighbouring verse.
DROPPED_DIVISIONS = {"front", "back", "introduction", "glossary", "colophon", "preface", "index"}
ATTRIBUTE = re.compile(r"([\w:]+)=\"([^\"]*)\"")
# Characters that start a new word after a dropped footnote.
WORD_START = re.compile(r"[\w“‘\[(\"']")


class SwordError(Exception):
    """A problem with the input, reported as one line."""


def read_conf(path):
    """Returns (module name, {key: first value}) from a SWORD .conf file."""
    name, entries, pending = None, {}, ""
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = pending + raw.strip()
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        if line.startswith("[") and line.endswith("]") and name is None:
            name = line[1:-1]
        elif "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            entries.setdefault(key.strip(), value.strip())
    if name is None:
        raise SwordError(f"{path} has no [ModuleName] line; is it a SWORD module .conf?")
    return name, entries


def find_module(sword_dir, wanted):
    confs = sorted((sword_dir / "mods.d").glob("*.conf"))
    if not confs:
        raise SwordError(f"no mods.d/*.conf under {sword_dir}; give the folder that holds mods.d/ and modules/")
    modules = dict(read_conf(path) for path in confs)
    if wanted is None:
        if len(modules) != 1:
            raise SwordError(f"{sword_dir} holds several modules; pick one with --module: {', '.join(modules)}")
        wanted = next(iter(modules))
    matches = [name for name in modules if name.lower() == wanted.lower()]
    if not matches:
        raise SwordError(f"no module '{wanted}' in {sword_dir}/mods.d; it has: {', '.join(modules)}")
    return matches[0], modules[matches[0]]


class ModuleFormat:
    """What the .conf says about how to read the module, checked against what this tool reads."""

    def __init__(self, name, conf, sword_dir):
        self.name = name
        self.data_dir = sword_dir / conf.get("DataPath", "").lstrip("./").rstrip("/")
        driver = conf.get("ModDrv", "")
        if driver.lower() != "ztext":
            raise SwordError(f"module {name} uses ModDrv={driver or '(none)'}; only zText modules are supported")
        compression = conf.get("CompressType", "LZSS")
        if compression.upper() != "ZIP":
            raise SwordError(f"module {name} uses CompressType={compression}; only ZIP (zlib) is supported")
        if conf.get("CipherKey"):
            raise SwordError(f"module {name} is enciphered (CipherKey set); it cannot be read without SWORD")
        self.markup = conf.get("SourceType", "Plain").upper()
        if self.markup not in ("OSIS", "PLAIN"):
            raise SwordError(f"module {name} uses SourceType={self.markup}; only OSIS and Plain are supported")
        encoding = conf.get("Encoding", "Latin-1")
        if encoding.lower() not in ENCODINGS:
            raise SwordError(f"module {name} uses Encoding={encoding}; only UTF-8 and Latin-1 are supported")
        self.encoding = ENCODINGS[encoding.lower()]
        self.versification = conf.get("Versification", "KJV")
        if self.versification not in versification.SYSTEMS:
            raise SwordError(f"module {name} uses Versification={self.versification}; supported:"
                             f" {', '.join(versification.SYSTEMS)}")


class Testament:
    """One testament's three index and data files, read and bounds-checked."""

    def __init__(self, data_dir, prefix):
        self.label = f"{data_dir}/{prefix}"
        paths = [data_dir / f"{prefix}.{ext}" for ext in ("bzs", "bzv", "bzz")]
        present = [p.is_file() for p in paths]
        self.absent = not any(present)
        if self.absent:
            return
        if not all(present):
            missing = ", ".join(p.name for p, ok in zip(paths, present) if not ok)
            raise SwordError(f"{self.label}: {missing} missing; the module is incomplete, reinstall it")
        blocks, verses, self.data = (p.read_bytes() for p in paths)
        for raw, entry, name in ((blocks, BLOCK_ENTRY, "bzs"), (verses, VERSE_ENTRY, "bzv")):
            if len(raw) % entry.size:
                raise SwordError(f"{self.label}.{name} is {len(raw)} bytes, not a whole number of"
                                 f" {entry.size}-byte entries; the file is truncated or corrupt")
        self.blocks = [BLOCK_ENTRY.unpack_from(blocks, i) for i in range(0, len(blocks), BLOCK_ENTRY.size)]
        self.verses = verses
        self.slot_count = len(verses) // VERSE_ENTRY.size
        self.cached_number, self.cached_block = -1, b""

    def entry(self, slot):
        """The raw bytes stored for a verse-index slot (empty when the slot has no text)."""
        number, offset, size = VERSE_ENTRY.unpack_from(self.verses, slot * VERSE_ENTRY.size)
        if size == 0:
            return b""
        block = self.block(number, slot)
        if offset + size > len(block):
            raise SwordError(f"{self.label}.bzv slot {slot} points at bytes {offset}..{offset + size} of block"
                             f" {number}, which has {len(block)}; the module is corrupt")
        return block[offset:offset + size]

    def block(self, number, slot):
        if number == self.cached_number:
            return self.cached_block
        if number >= len(self.blocks):
            raise SwordError(f"{self.label}.bzv slot {slot} names block {number} but .bzs lists"
                             f" {len(self.blocks)}; the module is corrupt")
        offset, size, unpacked_size = self.blocks[number]
        if offset + size > len(self.data):
            raise SwordError(f"{self.label}.bzz is truncated: block {number} needs bytes {offset}..{offset + size}"
                             f" but the file has {len(self.data)}; reinstall the module")
        if unpacked_size > MAX_BLOCK_BYTES:
            raise SwordError(f"{self.label}.bzs block {number} claims {unpacked_size} bytes, over the"
                             f" {MAX_BLOCK_BYTES} limit; the module is corrupt")
        try:
            unpacked = zlib.decompressobj().decompress(self.data[offset:offset + size], unpacked_size)
        except zlib.error as e:
            raise SwordError(f"{self.label}.bzz block {number} cannot be decompressed ({e}); the module is corrupt")
        if len(unpacked) != unpacked_size:
            raise SwordError(f"{self.label}.bzz block {number} unpacks to {len(unpacked)} bytes but .bzs says"
                             f" {unpacked_size}; the module is truncated or corrupt")
        self.cached_number, self.cached_block = number, unpacked
        return unpacked


def expected_slots(books):
    # Slot 0 is the module heading and slot 1 the testament heading.
    return 2 + sum(book.index_slots() for book in books)


def verses_of(testament, books, module):
    """Yields (book, chapter, verse, raw bytes) for every verse slot, checking chapter markers."""
    need = expected_slots(books)
    if testament.slot_count != need:
        raise SwordError(f"{testament.label}.bzv has {testament.slot_count} slots but {module.versification}"
                         f" versification needs {need}; the module's Versification= does not match its index")
    slot = 2
    for book in books:
        slot += 1  # book heading
        for chapter, verse_count in enumerate(book.verses_per_chapter, start=1):
            check_chapter_marker(testament, slot, f"{book.osis_id}.{chapter}", module)
            slot += 1
            for verse in range(1, verse_count + 1):
                yield book, chapter, verse, testament.entry(slot)
                slot += 1


def check_chapter_marker(testament, slot, expected, module):
    """A chapter-heading slot that names its chapter must name the one the versification expects."""
    heading = testament.entry(slot).decode(module.encoding, "replace")
    found = CHAPTER_ID.search(heading)
    if found and found.group(1) != expected:
        raise SwordError(f"{testament.label}.bzv slot {slot} holds chapter {found.group(1)} where"
                         f" {module.versification} versification puts {expected}; the module's"
                         " Versification= is wrong or the index is corrupt")


def osis_to_text(markup):
    """Verse text of an OSIS fragment: tags removed, dropped elements skipped, spaces normalised."""
    out = []
    open_elements = []  # (name, dropped) of elements opened (not self-closing) in this fragment
    skipped_division = None  # sID of the front- or back-matter division being skipped
    gap_pending = False
    position = 0
    for tag in TAG.finditer(markup):
        if skipped_division is None:
            gap_pending = emit(out, markup[position:tag.start()], open_elements, gap_pending)
        position = tag.end()
        closing, name, attributes, self_closing = tag.groups()
        name = name.lower()
        if name == "div" and self_closing:
            out.append(" ")  # a paragraph milestone separates words like any other break
            marks = dict(ATTRIBUTE.findall(attributes))
            if skipped_division is None and marks.get("type") == "book" and "eID" in marks:
                position = len(markup)  # whatever follows the end of a book is back matter
                break
            if skipped_division is None and marks.get("type") in DROPPED_DIVISIONS and "sID" in marks:
                skipped_division = marks["sID"]
            elif skipped_division is not None and marks.get("eID") == skipped_division:
                skipped_division = None
            continue
        if skipped_division is not None:
            continue
        if name in BREAKS:
            out.append(" ")
        if closing:
            while open_elements:
                popped, dropped = open_elements.pop()
                if popped == name:
                    # A dropped footnote often stands where a space was ("God<note/>created").
                    gap_pending = gap_pending or (dropped and not is_dropped(open_elements))
                    break
        elif not self_closing:
            dropped = is_dropped(open_elements) or (
                name in DROPPED and not (name == "title" and 'canonical="true"' in attributes))
            open_elements.append((name, dropped))
    if skipped_division is None:
        emit(out, markup[position:], open_elements, gap_pending)
    return " ".join(html.unescape("".join(out)).split())


def is_dropped(open_elements):
    return bool(open_elements) and open_elements[-1][1]


def emit(out, text, open_elements, gap_pending):
    """Appends text unless inside a dropped element; returns whether a gap is still pending."""
    if not text or is_dropped(open_elements):
        return gap_pending
    if gap_pending and WORD_START.match(text) and out and not out[-1][-1:].isspace():
        out.append(" ")
    out.append(text)
    return False


def write_module(module, out):
    old_books, new_books = versification.testaments(module.versification)
    written = 0
    for prefix, books in (("ot", old_books), ("nt", new_books)):
        testament = Testament(module.data_dir, prefix)
        if testament.absent:
            continue
        for book, chapter, verse, raw in verses_of(testament, books, module):
            text = raw.decode(module.encoding, "replace")
            if module.markup == "OSIS":
                text = osis_to_text(text)
            else:
                text = " ".join(text.split())
            if text:
                out.write(f"{book.name} {chapter}:{verse} {text}\n")
                written += 1
    if written == 0:
        raise SwordError(f"module {module.name} has no verse text under {module.data_dir}"
                         " (no ot.bz*/nt.bz* files, or all verses empty)")


def main(argv):
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    ap.add_argument("sword_dir", help="folder holding mods.d/ and modules/, e.g. .../usr/share/sword")
    ap.add_argument("--module", help="module name as in its .conf, e.g. engWEB2015eb (needed if several)")
    args = ap.parse_args(argv)
    sword_dir = pathlib.Path(args.sword_dir)
    name, conf = find_module(sword_dir, args.module)
    module = ModuleFormat(name, conf, sword_dir)
    out = open(sys.stdout.fileno(), "w", encoding="utf-8", closefd=False, newline="\n")
    write_module(module, out)
    out.flush()


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except SwordError as e:
        sys.exit(f"{PROG}: {e}")
    except OSError as e:
        sys.exit(f"{PROG}: {e.strerror or e}: {e.filename or ''}".rstrip(": "))
    except (ValueError, struct.error, RecursionError, MemoryError) as e:
        # Corrupt input can still trip a check we did not foresee; keep the answer to one line.
        sys.exit(f"{PROG}: cannot read the input ({type(e).__name__}: {e}); the file is probably corrupt")
