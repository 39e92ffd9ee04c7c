#!/usr/bin/env python3
"""Long documents with planted facts, for retrieval checks (needle in a haystack, multi-key).

Each document is filler text (the given files, e.g. examples/books/*.txt, repeated as needed)
with NEEDLES sentences "The secret code of <key> is <value>." planted at evenly spread depths;
the last line asks for one of the keys. A JSON-lines answer file lists, per document, every
planted key/value, the asked key and its answer, and each needle's character offset.
Deterministic for a given --seed.

  examples/make-haystack.py --filler examples/books/jargon.txt --chars 200000 --docs 3 \
      --needles 4 --out examples/haystack
  bin/icecache summarize --input examples/haystack/docs --model MODEL.gguf --context 65536 \
      --prompt "{document}" --max-tokens 16
"""
import argparse
import json
import pathlib
import random
import sys

WORDS = ["amber", "basalt", "cobalt", "delta", "ember", "fjord", "garnet", "harbor", "indigo", "juniper",
         "kestrel", "lantern", "meadow", "nectar", "orchid", "pewter", "quartz", "raven", "saffron", "tundra"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--filler", nargs="+", required=True, help="plain-text files to use as the haystack")
    ap.add_argument("--chars", type=int, default=100_000, help="characters per document (default 100000)")
    ap.add_argument("--docs", type=int, default=1, help="documents to write (default 1)")
    ap.add_argument("--needles", type=int, default=1, help="facts planted per document; >1 is multi-key (default 1)")
    ap.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    ap.add_argument("--out", default="examples/haystack", help="output folder (default examples/haystack)")
    a = ap.parse_args()
    if a.chars < 1000 or a.docs < 1 or a.needles < 1:
        sys.exit("make-haystack: --chars must be >= 1000, --docs and --needles >= 1")
    filler = "\n\n".join(pathlib.Path(f).read_text(encoding="utf-8", errors="replace") for f in a.filler)
    if len(filler) < 100:
        sys.exit("make-haystack: the filler files hold under 100 characters; give real text (examples/fetch-books.sh)")
    rng = random.Random(a.seed)
    out = pathlib.Path(a.out)
    (out / "docs").mkdir(parents=True, exist_ok=True)
    with open(out / "answers.jsonl", "w", encoding="utf-8") as answers:
        for d in range(a.docs):
            start = rng.randrange(len(filler))
            text = (filler[start:] + "\n\n" + filler) * (a.chars // len(filler) + 2)
            text = text[:a.chars]
            keys = rng.sample(WORDS, min(a.needles, len(WORDS)))
            facts = {k: str(rng.randrange(10_000, 100_000)) for k in keys}
            doc, offsets, last = [], [], 0
            for i, k in enumerate(keys):
                depth = (i + 1) * len(text) // (len(keys) + 1)
                cut = text.find(" ", depth)
                cut = depth if cut < 0 else cut
                doc.append(text[last:cut])
                offsets.append(sum(map(len, doc)))
                doc.append(f" The secret code of {k} is {facts[k]}. ")
                last = cut
            doc.append(text[last:])
            asked = rng.choice(keys)
            doc.append(f"\n\nQuestion: what is the secret code of {asked}?\nAnswer: The secret code of {asked} is")
            name = f"haystack-{d:03d}.txt"
            (out / "docs" / name).write_text("".join(doc), encoding="utf-8")
            answers.write(json.dumps({"doc": name, "facts": facts, "asked": asked, "answer": facts[asked],
                                      "offsets": offsets}) + "\n")
    print(f"make-haystack: {a.docs} documents of {a.chars} characters in {out / 'docs'}, answers in {out / 'answers.jsonl'}")


if __name__ == "__main__":
    main()
