import type { Kysely } from 'kysely';

import type { Schema } from './schema.js';

// The hygiene report's reads: each one query over one organization.

/** Secrets whose current version was written before `before`, oldest first, with where they live. */
export function listStaleSecrets(db: Kysely<Schema>, orgId: string, before: string, limit: number) {
  return db
    .selectFrom('secrets')
    .innerJoin('secretVersions', (j) =>
      j
        .onRef('secretVersions.secretId', '=', 'secrets.id')
        .onRef('secretVersions.version', '=', 'secrets.currentVersion'),
    )
    .leftJoin('projects', 'projects.id', 'secrets.projectId')
    .leftJoin('environments', 'environments.id', 'secrets.environmentId')
    .leftJoin('services', 'services.id', 'secrets.serviceId')
    .leftJoin('users', 'users.id', 'secrets.assigneeId')
    .select([
      'secrets.id',
      'secrets.name',
      'secrets.kind',
      'secrets.level',
      'secrets.projectId',
      'secrets.environmentId',
      'secrets.currentVersion',
      'projects.slug as projectSlug',
      'environments.slug as environmentSlug',
      'services.name as serviceName',
      'users.email as assigneeEmail',
      'secretVersions.createdAt as versionCreatedAt',
      'secretVersions.createdBy as versionCreatedBy',
    ])
    .where('secrets.orgId', '=', orgId)
    .where('secretVersions.createdAt', '<', before)
    .orderBy('secretVersions.createdAt')
    .orderBy('secrets.id')
    .limit(limit)
    .execute();
}

/**
 * Live API tokens that reach the organization: its service tokens and the personal tokens of
 * its members (a personal token acts wherever its person is a member).
 */
export function listLiveTokensOf(db: Kysely<Schema>, orgId: string, at: string) {
  return db
    .selectFrom('apiTokens')
    .leftJoin('users', 'users.id', 'apiTokens.userId')
    .select([
      'apiTokens.id',
      'apiTokens.kind',
      'apiTokens.name',
      'apiTokens.createdAt',
      'apiTokens.expiresAt',
      'apiTokens.lastUsedAt',
      'users.email as ownerEmail',
    ])
    .where('apiTokens.revokedAt', 'is', null)
    .where((eb) =>
      eb.or([eb('apiTokens.expiresAt', 'is', null), eb('apiTokens.expiresAt', '>', at)]),
    )
    .where((eb) =>
      eb.or([
        eb.and([eb('apiTokens.kind', '=', 'service'), eb('apiTokens.orgId', '=', orgId)]),
        eb.and([
          eb('apiTokens.kind', '=', 'personal'),
          eb(
            'apiTokens.userId',
            'in',
            eb.selectFrom('members').select('members.userId').where('members.orgId', '=', orgId),
          ),
        ]),
      ]),
    )
    .orderBy('apiTokens.createdAt')
    .execute();
}

/** Members with the time of their last sign-in (null: never). */
export function listMembersWithLastSignIn(db: Kysely<Schema>, orgId: string) {
  return db
    .selectFrom('members')
    .innerJoin('users', 'users.id', 'members.userId')
    .leftJoin('sessions', 'sessions.userId', 'members.userId')
    .select((eb) => [
      'users.email',
      'members.role',
      'members.createdAt',
      eb.fn.max('sessions.createdAt').as('lastSignInAt'),
    ])
    .where('members.orgId', '=', orgId)
    .groupBy(['users.email', 'members.role', 'members.createdAt'])
    .orderBy('users.email')
    .execute();
}

/** Invitations neither accepted nor revoked whose link expired before `at`. */
export function listExpiredInvitations(db: Kysely<Schema>, orgId: string, at: string) {
  return db
    .selectFrom('invitations')
    .select(['email', 'role', 'createdAt', 'expiresAt'])
    .where('orgId', '=', orgId)
    .where('acceptedAt', 'is', null)
    .where('revokedAt', 'is', null)
    .where('expiresAt', '<=', at)
    .orderBy('expiresAt')
    .execute();
}
