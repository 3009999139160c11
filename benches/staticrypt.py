#!/usr/bin/env python3
"""diary against StatiCrypt: sealing every pupil's diary behind that family's password.

StatiCrypt (npm `staticrypt`, pinned in benches/staticrypt/) is what a school would use
today to put one page per pupil behind a password on a static host: one call per page, each
with that page's password. This script measures both tools on the same site and pupils:

  - the plain pages: `diary print diaries --class all` (one standalone HTML file per pupil,
    the same content as the sealed online diary);
  - StatiCrypt with its default settings, ONE CALL PER PUPIL on that pupil's page with the
    pupil's own access code as the password (from `diary codes list --format csv`);
  - diary: `diary build` cold (public/ removed, the private store kept: every payload is
    encrypted anew), the same build warm (nothing changed), and the one-off cost of issuing
    one access code (`diary codes issue` on a throwaway copy of the site: the real site's
    codes are never re-issued);
  - the bytes a parent's phone downloads to open one diary with each tool.

Usage (the site must have codes issued and a built public/ folder):

    python3 benches/staticrypt.py --site /tmp/sc300 [--runs 3] [--pupils N] [--jobs J]

Python 3 standard library only; needs node and npm for StatiCrypt. Prints counts and
timings only: never a child's name, id or code.
"""

import argparse
import csv
import gzip
import io
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = None

REPO = Path(__file__).resolve().parent.parent
SC_DIR = REPO / "benches" / "staticrypt"
SC_BIN = SC_DIR / "node_modules" / ".bin" / "staticrypt"
CODE_RE = re.compile(r"[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}")

# Opens a slot (docs/access.md) with WebCrypto: the code comes on standard input, the answer
# is the slot name, the slot's version and, per child, the files to fetch (random hex names,
# nothing personal): v1, the page file; v2, the `now` chunk and the chunk of every earlier
# part of the year listed in it.
OPEN_SLOT_JS = r"""
const fs = require('fs');
const { webcrypto } = require('crypto');
const subtle = webcrypto.subtle;
const enc = (t) => new TextEncoder().encode(t);
const open = async (raw, file, aad) => new Uint8Array(await subtle.decrypt(
  { name: 'AES-GCM', iv: file.subarray(0, 12), additionalData: enc(aad) },
  await subtle.importKey('raw', raw, 'AES-GCM', false, ['decrypt']), file.subarray(12)));
const unpad = async (p) => {
  const len = new DataView(p.buffer, p.byteOffset).getUint32(0);
  const gz = new Response(p.subarray(4, 4 + len)).body.pipeThrough(new DecompressionStream('gzip'));
  return new Response(gz).text();
};
(async () => {
  const pub = process.argv[1];
  const code = fs.readFileSync(0, 'utf8').trim().toUpperCase().replace(/[ -]/g, '')
    .replace(/O/g, '0').replace(/[IL]/g, '1');
  const params = JSON.parse(fs.readFileSync(pub + '/diary/params.json', 'utf8'));
  const pass = await subtle.importKey('raw', enc(code), 'PBKDF2', false, ['deriveBits']);
  const bits = new Uint8Array(await subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256',
    salt: Buffer.from(params.salt, 'base64'), iterations: params.iterations }, pass, 384));
  const slot = Buffer.from(bits.subarray(0, 16)).toString('hex');
  const file = fs.readFileSync(pub + '/diary/k/' + slot + '.bin');
  const content = JSON.parse(new TextDecoder().decode(
    await open(bits.subarray(16), file, 'diary/slot/v1/' + slot)));
  const children = [];
  for (const child of content.children) {
    if (content.v !== 2) { children.push({ now: 'p/' + child.page + '.bin', parts: [] }); continue; }
    const dek = await subtle.importKey('raw', Buffer.from(child.key, 'base64'), 'HKDF', false, ['deriveBits']);
    const chunk = async (name) => {
      const info = 'diary/chunk/v2/' + child.page + '/' + name;
      const okm = new Uint8Array(await subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256',
        salt: new Uint8Array(32), info: enc(info) }, dek, 384));
      const id = Buffer.from(okm.subarray(0, 16)).toString('hex');
      return { file: 'c/' + id + '.bin', key: okm.subarray(16), info };
    };
    const now = await chunk('now');
    const html = await unpad(await open(now.key, fs.readFileSync(pub + '/diary/' + now.file), now.info));
    const ol = html.match(/<ol class=["']?dparts["']?[^>]*>([\s\S]*?)<\/ol>/);
    const names = ol ? [...ol[1].matchAll(/data-part=["']?([^"'\s>]+)/g)].map((m) => m[1]) : [];
    const parts = [];
    for (const name of names) parts.push((await chunk(name)).file);
    children.push({ now: now.file, parts });
  }
  process.stdout.write(JSON.stringify({ slot, v: content.v, children }));
})().catch((e) => { console.error(String(e && e.message)); process.exit(1); });
"""


def fail(message):
    print(f"error: {redact(message)}", file=sys.stderr)
    sys.exit(1)


def redact(text):
    """Access codes never reach the terminal."""
    return CODE_RE.sub("XXXX-XXXX-XXXX-XXXX", text)


def cpu_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(cmd, what, **kw):
    """Runs a command, output captured; stops the script (output redacted) if it fails."""
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        tail = "\n".join((p.stderr or p.stdout).strip().splitlines()[-5:])
        fail(f"{what} failed (exit {p.returncode}):\n{tail}")
    return p


def timed(fn):
    """(wall seconds, CPU seconds of the child processes, result) of fn()."""
    cpu0, t0 = cpu_children(), time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, cpu_children() - cpu0, result


def gz(data):
    return len(gzip.compress(data, compresslevel=9, mtime=0))


class Refs(HTMLParser):
    """The files a page makes the browser fetch: stylesheets, icons, scripts, images."""

    def __init__(self):
        super().__init__()
        self.refs = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "link" and a.get("href"):
            rel = (a.get("rel") or "").lower().split()
            if {"stylesheet", "icon", "preload", "modulepreload", "manifest"} & set(rel):
                self.refs.append((a["href"], "link rel=" + " ".join(rel)))
        elif tag in ("script", "img", "iframe") and a.get("src"):
            self.refs.append((a["src"], tag))


def refs_of(html):
    p = Refs()
    p.feed(html)
    return p.refs


def site_settings(site):
    text = (site / "site.toml").read_text(encoding="utf-8")
    if tomllib:
        t = tomllib.loads(text)
    else:  # the few keys this script needs
        t = {"access": {}}
        for key in ("output", "print_dir", "iterations", "store"):
            m = re.search(rf"^\s*{key}\s*=\s*\"?([^\"\n#]+)\"?", text, re.M)
            if m:
                v = m.group(1).strip()
                (t["access"] if key in ("iterations", "store") else t)[key] = v
    access = t.get("access", {})
    return {
        "output": site / t.get("output", "public"),
        "print_dir": site / t.get("print_dir", "print"),
        "iterations": int(access.get("iterations", 600000)),
        "store": site / access.get("store", ".diary"),
    }


def staticrypt_kdf():
    """StatiCrypt's PBKDF2 rounds, read from the installed package."""
    src = (SC_DIR / "node_modules/staticrypt/lib/cryptoEngine.js").read_text()
    rounds = [
        (int(n), h)
        for n, h in re.findall(r"pbkdf2\(\s*\w+\s*,\s*salt\s*,\s*(\d+)\s*,\s*\"(SHA-\d+)\"", src)
    ]
    version = json.loads((SC_DIR / "node_modules/staticrypt/package.json").read_text())["version"]
    return version, rounds


def fmt_s(values):
    med = statistics.median(values)
    if len(values) == 1:
        return f"{med:.2f} s"
    return f"{med:.2f} s ({min(values):.2f}–{max(values):.2f})"


def fmt_ms(values):
    med = statistics.median(values)
    if len(values) == 1:
        return f"{med * 1000:.1f} ms"
    return f"{med * 1000:.1f} ms ({min(values) * 1000:.1f}–{max(values) * 1000:.1f})"


def kb(n):
    return f"{n / 1024:.1f} KB"


def ratio(a, b):
    return f"{a / b:.1f}×" if b > 0 else "—"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--site", required=True, type=Path, help="a site with codes issued and public/ built")
    ap.add_argument("--runs", type=int, default=3, help="timed runs of each step (default 3)")
    ap.add_argument("--pupils", type=int, default=0,
                    help="time StatiCrypt on the first N pupils only (diary's build is whole-site)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="StatiCrypt calls at a time (default: the number of cores, as diary's build uses)")
    ap.add_argument("--diary", type=Path, default=Path("target/release/diary"),
                    help="the diary binary (default target/release/diary, relative to the repository)")
    ap.add_argument("--today", default="2026-11-23", help="DIARY_TODAY for diary's commands")
    args = ap.parse_args()

    site = args.site.resolve()
    binary = args.diary if args.diary.is_absolute() else (Path.cwd() / args.diary)
    if not binary.exists():
        binary = REPO / args.diary
    if not binary.exists():
        fail(f"no diary binary at {args.diary}: run `cargo build --release` or pass --diary")
    if not (site / "site.toml").is_file():
        fail(f"{site} is not a site (no site.toml)")
    conf = site_settings(site)
    public = conf["output"]
    if not (public / "diary" / "params.json").is_file():
        fail(f"{public} has no diaries: run `diary -C {site} codes issue` and `diary -C {site} build` first")
    if not conf["store"].is_dir():
        fail(f"the private store {conf['store']} is missing")
    if args.runs < 1:
        fail("--runs must be at least 1")
    env = dict(os.environ, DIARY_TODAY=args.today)
    diary = [str(binary), "-C", str(site)]
    params = json.loads((public / "diary" / "params.json").read_text())
    if params["iterations"] != conf["iterations"]:
        fail("site.toml [access] iterations differs from the published params.json: rebuild first")

    # The pupils and their codes (the first active code of each pupil is their password).
    listing = run(diary + ["codes", "list", "--format", "csv"], "diary codes list", env=env).stdout
    rows = list(csv.DictReader(io.StringIO(listing)))
    for col in ("code", "student_id", "class", "status"):
        if rows and col not in rows[0]:
            fail(f"`diary codes list --format csv` has no column {col}")
    active = [r for r in rows if r["status"] == "active"]
    per_code = {}
    for r in active:
        per_code[r["code"]] = per_code.get(r["code"], 0) + 1
    pupils = {}
    for r in active:
        pupils.setdefault(r["student_id"], r)
    if not pupils:
        fail("no active codes: run `diary codes issue` first")
    chosen = list(pupils.values())
    if args.pupils > 0:
        chosen = chosen[: args.pupils]
    n, total = len(chosen), len(pupils)
    codes_for_chosen = len({r["code"] for r in active if r["student_id"] in {c["student_id"] for c in chosen}})

    # Node and StatiCrypt.
    if not shutil.which("node") or not shutil.which("npm"):
        fail("StatiCrypt needs node and npm (apt-get install nodejs npm)")
    if not SC_BIN.exists():
        print("installing StatiCrypt (npm ci in benches/staticrypt)…", file=sys.stderr)
        run(["npm", "ci", "--no-audit", "--no-fund"], "npm ci", cwd=SC_DIR)
    sc_version, sc_rounds = staticrypt_kdf()
    sc_iterations = sum(k for k, _ in sc_rounds)

    notes = [f"site: {total} pupils with an active code ({len(active)} code-pupil pairs); "
             f"StatiCrypt timed on {n} pupil(s){' (the first ' + str(n) + ', --pupils)' if n < total else ''}; "
             f"diary's build is always the whole site ({total} diaries, boards and all)"]
    if conf["iterations"] != sc_iterations:
        notes.append(f"NOTE: site.toml [access] iterations = {conf['iterations']}, lowered from the "
                     f"default; StatiCrypt always uses {sc_iterations}: the one-off per-code cost "
                     f"of diary below is at {conf['iterations']}")
    for line in notes:
        print(line, file=sys.stderr)

    work = Path(tempfile.mkdtemp(prefix="diary-staticrypt-"))
    try:
        results = measure(args, site, conf, env, diary, chosen, work)
        sizes = download_sizes(public, chosen, per_code, results["sample_out"], results["sc_sizes"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(args, conf, sc_version, sc_rounds, sc_iterations, n, total, codes_for_chosen, results,
           sizes, notes)


def measure(args, site, conf, env, diary, chosen, work):
    """Times every step --runs times, the tools taking turns so that noise hits both."""
    print_dir = conf["print_dir"]
    public = conf["output"]
    r = {k: [] for k in ("print", "sc_wall", "sc_cpu", "cold_wall", "cold_cpu", "warm_wall",
                         "warm_cpu", "issue_per_code")}
    r["issue_codes"] = 0
    sample_out = None
    sc_sizes = []
    for i in range(args.runs):
        print(f"run {i + 1}/{args.runs}: diary print diaries…", file=sys.stderr)
        wall, _, _ = timed(lambda: run(diary + ["print", "diaries", "--class", "all"],
                                       "diary print diaries", env=env))
        r["print"].append(wall)
        pages = {}
        for folder in print_dir.glob("diaries-*"):
            for f in folder.glob("*.html"):
                if f.stem.isdigit():
                    pages[f.stem] = f
        missing = [c for c in chosen if c["student_id"] not in pages]
        if missing:
            fail(f"`diary print diaries` wrote no page for {len(missing)} pupil(s) with codes")

        print(f"run {i + 1}/{args.runs}: StatiCrypt, {len(chosen)} call(s), {args.jobs} at a time…",
              file=sys.stderr)
        sc_dir = work / f"staticrypt-{i}"
        out = sc_dir / "encrypted"
        sc_dir.mkdir()

        def encrypt(row):
            # Default settings; the password from the environment, not the command line.
            return run([str(SC_BIN), str(pages[row["student_id"]]), "-d", str(out)],
                       "staticrypt", cwd=sc_dir,
                       env=dict(os.environ, STATICRYPT_PASSWORD=row["code"]))

        def encrypt_all():
            # The first call makes the salt (.staticrypt.json in its folder); the rest reuse it.
            encrypt(chosen[0])
            with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
                list(pool.map(encrypt, chosen[1:]))

        wall, cpu, _ = timed(encrypt_all)
        r["sc_wall"].append(wall)
        r["sc_cpu"].append(cpu)
        outputs = sorted(out.glob("*.html"))
        if len(outputs) != len(chosen):
            fail(f"StatiCrypt wrote {len(outputs)} file(s) for {len(chosen)} pupil(s)")
        if i == args.runs - 1:
            sample_out = {p.stem: p.read_bytes() for p in outputs}
            sc_sizes = [p.stat().st_size for p in outputs]
        shutil.rmtree(sc_dir)

        print(f"run {i + 1}/{args.runs}: diary build, cold and warm…", file=sys.stderr)
        shutil.rmtree(public, ignore_errors=True)
        wall, cpu, _ = timed(lambda: run(diary + ["build"], "diary build (cold)", env=env))
        r["cold_wall"].append(wall)
        r["cold_cpu"].append(cpu)
        wall, cpu, _ = timed(lambda: run(diary + ["build", "--force"], "diary build (warm)", env=env))
        r["warm_wall"].append(wall)
        r["warm_cpu"].append(cpu)

        # One-off: issue the codes of one class on a copy of the site without its store.
        print(f"run {i + 1}/{args.runs}: diary codes issue (on a throwaway copy)…", file=sys.stderr)
        copy = work / f"issue-{i}"
        skip = {public.name, print_dir.name, conf["store"].name}
        shutil.copytree(site, copy, ignore=lambda d, names: [x for x in names if Path(d) == site and x in skip])
        cls = chosen[0]["class"]
        wall, _, p = timed(lambda: run([diary[0], "-C", str(copy), "codes", "issue", "--class", cls],
                                       "diary codes issue (copy)", env=env))
        m = re.search(r"issued (\d+) new code", p.stderr + p.stdout)
        if not m or int(m.group(1)) == 0:
            fail("could not tell how many codes `diary codes issue` made on the copy")
        r["issue_codes"] = int(m.group(1))
        r["issue_per_code"].append(wall / int(m.group(1)))
        shutil.rmtree(copy)
    r["sample_out"] = sample_out
    r["sc_sizes"] = sc_sizes
    return r


def download_sizes(public, chosen, per_code, sc_outputs, sc_sizes):
    """What a phone fetches to open one diary: diary's unlock page and what it references,
    params.json, one slot and one page file; StatiCrypt's one file (plus anything it links)."""
    # A pupil whose code opens that pupil only (so the slot and the page are that pupil's),
    # with a StatiCrypt file of median size among those: a typical diary, not a first grader's.
    single = [c for c in chosen if per_code[c["code"]] == 1 and c["student_id"] in sc_outputs]
    single = single or [c for c in chosen if c["student_id"] in sc_outputs]
    single.sort(key=lambda c: len(sc_outputs[c["student_id"]]))
    sample = single[len(single) // 2]
    p = subprocess.run(["node", "-e", OPEN_SLOT_JS, str(public)], input=sample["code"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"could not open the sample pupil's slot with node: {p.stderr.strip()}")
    opened = json.loads(p.stdout)
    unlock = public / "diary" / "index.html"
    files = [("diary/index.html", unlock, "the unlock page")]
    for href, how in refs_of(unlock.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:|^//", href):
            fail(f"the unlock page references another host: {href}")
        target = (unlock.parent / href.split("#")[0].split("?")[0]).resolve()
        files.append((str(target.relative_to(public.resolve())), target, how))
    files.append(("diary/params.json", public / "diary" / "params.json", "fetch"))
    files.append(("diary/k/<slot>.bin", public / "diary" / "k" / f"{opened['slot']}.bin", "fetch"))
    child = opened["children"][0]
    if opened["v"] == 2:
        files.append(("diary/c/<now>.bin", public / "diary" / child["now"], "fetch: this week and next"))
    else:
        files.append(("diary/p/<page>.bin", public / "diary" / child["now"], "fetch"))
    diary_files = []
    for name, path, how in files:
        data = path.read_bytes()
        diary_files.append((name, how, len(data), gz(data)))
    # v2: the chunks of the earlier parts of the year, fetched only when the parent goes back
    # (together with `now`, what StatiCrypt's one page holds, and more: every earlier term).
    earlier = []
    for part in child["parts"]:
        data = (public / "diary" / part).read_bytes()
        earlier.append((len(data), gz(data)))
    page_sizes = [f.stat().st_size for f in (public / "diary" / child["now"]).parent.glob("*.bin")
                  if opened["v"] != 2 or f.stat().st_size == diary_files[-1][2]]

    sc = sc_outputs[sample["student_id"]]
    sc_refs = [h for h, _ in refs_of(sc.decode("utf-8", "replace")) if not h.startswith("data:")]
    return {
        "diary": diary_files,
        "diary_page_median": statistics.median(page_sizes),
        "v": opened["v"],
        "earlier": earlier,
        "sc": (len(sc), gz(sc)),
        "sc_refs": len(sc_refs),
        "sc_median": statistics.median(sc_sizes),
    }


def report(args, conf, sc_version, sc_rounds, sc_iterations, n, total, codes_for_chosen, r, sizes,
           notes):
    med = statistics.median
    sc_per = [w / n for w in r["sc_wall"]]
    cold_per = [w / total for w in r["cold_wall"]]
    # StatiCrypt for every pupil of the site, from the pupils it was timed on.
    sc_all = [w * total / n for w in r["sc_wall"]]
    d_raw = sum(f[2] for f in sizes["diary"])
    d_gz = sum(f[3] for f in sizes["diary"])
    sc_raw, sc_gz = sizes["sc"]
    rounds = " + ".join(f"{k} {h}" for k, h in sc_rounds)
    print()
    print(f"StatiCrypt {sc_version} (default settings, one call per pupil, {args.jobs} at a time) "
          f"against diary; site: {total} pupils with codes; runs: {args.runs} (median, min–max); "
          f"DIARY_TODAY={args.today}")
    for line in notes:
        print(line)
    print()
    print("| | StatiCrypt | diary | StatiCrypt ÷ diary |")
    print("| --- | --- | --- | --- |")
    print(f"| key derivation | PBKDF2 {sc_iterations} ({rounds}), **in every call** | "
          f"PBKDF2-HMAC-SHA256 {conf['iterations']}, once per code when issued | |")
    note = f" (timed: {n})" if n < total else ""
    print(f"| seal every pupil's diary, wall | {fmt_s(sc_all)} for {total} pupils"
          f"{' (extrapolated from ' + str(n) + ')' if n < total else ''} | "
          f"{fmt_s(r['cold_wall'])}: cold `diary build`, whole site | {ratio(med(sc_all), med(r['cold_wall']))} |")
    print(f"| … per pupil, wall | {fmt_ms(sc_per)}{note} | {fmt_ms(cold_per)} | "
          f"{ratio(med(sc_per), med(cold_per))} |")
    print(f"| … CPU (user+sys), per pupil | {fmt_ms([c / n for c in r['sc_cpu']])} | "
          f"{fmt_ms([c / total for c in r['cold_cpu']])} | "
          f"{ratio(med(r['sc_cpu']) / n, med(r['cold_cpu']) / total)} |")
    print(f"| rebuild, nothing changed, wall | {fmt_s(sc_all)} (no reuse: every page again) | "
          f"{fmt_s(r['warm_wall'])}: warm `diary build --force` (everything loaded, checked and compared; a plain `diary build` stops at the up-to-date check) | {ratio(med(sc_all), med(r['warm_wall']))} |")
    print(f"| one-off per access code | — (its KDF cost is in every call above) | "
          f"{fmt_ms(r['issue_per_code'])} (`diary codes issue`, {r['issue_codes']} codes of one class) | |")
    print(f"| plain pages first (`diary print diaries --class all`) | {fmt_s(r['print'])} for {total} pupils | "
          f"not needed | |")
    print(f"| phone download to open one diary, raw | {kb(sc_raw)} in 1 file | "
          f"{kb(d_raw)} in {len(sizes['diary'])} files | {ratio(sc_raw, d_raw)} |")
    print(f"| … gzip -9 | {kb(sc_gz)} | {kb(d_gz)} | {ratio(sc_gz, d_gz)} |")
    if sizes["earlier"]:
        e_raw = sum(x[0] for x in sizes["earlier"])
        print(f"| … and going back over the year so far ({len(sizes['earlier'])} earlier part(s), "
              f"fetched only when asked), raw | (the page holds the current term) | "
              f"+{kb(e_raw)} in {len(sizes['earlier'])} file(s) | |")
    print()
    print("Files a phone fetches to open one diary (a pupil whose code opens one diary, with a "
          "StatiCrypt file of median size):")
    print()
    print("| file | fetched as | raw | gzip -9 |")
    print("| --- | --- | --- | --- |")
    for name, how, raw, z in sizes["diary"]:
        print(f"| diary: {name} | {how} | {raw} B | {z} B |")
    if sizes["earlier"]:
        for i, (raw, z) in enumerate(sizes["earlier"]):
            print(f"| diary: diary/c/<earlier part {i + 1}>.bin | fetch, when going back | {raw} B | {z} B |")
    print(f"| StatiCrypt: <pupil>.html | the page (links {sizes['sc_refs']} other file(s)) | "
          f"{sc_raw} B | {sc_gz} B |")
    print()
    if sizes["v"] == 2:
        print(f"Medians over all pupils: StatiCrypt file {kb(sizes['sc_median'])} ({n} pupils); "
              f"diary `now` chunk {kb(sizes['diary_page_median'])} ({total} pupils; one size for every "
              f"`now` chunk of the school).")
    else:
        print(f"Medians over all pupils: StatiCrypt file {kb(sizes['sc_median'])} ({n} pupils); "
              f"diary page file {kb(sizes['diary_page_median'])} ({total} pupils; one size for every page).")
    print(f"Codes that open the timed pupils: {codes_for_chosen}; issuing them once costs about "
          f"{med(r['issue_per_code']) * codes_for_chosen:.1f} s with diary.")
    print(f"Wall times on a machine with {os.cpu_count()} core(s); diary's build uses every core, "
          f"StatiCrypt ran {args.jobs} call(s) at a time.")


if __name__ == "__main__":
    main()
