#!/usr/bin/env python
"""Regenerate tests/golden/small_county.json — deliberately, never from a test.

Run this only when results are *meant* to change (a model fix, a recalibrated baseline, a new
KPI), say so in the commit message, and review the printed differences first:

    .venv/bin/python benchmarks/regen_golden.py            # show differences and write
    .venv/bin/python benchmarks/regen_golden.py --dry-run  # only show differences

A pure speed-up must not need this: tests/test_golden.py is there to prove it.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import golden  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dry-run", action="store_true", help="print differences, do not write")
    args = ap.parse_args(argv)
    actual = golden.compute()
    if golden.GOLDEN.exists():
        diffs = golden.differences(golden.load(), actual)
        print(f"{len(diffs)} difference(s) from the stored golden summary" + (":" if diffs else ""))
        for d in diffs:
            print("  " + d)
    else:
        print(f"no golden summary yet at {golden.GOLDEN.relative_to(ROOT)}")
    if args.dry_run:
        return 0
    golden.save(actual)
    print(f"wrote {golden.GOLDEN.relative_to(ROOT)} ({actual['replications']} replications of {actual['config']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
