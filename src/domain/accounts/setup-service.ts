import { randomUUID } from 'node:crypto';

import type { Kysely } from 'kysely';

import { hushError } from '../../errors.js';
import { countUsers, insertUser } from '../../store/account-store.js';
import { translateDbErrors } from '../../store/db-errors.js';
import type { Schema } from '../../store/schema.js';
import { now, type RequestContext } from '../context.js';
import type { OrgService } from '../orgs/org-service.js';
import type { AuthService, Session } from './auth-service.js';
import { hashPassword } from './credentials.js';

export interface FirstOwnerInput {
  email: string;
  password: string;
  org: string;
}

/** The first account: `hush admin bootstrap` (offline) or the server's first-run setup. */
export function createSetupService(deps: {
  db: Kysely<Schema>;
  auth: AuthService;
  orgs: OrgService;
}) {
  const { db, auth, orgs } = deps;

  async function createFirstOwner(
    trx: Kysely<Schema>,
    ctx: RequestContext,
    input: FirstOwnerInput,
    passwordHash: string,
  ) {
    if ((await countUsers(trx)) > 0)
      throw hushError('ALREADY_SET_UP', 'Hush already has accounts; use invitations');
    const user = { id: randomUUID(), email: input.email, passwordHash, createdAt: now() };
    await translateDbErrors(() => insertUser(trx, user), {
      message: `${input.email} already has an account`,
    });
    const ownerCtx: RequestContext = {
      ...ctx,
      actor: { kind: 'user', userId: user.id, email: user.email },
    };
    const organization = await orgs.insertWithOwner(trx, ownerCtx, { slug: input.org }, user);
    return { user: { id: user.id, email: user.email }, organization, ownerCtx };
  }

  /** Offline bootstrap: creates the first Owner and organization. Throws ALREADY_SET_UP. */
  async function bootstrap(ctx: RequestContext, input: FirstOwnerInput) {
    const passwordHash = await hashPassword(input.password);
    return db.transaction().execute(async (trx) => {
      const { user, organization } = await createFirstOwner(trx, ctx, input, passwordHash);
      return { user, organization };
    });
  }

  /** First-run setup through the server, guarded by the one-time token it printed. */
  async function completeSetup(
    ctx: RequestContext,
    input: FirstOwnerInput & { token: string },
  ): Promise<Session & { organization: { slug: string } }> {
    const passwordHash = await hashPassword(input.password);
    return db.transaction().execute(async (trx) => {
      await auth.consumeSetupToken(trx, input.token);
      const { user, organization, ownerCtx } = await createFirstOwner(
        trx,
        ctx,
        input,
        passwordHash,
      );
      const session = await auth.openSession(trx, ownerCtx, user);
      return { ...session, organization: { slug: organization.slug } };
    });
  }

  return { bootstrap, completeSetup };
}

export type SetupService = ReturnType<typeof createSetupService>;
