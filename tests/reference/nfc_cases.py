#!/usr/bin/env python3
"""Test vectors for NFC from the Unicode Consortium's NormalizationTest.txt (Debian's
unicode-data, /usr/share/unicode/NormalizationTest.txt.bz2). For each selected line
c1;c2;c3;c4;c5 the conformance rules say NFC(c1) = NFC(c2) = NFC(c3) = c2 and
NFC(c4) = NFC(c5) = c4. Writes tests/fixtures/nfc_cases.txt with lines "SOURCE;EXPECTED" in
hex code points: all of parts 0, 2 and 3 and every 12th line of part 1."""
import bz2, os, sys
src = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/unicode/NormalizationTest.txt.bz2"
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "nfc_cases.txt")
part, n1, rows = None, 0, []
for line in bz2.open(src, "rt", encoding="utf-8"):
    if line.startswith("@Part"):
        part = line.split()[0]
        continue
    line = line.split("#")[0].strip()
    if not line:
        continue
    c = [x.strip() for x in line.split(";")[:5]]
    if part == "@Part1":
        n1 += 1
        if n1 % 12:
            continue
    for s, e in ((c[0], c[1]), (c[1], c[1]), (c[2], c[1]), (c[3], c[3]), (c[4], c[3])):
        rows.append("%s;%s" % (s, e))
rows = list(dict.fromkeys(rows))
with open(out, "w") as f:
    f.write("# NFC(SOURCE) = EXPECTED, from Unicode's NormalizationTest.txt (see tests/reference/nfc_cases.py)\n")
    f.write("\n".join(rows) + "\n")
print(len(rows), "cases")
