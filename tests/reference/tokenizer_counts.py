#!/usr/bin/env python3
"""Independent reference for the JSON reader: parses the real tokenizer.json files in
../shared/tokenizers with Python's json module and writes figures that test_json.c compares
with what lvs_json_parse reads (counts, id sums and UTF-8 byte totals of every string).
Usage: python3 tests/reference/tokenizer_counts.py [SHARED] > tests/fixtures/tokenizer_counts.txt"""
import json, os, sys

shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared")

def nbytes(s):
    return len(s.encode("utf-8"))

def walk(v, acc):
    """counts of every value kind and total bytes of strings and keys, in the whole document"""
    if isinstance(v, dict):
        acc["objects"] += 1
        for k, x in v.items():
            acc["keybytes"] += nbytes(k)
            walk(x, acc)
    elif isinstance(v, list):
        acc["arrays"] += 1
        for x in v:
            walk(x, acc)
    elif isinstance(v, str):
        acc["strings"] += 1
        acc["strbytes"] += nbytes(v)
    elif isinstance(v, bool) or v is None:
        acc["literals"] += 1
    else:
        acc["numbers"] += 1
        if isinstance(v, int):
            acc["intsum"] += v

for name in ("gpt2", "llama2", "llama3", "qwen3"):
    path = os.path.join(shared, "tokenizers", name, "tokenizer.json")
    with open(path, "rb") as f:
        raw = f.read()
    doc = json.loads(raw.decode("utf-8"))
    acc = dict(objects=0, arrays=0, strings=0, literals=0, numbers=0, intsum=0, keybytes=0, strbytes=0)
    walk(doc, acc)
    vocab = doc["model"]["vocab"]
    print(name, len(raw), len(vocab), len(doc["model"]["merges"]), len(doc["added_tokens"]),
          acc["objects"], acc["arrays"], acc["strings"], acc["literals"], acc["numbers"], acc["intsum"],
          acc["keybytes"], acc["strbytes"])
