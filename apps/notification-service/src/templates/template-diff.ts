/**
 * A word-level diff of two template bodies, for the versions page: runs of words and of
 * whitespace are the units, so a changed word shows as itself, not as its whole line (an SMS body
 * is often one line).
 *
 * Myers' O((N+M)·D) algorithm. Past `MAX_EDITS` edited units the two texts have little in common
 * left to show, and the diff is answered as one deletion and one insertion: that bounds the work
 * (and the memory of the trace, D² units) for two unrelated 10,000-character bodies.
 */
export interface DiffPart {
  op: 'equal' | 'insert' | 'delete';
  text: string;
}

export const MAX_EDITS = 500;

export function diffWords(before: string, after: string): DiffPart[] {
  const a = tokens(before);
  const b = tokens(after);
  const trace = shortestEdit(a, b);
  if (!trace) return merge([...part('delete', a), ...part('insert', b)]);
  return merge(backtrack(a, b, trace));
}

function tokens(text: string): string[] {
  return text.match(/\s+|\S+/g) ?? [];
}

function part(op: DiffPart['op'], units: string[]): DiffPart[] {
  return units.length === 0 ? [] : [{ op, text: units.join('') }];
}

/** The furthest-reaching x per diagonal before each round d, up to the round that reached the end. */
function shortestEdit(a: string[], b: string[]): Int32Array[] | null {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, MAX_EDITS);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1])
          ? v[offset + k + 1]
          : v[offset + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) return trace;
    }
  }
  return null;
}

function backtrack(a: string[], b: string[], trace: Int32Array[]): DiffPart[] {
  const offset = (trace[0].length - 3) / 2 + 1;
  const parts: DiffPart[] = [];
  let x = a.length;
  let y = b.length;
  for (let d = trace.length - 1; d >= 0; d--) {
    const v = trace[d];
    const k = x - y;
    const prevK = k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1]) ? k + 1 : k - 1;
    const prevX = v[offset + prevK];
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      parts.push({ op: 'equal', text: a[x - 1] });
      x--;
      y--;
    }
    if (d > 0) {
      if (x === prevX) parts.push({ op: 'insert', text: b[y - 1] });
      else parts.push({ op: 'delete', text: a[x - 1] });
    }
    x = prevX;
    y = prevY;
  }
  return parts.reverse();
}

/**
 * Reads as a person would write it: a lone space kept between two changes becomes part of them
 * ("two for" → "three," rather than "two" → "three," with " for" deleted after an equal space),
 * and each stretch of changes is one deletion followed by one insertion.
 */
function merge(parts: DiffPart[]): DiffPart[] {
  const merged: DiffPart[] = [];
  let deleted = '';
  let inserted = '';
  const flush = () => {
    if (deleted) merged.push({ op: 'delete', text: deleted });
    if (inserted) merged.push({ op: 'insert', text: inserted });
    deleted = inserted = '';
  };
  parts.forEach((p, i) => {
    const next = parts[i + 1];
    const between =
      p.op === 'equal' &&
      /^\s+$/.test(p.text) &&
      (deleted !== '' || inserted !== '') &&
      next !== undefined &&
      next.op !== 'equal';
    if (p.op === 'delete' || between) deleted += p.text;
    if (p.op === 'insert' || between) inserted += p.text;
    if (p.op !== 'equal' || between) return;
    flush();
    const last = merged.at(-1);
    if (last?.op === 'equal') last.text += p.text;
    else merged.push({ ...p });
  });
  flush();
  return merged;
}
