/** The four levels a secret can live at, from the least to the most specific. */
export const LEVELS = ['organization', 'project', 'environment', 'service'] as const;

/** One of {@link LEVELS}. */
export type Level = (typeof LEVELS)[number];

/** What the resolver needs of a secret (`file` secrets come in with namespace `env`). */
export interface ResolvableSecret {
  id: string;
  namespace: 'env' | 'pgservice';
  name: string;
  level: Level;
  assigneeId: string | null;
  version: number;
}

/** The winner of one `namespace:name` and the visible candidates it shadows, best first. */
export interface Resolution<S extends ResolvableSecret> {
  key: string;
  winner: S;
  shadows: S[];
}

const DEPTH: Record<Level, number> = { organization: 0, project: 1, environment: 2, service: 3 };

/** SPEC §2's key `(level_depth, assigned_to_this_member)` folded into one number. */
function rank(s: ResolvableSecret): number {
  // Only visible secrets are ranked, so a non-null assignee is this member.
  return DEPTH[s.level] * 2 + (s.assigneeId === null ? 0 : 1);
}

/**
 * The one resolver (SPEC §2): for every `namespace:name`, the visible candidate with the highest
 * (level depth, assigned-to-this-member) wins; secrets assigned to other members are invisible
 * and a null member (a service token) sees only unassigned ones; output is sorted by key.
 *
 * @example
 * resolveSecrets([orgSecret, projectSecretOfAlice], 'alice')
 * // → [{ key: 'env:DB_URL', winner: projectSecretOfAlice, shadows: [orgSecret] }]
 */
export function resolveSecrets<S extends ResolvableSecret>(
  candidates: readonly S[],
  memberId: string | null,
): Resolution<S>[] {
  // One pass keeps the best candidate per key; only the (few) shadows of a key are ever sorted.
  const byKey = new Map<string, Resolution<S>>();
  for (const s of candidates) {
    if (s.assigneeId !== null && s.assigneeId !== memberId) continue;
    const key = `${s.namespace}:${s.name}`;
    const current = byKey.get(key);
    if (current === undefined) {
      byKey.set(key, { key, winner: s, shadows: [] });
    } else if (rank(s) > rank(current.winner)) {
      current.shadows.push(current.winner);
      current.winner = s;
    } else {
      current.shadows.push(s);
    }
  }
  const out = [...byKey.values()];
  for (const r of out) {
    // Array#sort is stable: equal ranks (which the database's uniqueness rules out) keep
    // their input order.
    if (r.shadows.length > 1) r.shadows.sort((a, b) => rank(b) - rank(a));
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
