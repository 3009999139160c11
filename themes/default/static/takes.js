// "What it takes" for one subject of the current period: the weighted average, the mark it
// rounds to, the marks still needed to attest the period, the fewest marks of one kind that
// would lift the mark one step, and what one more low mark would do. Pure computation, no
// page and no language: the diary page (diary.js) puts it in words. The same computation is
// `grades::what_it_takes` in Rust; both answer every case of
// tests/fixtures/what_it_takes.json alike (docs/journal.md, "What it takes").
//
// The page loads this file before diary.js; it defines one frozen global, DiaryTakes (and
// module.exports under Node, for the tests).
'use strict';
(function (root) {
  /** Tiny upward nudge, as in grades.rs: an average a hair below a half-hundredth in
   *  floating point still rounds up. */
  const NUDGE = 1e-6;
  /** The mark "one more low mark" adds: a 2, or the scale's lowest when 2 is not on it. */
  const LOW_MARK = 2;
  /** The most ways to reach the next mark listed. */
  const OPTIONS = 4;

  /** x in whole hundredths, rounded half away from zero (as Rust's f64::round). */
  function hundredths(x) {
    const y = x * 100 + NUDGE;
    return Math.sign(y) * Math.round(Math.abs(y));
  }

  const counts = (w) => typeof w === 'number' && w > 0 && Number.isFinite(w);

  /** The average from which `mark` is given, in hundredths. */
  function threshold(rules, mark) {
    const t = rules.thresholds && Object.prototype.hasOwnProperty.call(rules.thresholds, String(mark))
      ? rules.thresholds[String(mark)] : mark - 0.5;
    return hundredths(t);
  }

  /** The highest mark of the scale whose threshold the average reaches, else the lowest. */
  function forecast(rules, average) {
    const h = hundredths(average);
    for (let m = rules.max; m >= rules.min; m--) {
      if (threshold(rules, m) <= h) return m;
    }
    return rules.min;
  }

  /**
   * rules: { min, max, thresholds?: { "5": 4.6, … }, min_marks, weights: [1, …], cap }
   * marks: [[value, weight], …] for numeric marks, anything else (a word) for a word.
   * → null for a words-only subject, else { count, average, rounds_to, needed, next,
   *   options: [{ count, value, weight }], beyond_cap, one_low: { value, average, rounds_to } }
   */
  function whatItTakes(rules, marks) {
    const numeric = marks.filter((m) => Array.isArray(m) && counts(m[1]));
    if (numeric.length === 0 && marks.some((m) => !Array.isArray(m))) return null;
    const count = numeric.length;
    const needed = Math.max(0, rules.min_marks - count);
    let sum = 0;
    let total = 0;
    for (const [v, w] of numeric) {
      sum += v * w;
      total += w;
    }
    if (count === 0) {
      return { count, average: null, rounds_to: null, needed, next: null, options: [],
        beyond_cap: false, one_low: null };
    }
    const average = sum / total;
    const roundsTo = forecast(rules, average);
    const next = roundsTo < rules.max ? roundsTo + 1 : null;
    const found = [];
    if (next !== null) {
      for (let value = next; value <= rules.max; value++) {
        for (const weight of rules.weights.filter(counts)) {
          let s = sum;
          let t = total;
          for (let k = 1; k <= rules.cap; k++) {
            s += value * weight;
            t += weight;
            if (forecast(rules, s / t) >= next) {
              found.push({ count: k, value, weight });
              break;
            }
          }
        }
      }
    }
    const options = found
      .filter((a) => !found.some((b) => b !== a && b.count <= a.count && b.value <= a.value &&
        b.weight <= a.weight))
      .sort((a, b) => b.value - a.value || a.weight - b.weight || a.count - b.count)
      .slice(0, OPTIONS);
    const low = rules.min <= LOW_MARK && LOW_MARK <= rules.max ? LOW_MARK : rules.min;
    const lowAverage = (sum + low) / (total + 1);
    return {
      count, average, rounds_to: roundsTo, needed, next, options,
      beyond_cap: next !== null && options.length === 0,
      one_low: { value: low, average: lowAverage, rounds_to: forecast(rules, lowAverage) },
    };
  }

  /** A subject's marks as the `now` chunk carries them ("5 4*2 ~") → [[5, 1], [4, 2], "~"];
   *  null for a token it does not know. */
  function parseMarks(text) {
    const out = [];
    for (const token of String(text).split(/\s+/).filter(Boolean)) {
      if (token === '~') {
        out.push('~');
        continue;
      }
      const m = /^(\d{1,3})(?:\*(\d+(?:\.\d+)?))?$/.exec(token);
      if (!m) return null;
      out.push([Number(m[1]), m[2] === undefined ? 1 : Number(m[2])]);
    }
    return out;
  }

  const api = Object.freeze({ whatItTakes, parseMarks, hundredths });
  root.DiaryTakes = api;
  if (typeof module === 'object' && module && module.exports) module.exports = api;
})(typeof globalThis === 'object' ? globalThis : this);
