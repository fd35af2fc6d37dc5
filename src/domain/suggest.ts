import { HushError } from '../errors.js';

/** At most this many candidates are compared: a suggestion is a courtesy, never a scan. */
export const MAX_CANDIDATES = 5000;

// Longer than any slug or e-mail Hush stores: nothing could be within reach of it.
const MAX_WANTED_LENGTH = 256;

/**
 * The candidates closest to a name that was not found, best first, for a "did you mean …?"
 * answer. Compared case-insensitively by optimal string alignment distance (Damerau–
 * Levenshtein where a transposed pair counts as one edit) within `threshold` edits, by default
 * {@link relativeThreshold} of the wanted name's length. A candidate differing only in case
 * ranks first; the one candidate the name is a prefix of (when only one is) counts too, after
 * the close ones. Ties go to the candidate that sorts first (by code unit, not locale), so the
 * answer is the same for the same input. The name itself is never suggested, nor is anything
 * past the first {@link MAX_CANDIDATES}.
 *
 * @example suggestNames('mapz', ['maps', 'billing']) // ['maps']
 * @example suggestNames('prod', ['production', 'staging']) // ['production']
 */
export function suggestNames(
  wanted: string,
  candidates: Iterable<string>,
  max = 3,
  threshold = relativeThreshold(wanted.length),
): string[] {
  const target = wanted.toLowerCase();
  if (max <= 0 || target.length === 0 || target.length > MAX_WANTED_LENGTH) return [];
  const scored = new Map<string, number>();
  const prefixed = new Set<string>();
  const counts = new CharCounts(target);
  let seen = 0;
  for (const candidate of candidates) {
    if (++seen > MAX_CANDIDATES) break;
    if (candidate === wanted || scored.has(candidate)) continue;
    const lower = candidate.toLowerCase();
    const distance =
      lower === target
        ? 0
        : Math.abs(lower.length - target.length) > threshold || counts.lowerBound(lower) > threshold
          ? threshold + 1
          : osaDistance(target, lower, threshold);
    if (distance <= threshold) scored.set(candidate, distance);
    else if (target.length >= 2 && lower.startsWith(target)) prefixed.add(candidate);
  }
  // A prefix is a suggestion only when it names one candidate: otherwise it guesses.
  const [only, ...others] = prefixed;
  if (only !== undefined && others.length === 0) scored.set(only, threshold + 1);
  return [...scored]
    .sort(([a, da], [b, db]) => da - db || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, max)
    .map(([name]) => name);
}

/**
 * The character counts of a name, to rule most candidates out before the distance table: an
 * edit changes at most two counts by one (a transposition none), so half the difference of the
 * counts is a lower bound of the distance. Characters share 64 buckets, which only lowers it.
 */
class CharCounts {
  private readonly counts = new Int32Array(64);
  private readonly work = new Int32Array(64);

  constructor(text: string) {
    for (let i = 0; i < text.length; i++) this.counts[text.charCodeAt(i) & 63]! += 1;
  }

  lowerBound(other: string): number {
    const work = this.work;
    work.set(this.counts);
    for (let i = 0; i < other.length; i++) work[other.charCodeAt(i) & 63]! -= 1;
    let difference = 0;
    for (let i = 0; i < 64; i++) difference += Math.abs(work[i]!);
    return Math.ceil(difference / 2);
  }
}

/**
 * How many edits a name of `length` characters may be away from a suggestion: a third of it,
 * at least one (`mapz` → `maps`, `stagign` → `staging`).
 */
export function relativeThreshold(length: number): number {
  return Math.max(1, Math.floor(length / 3));
}

// Rows of the distance table, reused across calls (the computation is synchronous).
let scratch = new Int32Array(0);

/**
 * The optimal string alignment distance of `a` and `b`, or `bound + 1` as soon as it is known
 * to exceed `bound`: only the cells within `bound` of the diagonal are computed, and a row
 * (with the one before it) past the bound ends the computation.
 */
export function osaDistance(a: string, b: string, bound = Infinity): number {
  if (Math.abs(a.length - b.length) > bound) return bound + 1;
  const width = b.length + 1;
  const far = Number.isFinite(bound) ? bound + 1 : a.length + b.length + 1;
  const band = Math.min(far - 1, Math.max(a.length, b.length));
  if (scratch.length < 3 * width) scratch = new Int32Array(3 * width);
  // Three rows: two back (for a transposition), the previous, the current.
  let before = scratch.subarray(0, width);
  let previous = scratch.subarray(width, 2 * width);
  let current = scratch.subarray(2 * width, 3 * width);
  for (let j = 0; j < width; j++) previous[j] = j <= band ? j : far;
  let previousMin = 0;
  for (let i = 1; i <= a.length; i++) {
    const lo = Math.max(1, i - band);
    const hi = Math.min(b.length, i + band);
    current[lo - 1] = lo === 1 ? i : far;
    let rowMin = lo === 1 ? i : far;
    for (let j = lo; j <= hi; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, before[j - 2]! + 1);
      }
      current[j] = d;
      if (d < rowMin) rowMin = d;
    }
    if (hi < b.length) current[hi + 1] = far;
    // Every later cell descends from this row, or (by a transposition) from the one before.
    if (rowMin >= far && previousMin >= far) return far;
    previousMin = rowMin;
    [before, previous, current] = [previous, current, before];
  }
  return Math.min(previous[b.length]!, far);
}

/**
 * The suggestions `compute` finds, or none when computing them fails as a request would (say the
 * actor has no role there after all): a suggestion is a courtesy, and the not-found answer goes
 * out without it. Other errors (the database's) are thrown.
 */
export async function suggestionsOrNone(compute: () => Promise<string[]>): Promise<string[]> {
  try {
    return await compute();
  } catch (error) {
    if (error instanceof HushError) return [];
    throw error;
  }
}
