#!/usr/bin/env python3
"""Benchmarks of `diary`: generated schools of several sizes, each step timed over runs.

    cargo build --release
    python3 benches/run.py                       # 2000 pupils, 3 runs of each step
    python3 benches/run.py --sizes 2000,20000 --runs 3
    python3 benches/run.py --sizes 2000 --download 12   # and the browser's download
    python3 benches/run.py --reuse --days 2026-11-23 --steps nothing,day   # a school made before

For each size N it makes a demo school (`diary init --demo --students N`), issues every
code (at --iterations PBKDF2 iterations), then, for each build day (--days: 2026-11-23, a
Monday of the second term, and 2027-05-24, late in the year, when every earlier part of the
year has its chunks), measures each step --runs times (median, min-max):

  cold build      a first build: public/ and its spare moved aside (deleted once the
                  school's steps are done), its stamp and the private manifest removed:
                  every page rendered, every diary chunk and slot sealed
  nothing changed a second build: the up-to-date check finds the inputs unchanged
  … --force       the same with --force: everything loaded, checked and compared
  one school day  the build day's marks, attendance, topics, homework and links taken out of
                  the journal through SQL, a batch published without them (not timed), the
                  day put back; then a build between two batches (boards only, diaries
                  held) and a build at the batch (`--now`: the changed groups sealed anew)

and for each: wall time, CPU (user + system), peak RSS of the build process (wait4), the
phases `diary build --timings` reports, and the files rewritten by kind (diary chunks
`diary/c/` grouped by size, that is by kind; slots `diary/k/`; v1 pages `diary/p/`; boards
and the rest), as the file system shows them (a rewritten file has a new inode; unchanged
files are hard-linked from the previous output), checked against what the build reports
and against the files whose bytes changed. Targets are printed beside the figures, and the
load average before each step. With --download K, benches/download.mjs then measures, in
headless Chromium, what a parent downloads to open K pupils' diaries on the first size.
Nothing but Python's standard library is used (and Node for --download). Figures go to
stdout as Markdown.
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

DAYS = ("2026-11-23", "2027-05-24")
# The targets at 2000 pupils on 2 cores (the 20000-pupil school: within 10× of them).
COLD_TARGET = {"2026-11-23": 3.0, "2027-05-24": 6.0}
NOTHING_TARGET = 0.2
DAY_TARGET = 1.0
RSS_TARGET = 300


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def run_rss(cmd, env=None):
    """Runs a command and waits for it with wait4, to read its own peak RSS and CPU.
    Returns (seconds, peak RSS in MB, its stderr and stdout, CPU seconds)."""
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
    return seconds, usage.ru_maxrss / 1024, text, usage.ru_utime + usage.ru_stime


def listing(dir):
    """path -> (inode, mtime in ns, size) of every file under dir, without reading any.
    The harness reads no output around a timed build: reading it all (800 MB at 20000
    pupils) made the harness, not the build, the last to use the machine's memory."""
    files = {}
    for root, _, names in os.walk(dir):
        for name in names:
            p = os.path.join(root, name)
            st = os.stat(p)
            files[os.path.relpath(p, dir)] = (st.st_ino, st.st_mtime_ns, st.st_size)
    return files


def sha256_of(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def settle(before, after, public, spare):
    """The listings of the output before and after a build as path -> (inode, sha256,
    size), reading only the files the build replaced: a file it kept is the same file
    (same inode, same bytes) on both sides; one it replaced is read from `public` and, as
    it was, from `spare`, the folder the old output became when the build swapped in the
    new one; a file at a new path is new ("new")."""
    old, new = {}, {}
    for p, (ino, mtime, size) in after.items():
        was = before.get(p)
        if was and was[0] == ino:
            if (was[1], was[2]) != (mtime, size):
                print(f"warning: {p} of the live output was written in place", file=sys.stderr)
                old[p], new[p] = (ino, "before", was[2]), (ino, "after", size)
            else:
                old[p] = new[p] = (ino, "kept", size)
            continue
        if was:
            new[p] = (ino, sha256_of(os.path.join(public, p)), size)
            old[p] = (was[0], sha256_of(os.path.join(spare, p)), was[2])
        else:
            new[p] = (ino, "new", size)
    for p, (ino, _, size) in before.items():
        old.setdefault(p, (ino, None, size))
    return old, new


def kind(path):
    for prefix, name in (("diary/c/", "c"), ("diary/k/", "k"), ("diary/p/", "p")):
        if path.startswith(prefix):
            return name
    return "other"


def by_kind(paths, files):
    """Counts of paths by kind, and the diary chunks by file size (one size per chunk kind)."""
    counts = {"c": 0, "k": 0, "p": 0, "other": 0}
    sizes = {}
    for p in paths:
        k = kind(p)
        counts[k] += 1
        if k == "c":
            sizes[files[p][2]] = sizes.get(files[p][2], 0) + 1
    return counts, sizes


def describe(counts, sizes):
    parts = []
    if counts["c"]:
        groups = ", ".join(f"{n} × {size} B" for size, n in sorted(sizes.items()))
        parts.append(f"chunks c/ {counts['c']} ({groups})")
    else:
        parts.append("chunks c/ 0")
    parts.append(f"slots k/ {counts['k']}")
    if counts["p"]:
        parts.append(f"v1 pages p/ {counts['p']}")
    parts.append(f"boards/other {counts['other']}")
    return ", ".join(parts)


def compare(before, after):
    """Files rewritten (new inode, or new), files whose bytes changed (or are new), removed,
    bytes of the changed files (what an upload of the change sends)."""
    rewritten = [p for p, (ino, _, _) in after.items() if before.get(p, (None,))[0] != ino]
    changed = [p for p, (_, h, _) in after.items() if before.get(p, (None, None))[1] != h]
    removed = [p for p in before if p not in after]
    sent = sum(after[p][2] for p in changed)
    return rewritten, changed, removed, sent


def reported(text):
    m = re.search(r"\((\d+) new or changed, (\d+) removed\)", text)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def phases(text):
    """The phases of `diary build --timings`: name -> seconds."""
    m = re.search(r"^phases: (.*)$", text, re.M)
    if not m:
        return {}
    out = {}
    line = m.group(1)
    # A phase's steps follow it in brackets: "diaries 1.7 s (bind 0.0 s, now 1.6 s, …)".
    for phase, steps in re.findall(r"(\w[\w ]*?) [\d.]+ s \(([^)]*)\)", line):
        for step in steps.split(", "):
            name, _, value = step.rpartition(" ")[0].rpartition(" ")
            try:
                out[f"{phase}: {name}"] = out.get(f"{phase}: {name}", 0) + float(value)
            except ValueError:
                pass
    for part in re.sub(r" \([^)]*\)", "", line).split(", "):
        name, _, value = part.rpartition(" ")[0].rpartition(" ")
        try:
            out[name] = out.get(name, 0) + float(value)
        except ValueError:
            pass
    return out


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


def verdict(value, target):
    return "met" if value <= target else f"missed ({value / target:.1f}×)"


def set_iterations(site, iterations):
    toml = site / "site.toml"
    text = toml.read_text()
    text, n = re.subn(r"(?m)^iterations\s*=\s*\d+", f"iterations = {iterations}", text)
    if n == 0:
        if re.search(r"(?m)^\[access\]\s*$", text):
            text = re.sub(r"(?m)^\[access\]\s*$", f"[access]\niterations = {iterations}", text)
        else:
            text += f"\n[access]\niterations = {iterations}\n"
    toml.write_text(text)


class Bench:
    """The steps on one school, one build day at a time."""

    def __init__(self, args, n):
        self.args = args
        self.n = n
        self.site = Path(args.work) / f"school-{n}"
        self.public = self.site / "public"
        self.diary = [args.diary, "-C", str(self.site)]
        self.rows = []  # (day, step, time, cpu, rss, files rewritten, files changed, target)
        self.phase_rows = []  # (day, step, {phase: median seconds})
        self.summary = {}  # (day, step) -> (median s, median MB)
        self.outputs = {}  # day -> description of the output

    def env(self, day):
        return dict(os.environ, DIARY_TODAY=day)

    def setup(self):
        site = self.site
        self.journal = site / "data" / "journal.sqlite"
        if self.args.reuse and (site / ".diary" / "store.json").is_file():
            self.once = [("the demo school and its codes, made before (--reuse)", "", "", "")]
            set_iterations(site, self.args.iterations)
            return
        if site.exists():
            shutil.rmtree(site)
        la = loadavg()
        s, rss, _, _ = run_rss([self.args.diary, "init", str(site), "--demo", "--students", str(self.n)])
        self.once = [("make the demo school (once)", f"{s:.2f} s", f"{rss:.0f} MB", la)]
        set_iterations(site, self.args.iterations)
        la = loadavg()
        s, rss, text, _ = run_rss(self.diary + ["codes", "issue"], self.env(DAYS[0]))
        m = re.search(r"issued (\d+) new code", text)
        codes = int(m.group(1)) if m else 0
        per = s / codes * 1000 if codes else 0
        self.once.append(
            (
                f"issue every code (once; {codes} codes at {self.args.iterations} iterations)",
                f"{s:.1f} s ({per:.0f} ms per code)",
                f"{rss:.0f} MB",
                la,
            )
        )

    def cold(self):
        """A school's first build: no output folder, no spare, no stamp, no manifest.

        The folders are moved aside, not deleted: ext4 keeps a freed inode from being
        given out again for a while, so deleting the last build's ~10000 files just
        before made every file the build created search past them (`recently_deleted`
        in a profile, an eighth of the build's samples). A first build never follows
        such a deletion. What is moved aside is deleted once the school's steps are done."""
        trash = Path(self.args.work) / "trash"
        trash.mkdir(exist_ok=True)
        for folder in (self.public, self.site / "public.spare"):
            if folder.exists():
                folder.rename(Path(tempfile.mkdtemp(dir=trash)) / folder.name)
        (self.site / "public.stamp").unlink(missing_ok=True)
        for manifest in self.site.glob(".diary/manifest.json"):
            manifest.unlink()

    def step(self, day, label, extra, before_each=None, target=None, cold=False):
        """Times `diary build` --runs times; one row of the table."""
        times, cpus, rsss, counts, laps = [], [], [], [], []
        la = loadavg()
        for _ in range(self.args.runs):
            if before_each:
                before_each()
            if cold:
                self.cold()
            before = {} if cold else listing(self.public)
            s, rss, text, cpu = run_rss(self.diary + ["build", "--timings"] + extra, self.env(day))
            before, after = settle(
                before, listing(self.public), self.public, self.site / "public.spare"
            )
            times.append(s)
            cpus.append(cpu)
            rsss.append(rss)
            laps.append(phases(text))
            print(f"N={self.n} {day} {label}: {s:.2f} s, {rss:.0f} MB; "
                  + (re.search(r"^phases: .*$", text, re.M) or re.search(r"^.*$", text)).group(0),
                  file=sys.stderr, flush=True)
            rewritten, changed, removed, sent = compare(before, after)
            counts.append((reported(text)[0], rewritten, changed, removed, sent, after))
        w, rewritten, changed, removed, sent, after = counts[-1]
        for r in counts:
            if not (r[0] == len(r[1]) == len(r[2])):
                print(
                    f"warning: N={self.n} {day} {label}: the build reported {r[0]} rewritten "
                    f"files, the disk shows {len(r[1])} rewritten and {len(r[2])} changed",
                    file=sys.stderr,
                )
        med = statistics.median(times)
        tgt = ""
        if target is not None:
            tgt = f"≤ {target:g} s: {verdict(med, target)}" if self.n <= 2000 else f"≤ {target:g} s at 2000"
        self.rows.append(
            (
                day,
                label,
                stats(times),
                stats(cpus),
                stats(rsss, "MB", 0),
                f"{len(rewritten)} ({w} reported): {describe(*by_kind(rewritten, after))}",
                f"{len(changed)} changed ({sent / 1e6:.1f} MB), {len(removed)} removed",
                tgt,
                la,
            )
        )
        names = []
        for lap in laps:
            for name in lap:
                if name not in names:
                    names.append(name)
        self.phase_rows.append(
            (day, label, {k: statistics.median([lap.get(k, 0) for lap in laps]) for k in names})
        )
        self.summary[(day, label.split(" (")[0])] = (med, statistics.median(rsss))
        return after

    def one_day(self, day):
        d = Day(self.journal, day)

        def new_day():
            # The journal without the day, published in a batch (not timed); then the day
            # comes in.
            d.take_out()
            (self.site / "public.stamp").unlink(missing_ok=True)
            run_rss(self.diary + ["build", "--now"], self.env(day))
            d.put_back()

        return d, new_day

    def day(self, day):
        steps = self.args.steps
        if "cold" in steps:
            files = self.step(day, "cold build", [], target=COLD_TARGET.get(day), cold=True)
        else:
            # The output as it is: built before (--reuse), or by the other day's steps.
            run_rss(self.diary + ["build"], self.env(day))
            files = listing(self.public)
        total = sum(v[2] for v in files.values())
        chunks = {}
        for p, (_, _, size) in files.items():
            if kind(p) == "c":
                chunks[size] = chunks.get(size, 0) + 1
        slots = sorted({v[2] for p, v in files.items() if kind(p) == "k"})
        pages = sorted({v[2] for p, v in files.items() if kind(p) == "p"})
        text = f"{len(files)} files, {total / 1e6:.1f} MB; "
        if chunks:
            text += "diary chunks: " + ", ".join(
                f"{n} of {size} B" for size, n in sorted(chunks.items(), key=lambda x: -x[1])
            ) + f" ({sum(chunks.values())} in all, {sum(s * n for s, n in chunks.items()) / 1e6:.1f} MB); "
        if pages:
            text += f"{sum(1 for p in files if kind(p) == 'p')} v1 pages of {' / '.join(map(str, pages))} B; "
        text += f"{sum(1 for p in files if kind(p) == 'k')} slots of {' / '.join(map(str, slots))} B"
        self.outputs[day] = text
        if "nothing" in steps:
            self.step(day, "nothing changed", [], target=NOTHING_TARGET)
        if "force" in steps:
            self.step(day, "nothing changed, --force", ["--force"])
        d, new_day = self.one_day(day)
        if "between" in steps:
            self.step(day, f"one school day ({d}), between batches: boards only, diaries held", [], new_day)
        if "day" in steps:
            self.step(day, f"one school day ({d}), at the next batch (`--now`): the changed groups sealed anew",
                      ["--now"], new_day, target=DAY_TARGET)

    def report(self):
        n = self.n
        print(f"\n### {n} pupils\n")
        for day in self.args.days:
            if day in self.outputs:
                print(f"Output as of {day}: {self.outputs[day]}.\n")
        print("| step | time, median (min–max) | load average before |")
        print("|---|---|---|")
        for label, t, rss, la in self.once:
            print(f"| {label} | {t}{', peak RSS ' + rss if rss else ''} | {la} |")
        print()
        print("| build day | step | wall, median (min–max) | CPU user+sys | peak RSS | files rewritten (new inode) | bytes | target | load average before |")
        print("|---|---|---|---|---|---|---|---|---|")
        for r in self.rows:
            print("| " + " | ".join(r) + " |")
        rss = max(v[1] for v in self.summary.values())
        print(f"\nPeak RSS of any build: {rss:.0f} MB (target ≤ {RSS_TARGET} MB"
              + (f": {verdict(rss, RSS_TARGET)})" if n <= 2000 else " at 2000)"))
        print("\nPhases (`diary build --timings`, median seconds):\n")
        print("| build day | step | phases |")
        print("|---|---|---|")
        for day, label, ph in self.phase_rows:
            short = re.sub(r" \(\d+ lessons[^)]*\)", "", label).split(": ")[0]
            print(f"| {day} | {short} | " + ", ".join(f"{k} {v:.3f}" for k, v in ph.items()) + " |")
        sys.stdout.flush()


def download(args, bench):
    """benches/download.mjs on the school as of the first build day (rebuilt cold)."""
    day = args.days[0]
    bench.cold()
    run_rss(bench.diary + ["build"], bench.env(day))
    script = Path(__file__).resolve().parent / "download.mjs"
    print(f"\n### {bench.n} pupils: what a parent downloads (load average {loadavg()})\n")
    sys.stdout.flush()
    done = subprocess.run(
        ["node", str(script), "--site", str(bench.site), "--pupils", str(args.download),
         "--diary", args.diary, "--today", day]
    )
    if done.returncode != 0:
        print(f"warning: download.mjs exited {done.returncode}", file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    p.add_argument("--sizes", default="2000", help="pupils per school, comma-separated")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--days", default=",".join(DAYS), help="build days (DIARY_TODAY), comma-separated")
    p.add_argument("--diary", default="target/release/diary")
    p.add_argument("--work", default="/tmp/diary-bench")
    p.add_argument(
        "--iterations",
        type=int,
        default=100000,
        help="PBKDF2 iterations of the codes (site.toml [access]); the cost of issuing "
        "codes grows with it, a build's does not",
    )
    p.add_argument("--download", type=int, default=0, metavar="K",
                   help="measure the browser's download for K pupils of the first size")
    p.add_argument("--steps", default="cold,nothing,force,between,day",
                   help="which steps: cold, nothing (changed), force, between (batches), day "
                   "(at the next batch); comma-separated")
    p.add_argument("--keep", action="store_true", help="keep the generated schools")
    p.add_argument("--reuse", action="store_true",
                   help="use a school of --work made before, with its codes (implies --keep)")
    args = p.parse_args()
    args.days = args.days.split(",")
    args.keep = args.keep or args.reuse
    args.steps = set(args.steps.split(","))
    args.diary = os.path.abspath(args.diary)
    if not os.access(args.diary, os.X_OK):
        sys.exit(f"{args.diary} not found: run `cargo build --release` first")
    Path(args.work).mkdir(parents=True, exist_ok=True)
    cores = os.cpu_count()
    version = subprocess.run([args.diary, "--version"], capture_output=True, text=True).stdout
    print(f"# diary benchmarks\n\n{version.strip()}, {cores} cores, build days "
          f"{', '.join(args.days)}, {args.runs} runs per step; load average at the start "
          f"{loadavg()}.")
    benches = []
    for i, n in enumerate(int(x) for x in args.sizes.split(",")):
        b = Bench(args, n)
        b.setup()
        # The later day first, so that the steps of the first day run on its own build.
        for day in reversed(args.days):
            b.day(day)
        b.report()
        shutil.rmtree(Path(args.work) / "trash", ignore_errors=True)
        if i == 0 and args.download:
            download(args, b)
        benches.append(b)
        if not args.keep:
            shutil.rmtree(b.site)
    if len(benches) > 1:
        small = benches[0]
        print(f"\n### {', '.join(str(b.n) for b in benches[1:])} against {small.n} pupils (target: within 10×)\n")
        print("| build day | step | " + " | ".join(f"{b.n} ÷ {small.n}" for b in benches[1:]) + " |")
        print("|---|---|" + "---|" * (len(benches) - 1))
        for key, (t, _) in small.summary.items():
            cells = []
            for b in benches[1:]:
                if key in b.summary and t > 0:
                    cells.append(f"{b.summary[key][0] / t:.1f}× time, {b.summary[key][1] / small.summary[key][1]:.1f}× RSS")
                else:
                    cells.append("—")
            print(f"| {key[0]} | {key[1]} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
