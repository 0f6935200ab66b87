#!/usr/bin/env python3
"""Sums meson's testlog.json files into the closing line CI reads: `N passed, N failed, N skipped`.
Exits non-zero if any test failed or if no test ran at all."""
import json
import sys

passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                result = r.get("result")
                if result in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif result == "SKIP":
                    skipped += 1
                else:
                    failed += 1
                    print(f"FAILED: {path}: {r.get('name')} ({result})")
    except FileNotFoundError:
        print(f"missing test log {path}")
        failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or passed == 0 else 0)
