#!/usr/bin/env python3
"""Benchmarks of `diary`: generated schools of several sizes, each step timed over runs.

    cargo build --release
    python3 benches/run.py                       # 300 and 2000 pupils, 3 runs each
    python3 benches/run.py --sizes 300,2000,20000 --runs 5

For each size N it makes a demo school (`diary init --demo --students N`), issues every
code, then measures, each over --runs runs (median, min-max):

  cold build      public/ and its stamp removed: every page rendered, every diary sealed
  no change       a second build: the up-to-date check finds the inputs unchanged
  no change full  the same with --force: everything loaded, checked and compared
  one day         one school day of marks, attendance, topics and homework added through
                  SQL to the journal (the build day's lessons), then a build between two
                  diary batches (boards only: diaries held), and a build at the batch
                  (`--now`: every diary page and slot sealed anew)

and for each: peak RSS of the build process, files rewritten as the build reports them and
as the file system shows them (a file is rewritten when its inode changes; unchanged files
are hard-linked from the previous output), and the files whose bytes changed. Nothing but
Python's standard library is used. Figures go to stdout as Markdown.
"""

import argparse
import hashlib
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DAY = "2026-11-23"  # a Monday of the demo school's second term


def run_rss(cmd, env=None):
    """Runs a command and waits for it with wait4, to read its own peak RSS.
    Returns (seconds, peak RSS in MB, its stderr and stdout)."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode(errors="replace")
    if proc.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{text}")
    return seconds, usage.ru_maxrss / 1024, text


def tree(dir):
    """path -> (inode, sha256, size) of every file under dir."""
    files = {}
    for root, _, names in os.walk(dir):
        for name in names:
            p = os.path.join(root, name)
            with open(p, "rb") as f:
                data = f.read()
                files[os.path.relpath(p, dir)] = (
                    os.stat(p).st_ino,
                    hashlib.sha256(data).hexdigest(),
                    len(data),
                )
    return files


def compare(before, after):
    """(files rewritten: new inode or new, files whose bytes changed or are new, removed,
    bytes of the changed files: what an upload of the change sends)."""
    rewritten = sum(1 for p, (ino, _, _) in after.items() if before.get(p, (None,))[0] != ino)
    changed = [p for p, (_, h, _) in after.items() if before.get(p, (None, None))[1] != h]
    removed = sum(1 for p in before if p not in after)
    sent = sum(after[p][2] for p in changed)
    return rewritten, len(changed), removed, sent


def reported(text):
    m = re.search(r"\((\d+) new or changed, (\d+) removed\)", text)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


class Day:
    """One school day of the journal: taken out, and put back in, through SQL."""

    def __init__(self, journal, day):
        self.db = journal
        self.day = day
        with sqlite3.connect(journal) as c:
            lessons = "SELECT id FROM lessons WHERE date = ?"
            self.marks = c.execute(
                f"SELECT * FROM marks WHERE lesson_id IN ({lessons})", (day,)
            ).fetchall()
            self.attendance = c.execute(
                f"SELECT * FROM attendance WHERE lesson_id IN ({lessons})", (day,)
            ).fetchall()
            self.links = c.execute(
                f"SELECT * FROM homework_links WHERE lesson_id IN ({lessons})", (day,)
            ).fetchall()
            self.lessons = c.execute(
                "SELECT id, topic, homework, homework_due FROM lessons WHERE date = ?",
                (day,),
            ).fetchall()

    def take_out(self):
        with sqlite3.connect(self.db) as c:
            lessons = "SELECT id FROM lessons WHERE date = ?"
            for table in ("marks", "attendance", "homework_links"):
                c.execute(f"DELETE FROM {table} WHERE lesson_id IN ({lessons})", (self.day,))
            c.execute(
                "UPDATE lessons SET topic = NULL, homework = NULL, homework_due = NULL "
                "WHERE date = ?",
                (self.day,),
            )

    def put_back(self):
        with sqlite3.connect(self.db) as c:
            for table, rows in (
                ("marks", self.marks),
                ("attendance", self.attendance),
                ("homework_links", self.links),
            ):
                if rows:
                    marks = ",".join("?" * len(rows[0]))
                    c.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
            c.executemany(
                "UPDATE lessons SET topic = ?, homework = ?, homework_due = ? WHERE id = ?",
                [(t, h, d, i) for i, t, h, d in self.lessons],
            )

    def __str__(self):
        return (
            f"{len(self.lessons)} lessons, {len(self.marks)} marks, "
            f"{len(self.attendance)} attendance rows, "
            f"{sum(1 for l in self.lessons if l[2])} homework"
        )


def stats(values, unit="s", digits=2):
    med = statistics.median(values)
    if len(values) == 1:
        return f"{med:.{digits}f} {unit}"
    return f"{med:.{digits}f} {unit} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def set_iterations(site, iterations):
    toml = site / "site.toml"
    text = toml.read_text()
    text, n = re.subn(r"(?m)^iterations\s*=\s*\d+", f"iterations = {iterations}", text)
    if n == 0:
        text = re.sub(r"(?m)^\[access\]\s*$", f"[access]\niterations = {iterations}", text)
    toml.write_text(text)


def bench(args, n):
    site = Path(args.work) / f"school-{n}"
    if site.exists():
        shutil.rmtree(site)
    diary = [args.diary, "-C", str(site)]
    env = dict(os.environ, DIARY_TODAY=DAY)
    rows = []

    s, rss, _ = run_rss([args.diary, "init", str(site), "--demo", "--students", str(n)])
    journal = site / "data" / "journal.sqlite"
    rows.append(("make the demo school (once)", f"{s:.2f} s", f"{rss:.0f} MB", "", ""))
    set_iterations(site, args.iterations)

    s, rss, text = run_rss(diary + ["codes", "issue"], env)
    m = re.search(r"issued (\d+) new code", text)
    codes = int(m.group(1)) if m else 0
    per = s / codes * 1000 if codes else 0
    rows.append(
        (
            f"issue every code (once; {codes} codes at {args.iterations} iterations)",
            f"{s:.1f} s ({per:.0f} ms per code)",
            f"{rss:.0f} MB",
            "",
            "",
        )
    )

    public = site / "public"
    cold, cold_rss = [], []
    for _ in range(args.runs):
        shutil.rmtree(public, ignore_errors=True)
        (site / "public.stamp").unlink(missing_ok=True)
        s, rss, text = run_rss(diary + ["build"], env)
        cold.append(s)
        cold_rss.append(rss)
    files = tree(public)
    total = sum(os.path.getsize(public / p) for p in files)
    pages = [os.path.getsize(public / p) for p in files if p.startswith("diary/p/")]
    slots = [os.path.getsize(public / p) for p in files if p.startswith("diary/k/")]
    w, _ = reported(text)
    rows.append(("cold build", stats(cold), stats(cold_rss, "MB", 0), f"{w}", f"{len(files)}"))

    def rebuilds(label, extra, before_each=None):
        times, rsss, counts = [], [], []
        for _ in range(args.runs):
            if before_each:
                before_each()
            before = tree(public)
            s, rss, text = run_rss(diary + ["build"] + extra, env)
            after = tree(public)
            times.append(s)
            rsss.append(rss)
            counts.append((reported(text)[0], *compare(before, after)))
        r = counts[-1]
        rows.append(
            (
                label,
                stats(times),
                stats(rsss, "MB", 0),
                f"{r[0]} reported, {r[1]} on disk",
                f"{r[2]} changed ({r[4] / 1e6:.1f} MB), {r[3]} removed",
            )
        )
        return counts

    rebuilds("rebuild, nothing changed", [])
    rebuilds("rebuild, nothing changed, --force", ["--force"])

    day = Day(journal, DAY)

    def new_day():
        # The journal without the day, built and published (not timed); then the day
        # comes in.
        day.take_out()
        (site / "public.stamp").unlink(missing_ok=True)
        run_rss(diary + ["build", "--now"], env)
        day.put_back()

    rebuilds(f"one school day ({day}), between batches: boards only, diaries held", [], new_day)
    counts = rebuilds("the same day at the diary batch (--now): every diary sealed anew", ["--now"], new_day)
    for r in counts:
        if not (r[0] == r[1] == r[2]):
            print(
                f"warning: N={n}: the build reported {r[0]} rewritten files, the disk shows "
                f"{r[1]} rewritten and {r[2]} changed",
                file=sys.stderr,
            )

    print(f"\n### {n} pupils\n")
    print(f"Output: {len(files)} files, {total / 1e6:.1f} MB; {len(pages)} diary pages of "
          f"{' / '.join(str(x) for x in sorted(set(pages)))} bytes and {len(slots)} slots of "
          f"{' / '.join(str(x) for x in sorted(set(slots)))} bytes (one size each).\n")
    print("| step | time, median (min–max) | peak RSS | files rewritten | files |")
    print("|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    sys.stdout.flush()
    if not args.keep:
        shutil.rmtree(site)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="300,2000", help="pupils per school, comma-separated")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--diary", default="target/release/diary")
    p.add_argument("--work", default="/tmp/diary-bench")
    p.add_argument(
        "--iterations",
        type=int,
        default=100000,
        help="PBKDF2 iterations of the codes (site.toml [access]); the cost of issuing "
        "codes grows with it, a build's does not",
    )
    p.add_argument("--keep", action="store_true", help="keep the generated schools")
    args = p.parse_args()
    if not os.access(args.diary, os.X_OK):
        sys.exit(f"{args.diary} not found: run `cargo build --release` first")
    Path(args.work).mkdir(parents=True, exist_ok=True)
    cores = os.cpu_count()
    version = subprocess.run([args.diary, "--version"], capture_output=True, text=True).stdout
    print(f"# diary benchmarks\n\n{version.strip()}, {cores} cores, build day {DAY}, "
          f"{args.runs} runs per step.")
    for n in [int(x) for x in args.sizes.split(",")]:
        bench(args, n)


if __name__ == "__main__":
    main()
