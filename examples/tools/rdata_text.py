#!/usr/bin/env python3
"""Character vectors out of an installed R package's lazy-load database, without R.

An installed package keeps its data sets in data/Rdata.rdb (values) and data/Rdata.rdx (index).
The .rdx is a gzip file holding one serialized R list: `variables` maps each object name to an
integer pair (offset, length) in the .rdb, and `compressed` says how each value was compressed.
Each value in the .rdb is a 4-byte big-endian length of the uncompressed bytes, then (zlib) the
zlib stream, or (bzip2, xz) a type byte '1', '2', 'Z' or '0' (stored) and the stream. The bytes
are R's serialization format 2 or 3 in XDR (big-endian) form.

Only what data sets of text need is read: character vectors (with UTF-8, Latin-1, ASCII and
bytes encodings and NA), logical, integer, double and raw vectors, lists and data frames, and
the pairlists and symbols of their attributes. Anything else stops with a one-line error that
names the R type.

  rdata_text.py --list   .../janeaustenr/data/Rdata
  rdata_text.py --out-dir books .../janeaustenr/data/Rdata emma persuasion
  rdata_text.py .../pkg/data/Rdata 'frame$text' > text.txt

Each element becomes one line, NA becomes "NA" (as R's writeLines writes it), and the output is
UTF-8. A factor is written as its level labels. Exit status 1 on any error.
"""
import argparse
import bz2
import codecs
import gzip
import io
import lzma
import pathlib
import struct
import sys
import zlib

PROG = "rdata_text"

# Serialized objects larger than this are refused: no R data set of text comes close, and a
# corrupt length field must not make us allocate gigabytes.
MAX_OBJECT_BYTES = 1 << 30
# Deepest nesting of lists in lists accepted; real data frames are 2 levels deep.
MAX_DEPTH = 64

SEXP_NAMES = {
    0: "NILSXP", 1: "SYMSXP", 2: "LISTSXP", 3: "CLOSXP", 4: "ENVSXP", 5: "PROMSXP", 6: "LANGSXP",
    7: "SPECIALSXP", 8: "BUILTINSXP", 9: "CHARSXP", 10: "LGLSXP", 13: "INTSXP", 14: "REALSXP",
    15: "CPLXSXP", 16: "STRSXP", 17: "DOTSXP", 18: "ANYSXP", 19: "VECSXP", 20: "EXPRSXP",
    21: "BCODESXP", 22: "EXTPTRSXP", 23: "WEAKREFSXP", 24: "RAWSXP", 25: "S4SXP",
    238: "ALTREP_SXP", 239: "ATTRLISTSXP", 240: "ATTRLANGSXP", 241: "BASEENV_SXP",
    242: "EMPTYENV_SXP", 243: "BCREPREF", 244: "BCREPDEF", 245: "GENERICREFSXP",
    246: "CLASSREFSXP", 247: "PERSISTSXP", 248: "PACKAGESXP", 249: "NAMESPACESXP",
    250: "BASENAMESPACE_SXP", 251: "MISSINGARG_SXP", 252: "UNBOUNDVALUE_SXP",
    253: "GLOBALENV_SXP", 254: "NILVALUE_SXP", 255: "REFSXP",
}
SYMSXP, LISTSXP, CHARSXP, LGLSXP, INTSXP, REALSXP, STRSXP, VECSXP, EXPRSXP, RAWSXP = (
    1, 2, 9, 10, 13, 14, 16, 19, 20, 24)
NILVALUE_SXP, REFSXP = 254, 255
# Singletons that carry no data; a text data set meets them only as attribute values.
EMPTY_SINGLETONS = {241, 242, 250, 251, 252, 253}

HAS_ATTR, HAS_TAG = 1 << 9, 1 << 10
# CHARSXP encoding bits, stored in the "levels" field (flags >> 12).
BYTES_MASK, LATIN1_MASK, UTF8_MASK, ASCII_MASK = 1 << 1, 1 << 2, 1 << 3, 1 << 6
NA_INTEGER = -(1 << 31)


class RDataError(Exception):
    """A problem with the input, reported as one line."""


class RVector:
    """An R vector or list: its SEXP type, its elements and its attributes (name -> value)."""
    __slots__ = ("sexp_type", "values", "attributes")

    def __init__(self, sexp_type, values, attributes):
        self.sexp_type = sexp_type
        self.values = values
        self.attributes = attributes

    def names(self):
        names = self.attributes.get("names")
        return names.values if isinstance(names, RVector) and names.sexp_type == STRSXP else None

    def has_class(self, name):
        cls = self.attributes.get("class")
        return isinstance(cls, RVector) and cls.sexp_type == STRSXP and name.encode() in cls.values


class RSymbol:
    """An R symbol; only its print name matters here (attribute and list tags)."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


def type_name(code):
    return f"{SEXP_NAMES.get(code, 'unknown')} ({code})"


class Unserializer:
    """Reads one object in R's XDR serialization format 2 or 3 from a byte string."""

    def __init__(self, data, what):
        self.data = data
        self.pos = 0
        self.what = what
        self.references = []
        self.native_encoding = "utf-8"
        self.depth = 0

    def need(self, count, item):
        if count < 0 or self.pos + count > len(self.data):
            raise RDataError(f"{self.what} ends early: {item} needs {count} bytes at byte {self.pos}"
                             f" but {len(self.data) - self.pos} are left; the file is truncated or corrupt")

    def int32(self, item="an integer"):
        self.need(4, item)
        (value,) = struct.unpack_from(">i", self.data, self.pos)
        self.pos += 4
        return value

    def read_header(self):
        self.need(2, "the format mark")
        mark = self.data[:2]
        self.pos = 2
        if mark != b"X\n":
            raise RDataError(f"{self.what} is not XDR-serialized R data (starts {mark!r}, expected b'X\\n');"
                             " ASCII and native-binary serializations are not supported")
        version = self.int32("the format version")
        self.int32("the writer's R version")
        self.int32("the minimal reader version")
        if version == 3:
            length = self.int32("the native encoding's length")
            self.need(length, "the native encoding")
            name = self.data[self.pos:self.pos + length].decode("ascii", "replace")
            self.pos += length
            self.native_encoding = codec_for(name)
        elif version != 2:
            raise RDataError(f"{self.what} uses R serialization format {version}; only 2 and 3 are supported")

    def read_object(self):
        self.read_header()
        return self.read_item()

    def read_item(self):
        return self.read_with_flags(self.int32("an item's flags"))

    def read_with_flags(self, flags):
        sexp_type = flags & 0xFF
        if sexp_type == NILVALUE_SXP:
            return None
        if sexp_type in EMPTY_SINGLETONS:
            return None
        if sexp_type == REFSXP:
            return self.read_reference(flags)
        if sexp_type == SYMSXP:
            symbol = RSymbol(self.read_charsxp_text(self.int32("a symbol's name")))
            self.references.append(symbol)
            return symbol
        if sexp_type == LISTSXP:
            return self.read_pairlist(flags)
        if sexp_type == CHARSXP:
            return self.read_charsxp(flags)
        if sexp_type in (LGLSXP, INTSXP, REALSXP, STRSXP, VECSXP, EXPRSXP, RAWSXP):
            return self.read_vector(sexp_type, flags)
        raise RDataError(f"{self.what} holds an R object of unsupported type {type_name(sexp_type)};"
                         " only character, logical, integer, double and raw vectors, lists and data frames"
                         " can be read")

    def read_reference(self, flags):
        index = flags >> 8
        if index == 0:
            index = self.int32("a reference index")
        if not 1 <= index <= len(self.references):
            raise RDataError(f"{self.what} refers to object #{index} but only {len(self.references)}"
                             " were defined; the file is corrupt")
        return self.references[index - 1]

    def read_pairlist(self, flags):
        """Reads a pairlist cell by cell (no recursion along the list) into a name -> value dict."""
        entries = {}
        while flags & 0xFF == LISTSXP:
            if flags & HAS_ATTR:
                self.read_item()
            tag = self.read_item() if flags & HAS_TAG else None
            key = tag.name if isinstance(tag, RSymbol) else f"[[{len(entries) + 1}]]"
            entries[key] = self.read_nested()
            flags = self.int32("a pairlist cell's flags")
        tail = self.read_with_flags(flags)
        if tail is not None:
            raise RDataError(f"{self.what} holds a pairlist ending in {type(tail).__name__}; the file is corrupt")
        return entries

    def read_nested(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise RDataError(f"{self.what} nests lists over {MAX_DEPTH} deep; the file is corrupt")
        value = self.read_item()
        self.depth -= 1
        return value

    def read_charsxp(self, flags):
        """Returns a string's UTF-8 bytes, or None for NA."""
        length = self.int32("a string's length")
        if length == -1:
            return None
        self.need(length, "a string")
        raw = self.data[self.pos:self.pos + length]
        self.pos += length
        levels = flags >> 12
        if levels & (BYTES_MASK | UTF8_MASK | ASCII_MASK):
            return raw
        encoding = "latin-1" if levels & LATIN1_MASK else self.native_encoding
        return raw.decode(encoding, "replace").encode("utf-8")

    def read_charsxp_text(self, flags):
        if flags & 0xFF != CHARSXP:
            raise RDataError(f"{self.what} has a symbol whose name is {type_name(flags & 0xFF)}, not a string")
        raw = self.read_charsxp(flags)
        return "NA" if raw is None else raw.decode("utf-8", "replace")

    def read_length(self):
        length = self.int32("a vector's length")
        if length == -1:
            upper = self.int32("a long vector's length")
            lower = self.int32("a long vector's length")
            length = (upper << 32) + (lower & 0xFFFFFFFF)
        if length < 0:
            raise RDataError(f"{self.what} has a vector of negative length {length}; the file is corrupt")
        return length

    def read_vector(self, sexp_type, flags):
        length = self.read_length()
        if sexp_type in (LGLSXP, INTSXP):
            values = self.read_fixed(length, 4, ">%di", "integers")
        elif sexp_type == REALSXP:
            values = self.read_fixed(length, 8, ">%dd", "doubles")
        elif sexp_type == RAWSXP:
            values = self.read_fixed(length, 1, None, "raw bytes")
        else:
            # Every element takes at least its 4-byte flags, so this bounds the list before it grows.
            self.need(4 * length, f"{length} list or string elements")
            values = [self.read_element(sexp_type) for _ in range(length)]
        attributes = self.read_nested() if flags & HAS_ATTR else {}
        if not isinstance(attributes, dict):
            raise RDataError(f"{self.what} has vector attributes that are not a pairlist; the file is corrupt")
        return RVector(sexp_type, values, attributes)

    def read_fixed(self, length, width, fmt, item):
        self.need(length * width, f"{length} {item}")
        start = self.pos
        self.pos += length * width
        if fmt is None:
            return self.data[start:self.pos]
        return list(struct.unpack_from(fmt % length, self.data, start))

    def read_element(self, sexp_type):
        if sexp_type != STRSXP:
            return self.read_nested()
        flags = self.int32("a string's flags")
        if flags & 0xFF != CHARSXP:
            raise RDataError(f"{self.what} has a character vector element of type {type_name(flags & 0xFF)}")
        return self.read_charsxp(flags)


def codec_for(r_encoding):
    """The Python codec for R's native-encoding name (e.g. 'UTF-8', 'latin1', 'ISO-8859-1')."""
    name = r_encoding.strip().lower()
    if name in ("", "unknown", "c", "posix", "ascii"):
        return "utf-8"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return "utf-8"


class LazyLoadDatabase:
    """An .rdx index and its .rdb values, read from `prefix`.rdx and `prefix`.rdb."""

    def __init__(self, prefix):
        self.rdx_path = prefix.with_name(prefix.name + ".rdx")
        self.rdb_path = prefix.with_name(prefix.name + ".rdb")
        for path in (self.rdx_path, self.rdb_path):
            if not path.is_file():
                raise RDataError(f"{path} not found; give the database path without extension,"
                                 " e.g. .../janeaustenr/data/Rdata")
        index = Unserializer(read_rdx(self.rdx_path), self.rdx_path.name).read_object()
        self.variables, self.compression = parse_index(index, self.rdx_path.name)
        self.rdb_size = self.rdb_path.stat().st_size

    def names(self):
        return list(self.variables)

    def fetch(self, name):
        if name not in self.variables:
            raise RDataError(f"no object '{name}' in {self.rdx_path.name}; it has: {', '.join(self.variables)}")
        offset, length = self.variables[name]
        if offset < 0 or length < 0 or offset + length > self.rdb_size:
            raise RDataError(f"{self.rdb_path.name} is truncated: '{name}' needs bytes {offset}..{offset + length}"
                             f" but the file has {self.rdb_size}; re-download or reinstall the package")
        with open(self.rdb_path, "rb") as f:
            f.seek(offset)
            blob = f.read(length)
        data = decompress_value(blob, self.compression, f"'{name}' in {self.rdb_path.name}")
        return Unserializer(data, f"'{name}' in {self.rdb_path.name}").read_object()


def read_rdx(path):
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        raise RDataError(f"{path.name} is not gzip-compressed (starts {raw[:2]!r}); is it an R lazy-load index?")
    try:
        stream = gzip.GzipFile(fileobj=io.BytesIO(raw))
        data = stream.read(MAX_OBJECT_BYTES + 1)
    except (OSError, EOFError, zlib.error) as e:
        raise RDataError(f"{path.name} cannot be decompressed ({e}); the file is truncated or corrupt")
    if len(data) > MAX_OBJECT_BYTES:
        raise RDataError(f"{path.name} unpacks to over {MAX_OBJECT_BYTES} bytes; refusing it")
    return data


def parse_index(index, what):
    """Returns ({name: (offset, length)}, compression code) from a lazy-load index list."""
    if not isinstance(index, RVector) or index.sexp_type != VECSXP or index.names() is None:
        raise RDataError(f"{what} is not a lazy-load index (expected a named list)")
    fields = dict(zip(index.names(), index.values))
    variables = fields.get(b"variables")
    if not isinstance(variables, RVector) or variables.sexp_type != VECSXP:
        raise RDataError(f"{what} has no 'variables' list; is it an R lazy-load index?")
    entries = {}
    for name, key in zip(variables.names() or [], variables.values):
        if not isinstance(key, RVector) or key.sexp_type not in (INTSXP, REALSXP) or len(key.values) != 2:
            raise RDataError(f"{what} gives no (offset, length) pair for '{name.decode('utf-8', 'replace')}'")
        entries[name.decode("utf-8", "replace")] = (int(key.values[0]), int(key.values[1]))
    compressed = fields.get(b"compressed")
    code = 1
    if isinstance(compressed, RVector) and compressed.values and compressed.sexp_type != STRSXP:
        code = int(compressed.values[0])
    return entries, code


def decompress_value(blob, compression, what):
    """Undoes R's lazy-load compression: code 0 none, 1 zlib, 2 bzip2, 3 xz (per the index)."""
    if compression == 0:
        return blob
    if len(blob) < 4:
        raise RDataError(f"{what} is {len(blob)} bytes, too short for its length header; the file is corrupt")
    (expected,) = struct.unpack_from(">I", blob, 0)
    if expected > MAX_OBJECT_BYTES:
        raise RDataError(f"{what} claims {expected} bytes uncompressed, over the {MAX_OBJECT_BYTES} limit")
    if compression == 1:
        kind, payload = b"1", blob[4:]
    elif compression in (2, 3):
        if len(blob) < 5:
            raise RDataError(f"{what} has no compression type byte; the file is corrupt")
        kind, payload = blob[4:5], blob[5:]
    else:
        raise RDataError(f"{what}: unknown compression code {compression} in the index (known: 0, 1, 2, 3)")
    data = unpack(kind, payload, expected, what)
    if len(data) != expected:
        raise RDataError(f"{what} unpacks to {len(data)} bytes but its header says {expected};"
                         " the file is truncated or corrupt")
    return data


def unpack(kind, payload, expected, what):
    try:
        if kind == b"0":
            return payload[:expected]
        if kind == b"1":
            return zlib.decompressobj().decompress(payload, expected + 1)
        if kind == b"2":
            return bz2.BZ2Decompressor().decompress(payload, expected + 1)
        if kind == b"Z":
            # R writes a raw LZMA2 stream (no .xz container); a 64 MiB dictionary covers every preset.
            filters = [{"id": lzma.FILTER_LZMA2, "dict_size": 64 << 20}]
            return lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=filters).decompress(payload, expected + 1)
    except (zlib.error, OSError, EOFError, lzma.LZMAError) as e:
        raise RDataError(f"{what} cannot be decompressed ({e}); the file is truncated or corrupt")
    raise RDataError(f"{what} has unknown compression type byte {kind!r} (known: '0', '1', '2', 'Z')")


def select(value, name, path):
    """Follows `name$column` into a list or data frame and returns the selected object."""
    for column in path:
        if not isinstance(value, RVector) or value.sexp_type not in (VECSXP, EXPRSXP):
            raise RDataError(f"'{name}' is not a list or data frame, so it has no column '{column}'")
        names = [n.decode("utf-8", "replace") if n is not None else "" for n in value.names() or []]
        if column not in names:
            raise RDataError(f"'{name}' has no column '{column}'; it has: {', '.join(names)}")
        value = value.values[names.index(column)]
    return value


def text_lines(value, name, na_text):
    """A character vector (or factor) as a list of UTF-8 lines."""
    if isinstance(value, RVector) and value.sexp_type == STRSXP:
        return [na_text if s is None else s for s in value.values]
    if isinstance(value, RVector) and value.sexp_type == INTSXP and value.has_class("factor"):
        levels = value.attributes.get("levels")
        labels = levels.values if isinstance(levels, RVector) and levels.sexp_type == STRSXP else []
        return [na_text if (c == NA_INTEGER or not 1 <= c <= len(labels) or labels[c - 1] is None)
                else labels[c - 1] for c in value.values]
    if isinstance(value, RVector) and value.sexp_type in (VECSXP, EXPRSXP):
        columns = ", ".join(n.decode("utf-8", "replace") for n in value.names() or [])
        raise RDataError(f"'{name}' is a list or data frame; name one of its columns as '{name}$COLUMN'"
                         f" (columns: {columns or 'none named'})")
    kind = type_name(value.sexp_type) if isinstance(value, RVector) else type(value).__name__
    raise RDataError(f"'{name}' is {kind}, not a character vector or factor")


def describe(value):
    if isinstance(value, RVector):
        kind = "data.frame" if value.has_class("data.frame") else SEXP_NAMES[value.sexp_type]
        return f"{kind}\t{len(value.values)}"
    return "NULL\t0" if value is None else f"{type(value).__name__}\t-"


def main(argv):
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    ap.add_argument("database", help="lazy-load database path without extension, e.g. .../data/Rdata")
    ap.add_argument("names", nargs="*", help="objects to write; NAME$COLUMN picks a data-frame column")
    ap.add_argument("--list", action="store_true", help="list the objects with their type and length")
    ap.add_argument("--out-dir", help="write each object to OUT_DIR/NAME.txt instead of stdout")
    ap.add_argument("--na", default="NA", help="text written for NA strings (default NA)")
    args = ap.parse_args(argv)
    prefix = pathlib.Path(args.database)
    if prefix.suffix in (".rdb", ".rdx"):
        prefix = prefix.with_suffix("")
    db = LazyLoadDatabase(prefix)
    if args.list:
        for name in db.names():
            try:
                summary = describe(db.fetch(name))
            except RDataError as e:
                # One unreadable object (a function, an environment) must not hide the others.
                summary = f"unreadable\t{e}"
            sys.stdout.write(f"{name}\t{summary}\n")
        return
    if not args.names:
        raise RDataError(f"name the objects to write (or use --list); {db.rdx_path.name} has: {', '.join(db.names())}")
    na_text = args.na.encode("utf-8")
    for spec in args.names:
        name, *path = spec.split("$")
        lines = text_lines(select(db.fetch(name), name, path), spec, na_text)
        text = b"".join(line + b"\n" for line in lines)
        if args.out_dir:
            out = pathlib.Path(args.out_dir) / (spec.replace("$", "-") + ".txt")
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(text)
        else:
            sys.stdout.buffer.write(text)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except RDataError as e:
        sys.exit(f"{PROG}: {e}")
    except OSError as e:
        sys.exit(f"{PROG}: {e.strerror or e}: {e.filename or ''}".rstrip(": "))
    except (ValueError, struct.error, RecursionError, MemoryError) as e:
        # Corrupt input can still trip a check we did not foresee; keep the answer to one line.
        sys.exit(f"{PROG}: cannot read the input ({type(e).__name__}: {e}); the file is probably corrupt")
