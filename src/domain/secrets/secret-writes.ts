import type { Kysely } from 'kysely';

import { secretAad } from '../../crypto/envelope.js';
import { HushError, invalid } from '../../errors.js';
import { findMemberByEmail } from '../../store/org-store.js';
import { findEnvironment, findProject } from '../../store/project-store.js';
import type { OrganizationRow, Schema, SecretRow } from '../../store/schema.js';
import {
  namesInOrganization,
  pgServiceNames,
  type SealedVersion,
} from '../../store/secret-store.js';
import { actorName, type RequestContext } from '../context.js';
import type { KeyService } from '../keys/key-service.js';
import { notAMember } from '../orgs/member-suggest.js';
import { authorize, type Resource } from '../policy/authorize.js';
import { parsePgEnvName, pgEnvStem } from './pg-derived.js';
import { sameStem } from './references.js';
import { plaintextOf, previewOfValue, refsOfValue, type SecretValue } from './secret-values.js';
import { isSteeringName } from './steering-names.js';
import { type RefTarget, refTarget } from './templates.js';

// What every service that writes secrets shares: the public shape of a secret, sealing a
// version, the steering-name rule and the assignee lookup.

/** The public shape of a secret: metadata, a masked preview, and the value only when `plain`. */
export interface Secret {
  id: string;
  name: string;
  kind: SecretRow['kind'];
  level: SecretRow['level'];
  sensitivity: SecretRow['sensitivity'];
  assignee: string | null;
  fileName: string | null;
  version: number;
  preview: string | null;
  value?: string;
  /** What the current value references (names only); absent for a literal value. */
  references?: string[];
  /** A pgservice secret whose settings jobs also get as HUSH_PG_<NAME>_* variables. */
  exportEnv?: true;
  /** References to names no secret of the organization has (they may come later). */
  warnings?: string[];
  createdAt: string;
  updatedAt: string;
}

export function toSecret(
  row: SecretRow,
  assignee: string | null,
  preview: string | null,
  plainValue?: string,
  refs?: string | null,
): Secret {
  const references = refs ? (JSON.parse(refs) as string[]) : undefined;
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    level: row.level,
    sensitivity: row.sensitivity,
    assignee,
    fileName: row.fileName,
    version: row.currentVersion,
    preview,
    ...(plainValue !== undefined ? { value: plainValue } : {}),
    ...(references && row.kind !== 'alias' ? { references } : {}),
    ...(row.exportEnv ? { exportEnv: true as const } : {}),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** Who a version is written by, as its history shows: an e-mail, `token:NAME`, `rotation:NAME` or `system`. */
function createdByOf(ctx: RequestContext): string {
  return ctx.actor.kind === 'anonymous' ? 'system' : actorName(ctx.actor);
}

/**
 * Seals `value` as version `version` of `row`: the version's sealed and provenance fields, and
 * the references of the value when it is a template (`expand`, see {@link refsOfValue}); a
 * template that does not parse is VALIDATION_FAILED before anything is sealed.
 */
export async function sealVersion(
  keys: KeyService,
  trx: Kysely<Schema>,
  ctx: RequestContext,
  org: OrganizationRow,
  row: SecretRow,
  version: number,
  value: SecretValue,
  expand: boolean,
): Promise<SealedVersion> {
  const steering = row.namespace === 'env' && isSteeringName(row.name);
  if (steering && value.kind === 'alias') {
    throw invalid(
      'name',
      `${row.name} steers what a job runs: it takes a value of its own, not an alias (whoever may change the target would change what the job runs)`,
    );
  }
  // A variable that steers what a job runs is always literal: with a reference, whoever may
  // change the referenced value would change what the job runs, without the permission.
  const refs = refsOfValue(value, expand && !steering);
  if (refs) await authorizeOtherContexts(trx, ctx, org, refs);
  const sealed = await keys.seal(trx, org, plaintextOf(value), secretAad(row.id, version));
  return {
    keyId: sealed.keyId,
    ciphertext: sealed.ciphertext,
    preview: previewOfValue(value),
    refs: refs === null ? null : JSON.stringify(refs),
    createdBy: createdByOf(ctx),
    tool: ctx.tool,
  };
}

/** The policy resource of a stored secret: its organization, project and environment. */
export function secretResource(org: OrganizationRow, row: SecretRow): Resource {
  return {
    orgId: org.id,
    orgSlug: org.slug,
    targetType: 'secret',
    targetId: row.id,
    targetName: row.name,
    ...(row.projectId ? { projectId: row.projectId } : {}),
    ...(row.environmentId ? { environmentId: row.environmentId } : {}),
  };
}

/**
 * A value stored under a name that steers what a job runs (an env variable, or a file secret,
 * whose variable holds the file's path) needs `secrets:write-steering` on top of
 * `secrets:write`: whoever may add a variable must not thereby change a service's command.
 */
export async function authorizeSteering(
  trx: Kysely<Schema>,
  ctx: RequestContext,
  namespace: SecretRow['namespace'],
  name: string,
  resource: Resource,
): Promise<void> {
  if (namespace !== 'env' || !isSteeringName(name)) return;
  await authorize(trx, ctx, 'secrets:write-steering', { ...resource, targetName: name });
}

/**
 * A value referencing another environment's secrets is written only by someone who could read
 * them there (a person who may run jobs there, a token that may read its values): otherwise
 * writing `${prod.prod.DB_PASSWORD}` into a development variable would copy a value out of reach
 * into jobs of that environment. Environments that do not exist yet are left to resolution,
 * which checks the reader in any case.
 */
async function authorizeOtherContexts(
  trx: Kysely<Schema>,
  ctx: RequestContext,
  org: OrganizationRow,
  refs: readonly string[],
): Promise<void> {
  const seen = new Set<string>();
  for (const ref of refs) {
    const target = refTarget(ref);
    if (typeof target === 'string' || target.scope !== 'path') continue;
    const key = `${target.project}.${target.env}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const project = await findProject(trx, org.id, target.project);
    const environment = project && (await findEnvironment(trx, project.id, target.env));
    if (!project || !environment) continue;
    await authorize(
      trx,
      ctx,
      ctx.actor.kind === 'service-token' ? 'secrets:read-values' : 'jobs:run',
      {
        orgId: org.id,
        orgSlug: org.slug,
        targetType: 'secret',
        targetName: `\${${ref}}`,
        projectId: project.id,
        environmentId: environment.id,
      },
    );
  }
}

/** The user id of the member an assignee e-mail names (null for none); VALIDATION_FAILED otherwise. */
export async function assigneeIdOf(
  trx: Kysely<Schema>,
  ctx: RequestContext,
  org: OrganizationRow,
  email: string | undefined,
): Promise<string | null> {
  if (!email) return null;
  const member = await findMemberByEmail(trx, org.id, email.toLowerCase());
  if (!member) throw await notAMember(trx, ctx, org, email, 'assignee');
  return member.userId;
}

/**
 * The references of a value (its stored `refs`) to names that no secret of the organization
 * has, anywhere: not an error, since the name may be added later or live in another context,
 * but worth saying at once. A derived HUSH_PG_* name counts when a pg service of its stem exists.
 */
export async function referenceWarnings(
  trx: Kysely<Schema>,
  org: OrganizationRow,
  refs: string | null,
): Promise<string[]> {
  return (await referenceWarningsOf(trx, org, [refs]))[0]!;
}

/** {@link referenceWarnings} of many values, with one lookup of the names they all reference. */
export async function referenceWarningsOf(
  trx: Kysely<Schema>,
  org: OrganizationRow,
  refsList: readonly (string | null)[],
): Promise<string[][]> {
  const targetsOf = refsList.map((refs) =>
    (refs ? (JSON.parse(refs) as string[]) : [])
      .map((r) => ({ ref: r, target: refTarget(r) }))
      .filter((t): t is { ref: string; target: RefTarget } => typeof t.target !== 'string'),
  );
  const all = targetsOf.flat();
  if (all.length === 0) return refsList.map(() => []);
  const names = [
    ...new Set(all.filter((t) => !parsePgEnvName(t.target.name)).map((t) => t.target.name)),
  ];
  const found = await namesInOrganization(trx, org.id, names);
  const stems = all.some((t) => parsePgEnvName(t.target.name))
    ? new Set((await pgServiceNames(trx, org.id)).map(pgEnvStem))
    : new Set<string>();
  return targetsOf.map((targets) =>
    targets
      .filter((t) => {
        const derived = parsePgEnvName(t.target.name);
        return derived ? !stems.has(derived.stem) : !found.has(t.target.name);
      })
      .map((t) => `\${${t.ref}}: no secret of the organization is named ${t.target.name} (yet)`),
  );
}

/**
 * Refuses a pg service whose derived variable names (HUSH_PG_<STEM>_*) another pg service of the
 * organization already gives: `main-db` and `main_db` would both be HUSH_PG_MAIN_DB_*.
 */
export async function refuseSharedStem(
  trx: Kysely<Schema>,
  org: OrganizationRow,
  name: string,
): Promise<void> {
  const other = (await pgServiceNames(trx, org.id)).find((n) => sameStem(n, name));
  if (other === undefined) return;
  throw new HushError(
    'CONFLICT',
    `pg service ${name} would share the variables HUSH_PG_${pgEnvStem(name)}_* with pg service ${other}: pick a name that differs in more than case or punctuation`,
    { field: 'name' },
  );
}
