#!/usr/bin/env python3
"""Size and time of each gzip level on real diary pages, to choose the level of payloads.

    cargo build --release
    python3 benches/gzip_levels.py --site SITE [--today 2026-11-23] [--levels 1,2,3,4,5,6,9]

A diary payload is a child's diary page, gzip-compressed, then sealed (docs/access.md).
This prints every pupil's diary page of SITE as standalone HTML (`diary print diaries
--class all`, the page the online diary shows) into a temporary folder, then compresses
each page at each level with Python's zlib (the same deflate format and levels as the
build's flate2; absolute times differ a little, the ratios between levels hold) and prints
a Markdown table: total and median compressed size, the ratio to level 6 (the build's
level), and the CPU time per page. Nothing but Python's standard library is used.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
import zlib
from pathlib import Path


def pages(site, today, diary):
    """The bytes of every pupil's standalone diary page, printed into the site's private
    print folder and removed from it once read."""
    out = []
    env = dict(os.environ, DIARY_TODAY=today)
    print_dir = Path(site, "print")
    before = set(print_dir.glob("diaries-*")) if print_dir.exists() else set()
    cmd = [diary, "-C", site, "print", "diaries", "--class", "all"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr}")
    for folder in sorted(set(print_dir.glob("diaries-*")) - before):
        for page in sorted(folder.glob("*.html")):
            if page.name != "index.html":
                out.append(page.read_bytes())
            page.unlink()
        for rest in folder.iterdir():
            rest.unlink()
        folder.rmdir()
    return out


def gzip_size(data, level):
    c = zlib.compressobj(level, zlib.DEFLATED, 31)  # 31: a gzip header, as flate2 writes
    return len(c.compress(data) + c.flush())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--site", required=True)
    ap.add_argument("--today", default="2026-11-23")
    ap.add_argument("--levels", default="1,2,3,4,5,6,9")
    ap.add_argument("--diary", default=str(Path(__file__).resolve().parent.parent / "target/release/diary"))
    args = ap.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    html = pages(args.site, args.today, args.diary)
    if not html:
        sys.exit("no diary pages were printed")
    raw = sum(len(p) for p in html)
    print(f"{len(html)} diary pages, {raw / 1e6:.1f} MB of HTML "
          f"(median {statistics.median(len(p) for p in html) / 1e3:.1f} KB)\n")
    rows = {}
    for level in levels:
        started = time.process_time()
        sizes = [gzip_size(p, level) for p in html]
        cpu = time.process_time() - started
        rows[level] = (sum(sizes), statistics.median(sizes), cpu / len(html))
    base = rows.get(6, next(iter(rows.values())))[0]
    print("| level | total gzipped | median page | vs level 6 | CPU per page |")
    print("|---|---|---|---|---|")
    for level, (total, median, per) in rows.items():
        print(f"| {level} | {total / 1e6:.2f} MB | {median / 1e3:.1f} KB | "
              f"{total / base * 100:.0f} % | {per * 1e3:.2f} ms |")


if __name__ == "__main__":
    main()
