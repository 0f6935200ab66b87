#!/usr/bin/env python3
"""Usage: meson introspect BUILD --tests | test_targets.py BUILD SUITE...
Prints the ninja targets (built files relative to BUILD) that the tests in the given suites run or
take as arguments, so CI builds only what it runs. Paths that are not build targets (work folders,
corpora) are ignored."""
import json
import os
import subprocess
import sys

build = os.path.realpath(sys.argv[1])
suites = set(sys.argv[2:])
built = set()
for t in json.loads(subprocess.run(["meson", "introspect", build, "--targets"], check=True,
                                   capture_output=True, text=True).stdout):
    for f in t.get("filename", []):
        built.add(os.path.realpath(f))
targets = set()
for t in json.load(sys.stdin):
    if not suites & {s.split(":")[-1] for s in t.get("suite", [])}:
        continue
    for part in t["cmd"]:
        p = os.path.realpath(part) if isinstance(part, str) else ""
        if p in built:
            targets.add(os.path.relpath(p, build))
print(" ".join(sorted(targets)))
