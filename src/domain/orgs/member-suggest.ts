import type { Kysely } from 'kysely';

import { HushError, invalid } from '../../errors.js';
import { listMemberEmails } from '../../store/org-store.js';
import type { OrganizationRow, Schema } from '../../store/schema.js';
import type { RequestContext } from '../context.js';
import { can } from '../policy/authorize.js';
import { MAX_CANDIDATES, relativeThreshold, suggestionsOrNone, suggestNames } from '../suggest.js';
import { organizationResource } from './org-service.js';

/**
 * Member e-mails of an organization close to `email` that the caller could list: authorized
 * as `member list` is (`org:read` on the organization); only this organization's members are
 * candidates. The edits allowed are counted on the part before the `@`: every address of the
 * organization shares much of its domain, which would make any two look close. Throws nothing:
 * a caller who may not list gets no suggestion.
 */
export function suggestMembers(
  db: Kysely<Schema>,
  ctx: RequestContext,
  org: OrganizationRow,
  email: string,
): Promise<string[]> {
  return suggestionsOrNone(async () => {
    if (!(await can(db, ctx, 'org:read', organizationResource(org)))) return [];
    const local = email.includes('@') ? email.indexOf('@') : email.length;
    const emails = await listMemberEmails(db, org.id, MAX_CANDIDATES);
    return suggestNames(email, emails, 3, relativeThreshold(local));
  });
}

/**
 * The VALIDATION_FAILED error of an e-mail in `field` (an assignee, a member to resolve for)
 * that names no member of the organization, with the close members the caller could list in
 * `details.suggestions` (see {@link suggestMembers}). Returned, for the caller to throw.
 *
 * @example if (!member) throw await notAMember(trx, ctx, org, email, 'assignee');
 */
export async function notAMember(
  db: Kysely<Schema>,
  ctx: RequestContext,
  org: OrganizationRow,
  email: string,
  field: string,
): Promise<HushError> {
  const base = invalid(field, `${email} is not a member of ${org.slug}`);
  return new HushError(base.code, base.message, {
    ...base.details,
    suggestions: await suggestMembers(db, ctx, org, email),
  });
}

/**
 * The MEMBER_NOT_FOUND error of an e-mail that names no member of the organization, with the
 * close members the caller could list in `details.suggestions`. Returned, for the caller to throw.
 */
export async function memberNotFound(
  db: Kysely<Schema>,
  ctx: RequestContext,
  org: OrganizationRow,
  email: string,
): Promise<HushError> {
  return new HushError('MEMBER_NOT_FOUND', `${email} is not a member`, {
    suggestions: await suggestMembers(db, ctx, org, email),
  });
}
