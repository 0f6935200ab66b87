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
by_id = {}
built = set()
for t in json.loads(subprocess.run(["meson", "introspect", build, "--targets"], check=True,
                                   capture_output=True, text=True).stdout):
    files = [os.path.realpath(f) for f in t.get("filename", [])]
    by_id[t["id"]] = files
    built.update(files)
targets = set()
for t in json.load(sys.stdin):
    if not suites & {s.split(":")[-1] for s in t.get("suite", [])}:
        continue
    wanted = [os.path.realpath(p) for p in t["cmd"][:1] if isinstance(p, str)]
    for dep in t.get("depends", []):  # executables a test takes as arguments
        wanted += by_id.get(dep, [])
    for p in wanted:
        if p in built:
            targets.add(os.path.relpath(p, build))
print(" ".join(sorted(targets)))
