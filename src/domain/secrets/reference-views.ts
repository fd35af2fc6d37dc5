import type { Kysely } from 'kysely';

import { hushError } from '../../errors.js';
import { findEnvironment, findProject } from '../../store/project-store.js';
import type { OrganizationRow, Schema } from '../../store/schema.js';
import type { Resource } from '../policy/authorize.js';
import {
  buildContext,
  type Built,
  type ContextView,
  describeProblem,
  MAX_REFERENCE_DEPTH,
  missingContexts,
  type SourceSecret,
} from './references.js';
import type { Level, Resolution } from './resolve.js';
import type { ContextScopes } from './scope.js';
import type { SecretValue } from './secret-values.js';

// Loading what references need: the reading context's winners, then the other contexts their
// references name (`org`, `project.env`), each checked with the reader's own rule, round after
// round until nothing new is named (at most MAX_REFERENCE_DEPTH rounds).

/** What loading needs of the organization. */
type OrgRef = Pick<OrganizationRow, 'id' | 'slug'>;

/** A winner as the resolve service reads it (its current version's row fields). */
export interface WinnerRow {
  id: string;
  namespace: 'env' | 'pgservice';
  name: string;
  kind: SourceSecret['kind'];
  level: Level;
  version: number;
  sensitivity: 'secret' | 'plain';
  refs: string | null;
  exportEnv: number;
  keyId: string;
  ciphertext: string | null;
  fileName: string | null;
  assigneeId: string | null;
}

/**
 * Who reads, for references to other environments: whether they may take values from one (its
 * policy resource), and how a refusal names them. A missing environment is refused in the same
 * words, so that a reference cannot probe which projects and environments exist.
 */
export interface MayRead {
  may(resource: Resource): Promise<boolean>;
  /** Completes "maps/prod does not exist or …": `this token may not read its values`. */
  denied: string;
}

/** A loaded context: the view references walk, and the rows it was made of (to decrypt). */
export interface LoadedView<W extends WinnerRow> {
  view: ContextView;
  winners: W[];
}

function sourceOf(w: WinnerRow): SourceSecret {
  return {
    id: w.id,
    name: w.name,
    kind: w.kind,
    level: w.level,
    version: w.version,
    sensitivity: w.sensitivity,
    refs: w.refs === null ? null : (JSON.parse(w.refs) as string[]),
    exportEnv: w.exportEnv === 1,
  };
}

/** A view of winners. */
export function viewOf<W extends WinnerRow>(
  key: string,
  label: string,
  winners: W[],
): LoadedView<W> {
  return { view: { key, label, secrets: winners.map(sourceOf) }, winners };
}

/**
 * Loads every context the root's references reach. `resolveIn` resolves a context's winners
 * for the reading member; `mayRead` says whether the reader may take values from another
 * project's environment (the organization level is part of every context).
 */
export async function loadReferencedViews<W extends WinnerRow>(
  db: Kysely<Schema>,
  org: OrgRef,
  root: LoadedView<W>,
  resolveIn: (context: Pick<ContextScopes, 'scopes'>) => Promise<Resolution<W>[]>,
  mayRead: MayRead,
): Promise<Map<string, LoadedView<W>>> {
  const loaded = new Map<string, LoadedView<W>>([['self', root]]);
  const views = () => new Map([...loaded].map(([k, v]) => [k, v.view]));
  for (let round = 0; round <= MAX_REFERENCE_DEPTH; round++) {
    const missing = missingContexts(views());
    if (missing.length === 0) break;
    for (const key of missing) loaded.set(key, await loadOne(db, org, key, resolveIn, mayRead));
  }
  return loaded;
}

async function loadOne<W extends WinnerRow>(
  db: Kysely<Schema>,
  org: OrgRef,
  key: string,
  resolveIn: (context: Pick<ContextScopes, 'scopes'>) => Promise<Resolution<W>[]>,
  mayRead: MayRead,
): Promise<LoadedView<W>> {
  const winners = async (scopes: Map<string, Level>) =>
    (await resolveIn({ scopes })).map((r) => r.winner);
  if (key === 'org') {
    return viewOf(key, 'organization', await winners(new Map([[org.id, 'organization']])));
  }
  const [projectSlug = '', envSlug = ''] = key.split('.');
  const label = `${projectSlug}/${envSlug}`;
  const refused: LoadedView<W> = {
    view: { key, label, unavailable: `${label} does not exist or ${mayRead.denied}`, secrets: [] },
    winners: [],
  };
  const project = await findProject(db, org.id, projectSlug);
  const environment = project && (await findEnvironment(db, project.id, envSlug));
  if (!project || !environment) return refused;
  const resource: Resource = {
    orgId: org.id,
    orgSlug: org.slug,
    targetType: 'secret',
    projectId: project.id,
    environmentId: environment.id,
  };
  if (!(await mayRead.may(resource))) return refused;
  const scopes = new Map<string, Level>([
    [org.id, 'organization'],
    [project.id, 'project'],
    [environment.id, 'environment'],
  ]);
  return viewOf(key, label, await winners(scopes));
}

/** The views of loaded contexts, values attached from `values` (by secret id) when given. */
export function viewsWithValues<W extends WinnerRow>(
  loaded: ReadonlyMap<string, LoadedView<W>>,
  values?: ReadonlyMap<string, SecretValue>,
): Map<string, ContextView> {
  const out = new Map<string, ContextView>();
  for (const [key, { view }] of loaded) {
    out.set(
      key,
      values
        ? { ...view, secrets: view.secrets.map((s) => ({ ...s, value: values.get(s.id) })) }
        : view,
    );
  }
  return out;
}

/** Every winner of the loaded contexts, each once (what to decrypt, and what an ETag covers). */
export function allWinners<W extends WinnerRow>(loaded: ReadonlyMap<string, LoadedView<W>>): W[] {
  const byId = new Map<string, W>();
  for (const { winners } of loaded.values()) for (const w of winners) byId.set(w.id, w);
  return [...byId.values()];
}

/**
 * Builds the root context; a name that cannot be built (of those `only` picks) is
 * REFERENCE_FAILED naming every chain.
 */
export function buildOrThrow(
  views: ReadonlyMap<string, ContextView>,
  only: (name: string) => boolean = () => true,
): Built[] {
  const built = buildContext(views);
  const problems = built.flatMap((b) => (b.problem && only(b.name) ? [b.problem] : []));
  if (problems.length > 0) {
    throw hushError(
      'REFERENCE_FAILED',
      problems.length === 1
        ? `cannot build ${problems[0]!.name}: ${describeProblem(problems[0]!)}`
        : `cannot build ${problems.length} values: ${problems.map(describeProblem).join('; ')}`,
      { problems: problems.map((p) => ({ name: p.name, chain: p.chain, message: p.message })) },
    );
  }
  return built;
}
