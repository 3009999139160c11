#!/usr/bin/env python3
"""Creating many files in one folder: one process against two side by side.

    python3 benches/create_files.py [--work /tmp/diary-bench] [--files 14000] [--size 7000] [--runs 3]

A cold build creates every sealed chunk of the site in one folder (`diary/c/`, 14006 files
as of 2027-05-24 at 2000 pupils). This measures what the file system charges for that, on
the folder --work is on: --files files of --size random bytes created and written in a new
folder by one process, then the same split between two processes writing side by side.
Prints a Markdown table (median and range over --runs, wall and system CPU). Python's
standard library only.
"""

import argparse
import os
import shutil
import statistics
import tempfile
import time
from multiprocessing import Process


def write(folder, prefix, count, size):
    data = os.urandom(size)
    for i in range(count):
        with open(os.path.join(folder, f"{prefix}{i:06x}0123456789abcdef0123456789.bin"), "wb") as f:
            f.write(data)


def one_run(work, files, size, writers):
    folder = tempfile.mkdtemp(dir=work, prefix="create-")
    before = os.times()
    started = time.perf_counter()
    procs = [Process(target=write, args=(folder, k, files // writers, size)) for k in range(writers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    wall = time.perf_counter() - started
    after = os.times()
    system = after.children_system - before.children_system
    shutil.rmtree(folder)
    return wall, system


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    p.add_argument("--work", default="/tmp/diary-bench")
    p.add_argument("--files", type=int, default=14000)
    p.add_argument("--size", type=int, default=7000)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    print(f"{args.files} files of {args.size} B in one new folder, {args.runs} runs\n")
    print("| writers | wall, median (min–max) | system CPU, median |")
    print("|---|---|---|")
    for writers in (1, 2):
        runs = [one_run(args.work, args.files, args.size, writers) for _ in range(args.runs)]
        walls = [w for w, _ in runs]
        systems = [s for _, s in runs]
        print(
            f"| {writers} | {statistics.median(walls):.2f} s ({min(walls):.2f}–{max(walls):.2f}) "
            f"| {statistics.median(systems):.2f} s |"
        )


if __name__ == "__main__":
    main()
