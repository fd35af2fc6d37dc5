export const LEVELS = ['organization', 'project', 'environment', 'service'] as const;
export type Level = (typeof LEVELS)[number];

/** What the resolver needs of a secret. */
export interface ResolvableSecret {
  id: string;
  namespace: 'env' | 'pgservice';
  name: string;
  level: Level;
  assigneeId: string | null;
  version: number;
}

/** The winner of one name and the visible candidates it shadows, best first. */
export interface Resolution<S extends ResolvableSecret> {
  key: string;
  winner: S;
  shadows: S[];
}

const DEPTH: Record<Level, number> = { organization: 0, project: 1, environment: 2, service: 3 };

/** Precedence rank: deeper level first; within a level, the member's own before the shared one. */
function rank(s: ResolvableSecret): number {
  return DEPTH[s.level] * 2 + (s.assigneeId === null ? 0 : 1);
}

/**
 * The one resolver (SPEC §2): for every `namespace:name`, the visible candidate with the highest
 * (level depth, assigned-to-this-member) wins. Secrets assigned to other members are invisible;
 * a null member (a service token) sees only unassigned secrets. Output is sorted by key.
 */
export function resolveSecrets<S extends ResolvableSecret>(
  candidates: readonly S[],
  memberId: string | null,
): Resolution<S>[] {
  const byKey = new Map<string, S[]>();
  for (const s of candidates) {
    if (s.assigneeId !== null && s.assigneeId !== memberId) continue;
    const key = `${s.namespace}:${s.name}`;
    const list = byKey.get(key);
    if (list) list.push(s);
    else byKey.set(key, [s]);
  }
  const out: Resolution<S>[] = [];
  for (const [key, list] of byKey) {
    list.sort((a, b) => rank(b) - rank(a));
    const [winner, ...shadows] = list as [S, ...S[]];
    out.push({ key, winner, shadows });
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
