import type { Kysely } from 'kysely';

import { secretAad } from '../../crypto/envelope.js';
import { findMemberByEmail } from '../../store/org-store.js';
import type { OrganizationRow, Schema, SecretRow } from '../../store/schema.js';
import type { SealedVersion } from '../../store/secret-store.js';
import type { RequestContext } from '../context.js';
import type { KeyService } from '../keys/key-service.js';
import { notAMember } from '../orgs/member-suggest.js';
import { authorize, type Resource } from '../policy/authorize.js';
import { plaintextOf, previewOfValue, type SecretValue } from './secret-values.js';
import { isSteeringName } from './steering-names.js';

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
  createdAt: string;
  updatedAt: string;
}

export function toSecret(
  row: SecretRow,
  assignee: string | null,
  preview: string | null,
  plainValue?: string,
): Secret {
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
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** Who a version is written by, as its history shows: an e-mail, `token:NAME` or `system`. */
function createdByOf(ctx: RequestContext): string {
  const a = ctx.actor;
  return a.kind === 'user' ? a.email : a.kind === 'service-token' ? `token:${a.name}` : 'system';
}

/** Seals `value` as version `version` of `row`: the version's sealed and provenance fields. */
export async function sealVersion(
  keys: KeyService,
  trx: Kysely<Schema>,
  ctx: RequestContext,
  org: OrganizationRow,
  row: SecretRow,
  version: number,
  value: SecretValue,
): Promise<SealedVersion> {
  const sealed = await keys.seal(trx, org, plaintextOf(value), secretAad(row.id, version));
  return {
    keyId: sealed.keyId,
    ciphertext: sealed.ciphertext,
    preview: previewOfValue(value),
    createdBy: createdByOf(ctx),
    tool: ctx.tool,
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
