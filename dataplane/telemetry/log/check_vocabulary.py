#!/usr/bin/env python3
"""Fails if a log writer or lbg-audit spells a measure id or an event type itself, or if a verdict
reason is missing from README.md "How a flow is judged".

The log's vocabulary is declared once, in dataplane/telemetry/log/vocabulary.h; everything that
writes or reads records takes the names from there. Tests (which check the bytes written), fuzz
targets and test fixtures may spell them. Usage: check_vocabulary.py SOURCE_ROOT
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(sys.argv[1])
FOLDERS = ["dataplane", "control", "sanitizer", "tools", "policy"]
VOCABULARY = pathlib.Path("dataplane/telemetry/log/vocabulary.h")
# Files that still spell names, each with the reason. Keep this list short.
EXEMPT = {
    # The deterministic sample log is a fixture (tests, benchmark, demos) written as record text;
    # its measure ids already come from the vocabulary.
    pathlib.Path("tools/audit/sample_log.cc"),
}

text = (ROOT / VOCABULARY).read_text(encoding="utf-8")
measures = re.findall(r'X\(\w+, "(AP-[A-Z-]+)"\)', text)
event_types = re.findall(r'X\(\w+, "([a-z]+)", \w+\)', text)
assert measures and event_types, "vocabulary.h not understood"

Q = r'\\?"'  # a quote, or an escaped one inside a literal that holds JSON
patterns = [
    # A measure id as a whole literal or as a JSON value inside one.
    (re.compile(Q + r"AP-[A-Z][A-Z-]*" + Q), "measure id"),
    # An event type written or compared as a literal.
    (re.compile(r'event_?[tT]ype' + Q + r'?\s*[:,\]=!]*\s*[=!]?=?\s*' + Q + "(" + "|".join(event_types) + ")" + Q),
     "event type"),
    (re.compile(r'[eE]ventType\s*[=!]=\s*"(' + "|".join(event_types) + ')"'), "event type"),
]

def is_exempt(rel: pathlib.Path) -> bool:
    name = rel.name
    return (rel == VOCABULARY or rel in EXEMPT or name.endswith("_test.cc") or name.endswith("_fuzz.cc")
            or name.startswith("test_support") or "testdata" in rel.parts or "fuzz_seeds" in rel.parts)

failures = []
for folder in FOLDERS:
    for path in sorted((ROOT / folder).rglob("*")):
        if path.suffix not in (".cc", ".h") or not path.is_file():
            continue
        rel = path.relative_to(ROOT)
        if is_exempt(rel):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            code = line.split("//", 1)[0] if not line.lstrip().startswith("//") else ""
            for pattern, what in patterns:
                if pattern.search(code):
                    failures.append(f"{rel}:{n}: {what} spelled outside vocabulary.h: {line.strip()}")

# Every reason is explained to the reader of the log (README.md's reason table and narrative).
reasons = re.findall(r'X\(\w+, "([a-z-]+)", \w+, "[^"]*", "[^"]*"\)', text)
assert reasons, "vocabulary.h reasons not understood"
readme = (ROOT / "README.md").read_text(encoding="utf-8")
section = readme[readme.find("### How a flow is judged"):]
section = section[: section.find("\n## ")]
for r in reasons:
    if f"`{r}`" not in section:
        failures.append(f'README.md: reason `{r}` missing from "How a flow is judged"')

for f in failures:
    print(f)
if failures:
    print(f"{len(failures)} problem(s): take names from dataplane/telemetry/log/vocabulary.h; list reasons in README.md")
    sys.exit(1)
print(f"ok: {len(measures)} measure ids, {len(event_types)} event types, no literals outside the vocabulary; "
      f"{len(reasons)} reasons in README.md")
