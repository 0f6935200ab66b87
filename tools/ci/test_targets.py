#!/usr/bin/env python3
"""Usage: meson introspect BUILD --tests | test_targets.py BUILD SUITE...
Prints the ninja targets (test executables relative to BUILD) of the tests in the given suites, so
CI builds only what it runs. Scripts (tests whose command is not built) are skipped."""
import json
import os
import sys

build = os.path.realpath(sys.argv[1])
suites = set(sys.argv[2:])
targets = set()
for t in json.load(sys.stdin):
    if not suites & {s.split(":")[-1] for s in t.get("suite", [])}:
        continue
    for part in t["cmd"] + t.get("depends", []):
        if isinstance(part, str) and os.path.realpath(part).startswith(build + os.sep):
            targets.add(os.path.relpath(os.path.realpath(part), build))
print(" ".join(sorted(targets)))
