// Runs every case of tests/fixtures/what_it_takes.json through the diary's "what it takes"
// computation (themes/default/static/takes.js, as the unlock page loads it) and prints a
// JSON report: { cases, failures }. Exits 1 on any failure. Run by tests/what_it_takes.rs;
// needs only Node.
//
//   node tests/browser/takes.mjs [MORE.json]
//
// MORE.json (optional): more cases in the fixture's format, e.g. answered by the Rust side.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const require = createRequire(import.meta.url);
const takes = require(path.join(repo, 'themes', 'default', 'static', 'takes.js'));
const fixture = JSON.parse(fs.readFileSync(path.join(repo, 'tests', 'fixtures', 'what_it_takes.json'), 'utf8'));

const close = (a, b) => (a === null && b === null) ||
  (typeof a === 'number' && typeof b === 'number' && Math.abs(a - b) < 1e-9);

/** What differs between two answers, in words; [] when they agree. */
function differences(got, want) {
  if (want === null || got === null) return got === want ? [] : [`got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`];
  const out = [];
  for (const k of ['count', 'rounds_to', 'needed', 'next', 'beyond_cap']) {
    if (got[k] !== want[k]) out.push(`${k}: got ${got[k]}, want ${want[k]}`);
  }
  if (!close(got.average, want.average)) out.push(`average: got ${got.average}, want ${want.average}`);
  if (JSON.stringify(got.options) !== JSON.stringify(want.options)) {
    out.push(`options: got ${JSON.stringify(got.options)}, want ${JSON.stringify(want.options)}`);
  }
  const gl = got.one_low;
  const wl = want.one_low;
  if ((gl === null) !== (wl === null) ||
      (gl && (gl.value !== wl.value || gl.rounds_to !== wl.rounds_to || !close(gl.average, wl.average)))) {
    out.push(`one_low: got ${JSON.stringify(gl)}, want ${JSON.stringify(wl)}`);
  }
  return out;
}

const cases = fixture.cases.slice();
if (process.argv[2]) cases.push(...JSON.parse(fs.readFileSync(process.argv[2], 'utf8')).cases);
const failures = [];
for (const c of cases) {
  let got;
  try {
    got = takes.whatItTakes(c.rules, c.marks);
  } catch (e) {
    failures.push(`${c.name}: threw ${e && e.stack ? e.stack : e}`);
    continue;
  }
  for (const d of differences(got, c.expected)) failures.push(`${c.name}: ${d}`);
}
// The chunk's format reads back as the fixture writes marks.
const parsed = takes.parseMarks('5 4*2 3*1.5 ~');
if (JSON.stringify(parsed) !== JSON.stringify([[5, 1], [4, 2], [3, 1.5], '~'])) {
  failures.push('parseMarks: ' + JSON.stringify(parsed));
}
if (takes.parseMarks('5 x*2') !== null) failures.push('parseMarks accepts a token it does not know');
if (!Object.isFrozen(takes)) failures.push('DiaryTakes is frozen');

console.log(JSON.stringify({ cases: cases.length, failures }, null, 2));
process.exit(failures.length ? 1 : 0);
