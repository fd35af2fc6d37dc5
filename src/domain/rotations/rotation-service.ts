import { randomUUID } from 'node:crypto';

import type { Kysely } from 'kysely';

import { secretAad } from '../../crypto/envelope.js';
import { randomPassword, scramVerifier } from '../../crypto/scram.js';
import { HushError, hushError, invalid } from '../../errors.js';
import type { Database } from '../../store/db.js';
import { translateDbErrors } from '../../store/db-errors.js';
import { findOrganizationById } from '../../store/org-store.js';
import { findServiceById } from '../../store/project-store.js';
import {
  claimDueRotation,
  claimRotation,
  deleteRotation,
  findRotation,
  insertRotation,
  insertRotationRun,
  listRotationRuns,
  listRotations,
  pgServicesAt,
  updateRotation,
} from '../../store/rotation-store.js';
import type { RotationRow, RotationRunRow, Schema, SecretRow } from '../../store/schema.js';
import { findSecret, findSecretVersion, listSecretsAt } from '../../store/secret-store.js';
import type { AuditService } from '../audit/audit-service.js';
import { actorName, currentTime, type RequestContext } from '../context.js';
import type { KeyService } from '../keys/key-service.js';
import { loadOrganization } from '../orgs/org-service.js';
import { authorize, can, type Resource } from '../policy/authorize.js';
import { LEVELS } from '../secrets/resolve.js';
import { type LevelRef, levelResource, loadLevel } from '../secrets/scope.js';
import type { SecretService } from '../secrets/secret-service.js';
import { valueOf } from '../secrets/secret-values.js';
import { secretResource } from '../secrets/secret-writes.js';
import type { UnitOfWork } from '../unit-of-work.js';
import { nextRunAt, retryDelaySeconds } from './schedule.js';

/** What a rotation asks of the PostgreSQL server whose role it rotates. */
export interface RoleAdmin {
  /**
   * Connects with `admin` (a pg service's settings) and sets `role`'s password to `verifier` (a
   * SCRAM-SHA-256 verifier, never a plaintext). Rejects with PostgreSQL's or the network's reason.
   */
  setVerifier(admin: Record<string, string>, role: string, verifier: string): Promise<void>;
}

/** Characters a generated password draws from by default: none needs quoting anywhere. */
export const DEFAULT_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Characters an alphabet may hold: none needs quoting in pg_service.conf, a URL's userinfo aside. */
export const SAFE_ALPHABET = /^[A-Za-z0-9_.~!^*+-]+$/;
export const DEFAULT_PASSWORD_LENGTH = 32;
/** The shortest schedule: under `dual`, a job keeps its connection settings working for one period. */
const MIN_EVERY_SECONDS = 3600;

/** How long a node's claim on a running rotation holds (connect and statement time out at 10 s). */
const CLAIM_MS = 120_000;
/** Runs `rotation show` lists. */
const SHOWN_RUNS = 20;

export interface RotationInput {
  name: string;
  /** The pg service it rotates, at `level`. */
  secret: string;
  level: LevelRef;
  adminService: string;
  strategy: 'single' | 'dual';
  roles?: string[] | undefined;
  /** Seconds between runs; none: by hand only. */
  every?: number | undefined;
  /** HH:MM UTC. */
  at?: string | undefined;
  length?: number | undefined;
  alphabet?: string | undefined;
}

/** The public shape of a rotation. */
export interface Rotation {
  id: string;
  name: string;
  secret: { id: string; name: string; level: SecretRow['level'] };
  adminService: string;
  strategy: 'single' | 'dual';
  roles: string[] | null;
  every: number | null;
  at: string | null;
  passwordLength: number;
  paused: boolean;
  nextRunAt: string | null;
  lastRunAt: string | null;
  failures: number;
  lastError: string | null;
  createdBy: string;
  createdAt: string;
}

/** One run of a rotation, as `rotation show` lists it. */
export type RotationRun = Omit<RotationRunRow, 'rotationId'>;

function toRotation(row: RotationRow, secret: Pick<SecretRow, 'id' | 'name' | 'level'>): Rotation {
  return {
    id: row.id,
    name: row.name,
    secret: { id: secret.id, name: secret.name, level: secret.level },
    adminService: row.adminService,
    strategy: row.strategy,
    roles: row.roles ? (JSON.parse(row.roles) as string[]) : null,
    every: row.everySeconds,
    at: row.atTime,
    passwordLength: row.passwordLength,
    paused: row.paused === 1,
    nextRunAt: row.nextRunAt,
    lastRunAt: row.lastRunAt,
    failures: row.failures,
    lastError: row.lastError,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
  };
}

/** The context a rotation acts in: Hush itself, named `rotation:NAME` in the audit log. */
export function rotationContext(name: string): RequestContext {
  return { actor: { kind: 'system', name: `rotation:${name}` }, tool: 'system', ip: null };
}

/** A failure's reason as the log and `rotation show` keep it: no secret, one line, bounded. */
function reasonOf(error: unknown, secrets: readonly string[]): string {
  let text = error instanceof Error ? error.message : String(error);
  for (const s of secrets) if (s.length > 0) text = text.replaceAll(s, '[redacted]');
  text = text.replace(/\s+/g, ' ').trim() || 'unknown error';
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}

/**
 * Rotations of pgservice secrets (SPEC §2): a new random password set on the secret's role in
 * PostgreSQL as a SCRAM-SHA-256 verifier through the admin pg service, then stored as the
 * secret's next version through the secret service (its ROTATE event by `rotation:NAME`), in
 * that order, so a failure leaves the old version current and working. `dual` alternates two
 * login roles: the inactive one gets the new password and the secret points at it, the active
 * one keeps its password until the next run. Scheduled runs are claimed, so each runs once
 * across nodes; failures are recorded, audited and retried with backoff.
 */
export function createRotationService(deps: {
  database: Database;
  uow: UnitOfWork;
  audit: AuditService;
  keys: KeyService;
  secrets: SecretService;
  roles: RoleAdmin;
}) {
  const { database, uow, audit, keys } = deps;
  const db = database.db;

  /** A rotation of the organization by name, authorized for `action` on the secret it rotates. */
  async function load(
    trx: Kysely<Schema>,
    ctx: RequestContext,
    orgSlug: string,
    name: string,
    action: 'secrets:write' | 'environment:read',
  ) {
    const org = await loadOrganization(trx, ctx, orgSlug, 'org:read');
    const row = await findRotation(trx, org.id, name);
    const secret = row && (await findSecret(trx, org.id, row.secretId));
    if (!row || !secret) {
      throw hushError('ROTATION_NOT_FOUND', `rotation ${name} not found`, { field: 'name' });
    }
    const resource = { ...secretResource(org, secret), targetType: 'rotation' as const };
    await authorize(
      trx,
      ctx,
      secret.level === 'organization' && action === 'environment:read' ? 'project:read' : action,
      resource,
    );
    return { org, row, secret, resource };
  }

  async function decryptSettings(trx: Kysely<Schema>, row: SecretRow) {
    const version = await findSecretVersion(trx, row.id, row.currentVersion);
    if (!version?.ciphertext) throw new Error(`${row.name} has no current version`);
    const plaintext = await keys.open(
      trx,
      { keyId: version.keyId, ciphertext: version.ciphertext },
      secretAad(row.id, row.currentVersion),
    );
    const value = valueOf(row.kind, plaintext);
    if (value.kind !== 'pgservice') throw new Error(`${row.name} is not a pg service`);
    return value.settings;
  }

  /** The admin pg service named `name` as the secret's level resolves it (deepest level wins). */
  async function adminServiceOf(
    trx: Kysely<Schema>,
    secret: SecretRow,
    name: string,
  ): Promise<SecretRow | undefined> {
    const scopes = [secret.orgId, secret.projectId, secret.environmentId, secret.serviceId];
    if (secret.serviceId) {
      scopes.push((await findServiceById(trx, secret.serviceId))?.environmentId ?? null);
    }
    const depth = (r: SecretRow) => LEVELS.indexOf(r.level);
    const rows = await pgServicesAt(
      trx,
      scopes.filter((s): s is string => s !== null),
      name,
    );
    return rows.filter((r) => depth(r) <= depth(secret)).sort((a, b) => depth(b) - depth(a))[0];
  }

  function add(ctx: RequestContext, orgSlug: string, input: RotationInput) {
    return uow.write(ctx, async (trx) => {
      const { org, at } = await loadLevel(trx, ctx, orgSlug, input.level);
      await authorize(trx, ctx, 'secrets:write', {
        ...levelResource(org, at, input.secret),
        targetType: 'rotation',
      });
      const secret = (await listSecretsAt(trx, at.level, at.scopeId)).find(
        (r) => r.namespace === 'pgservice' && r.name === input.secret && r.assigneeId === null,
      );
      if (!secret) {
        throw hushError(
          'SECRET_NOT_FOUND',
          `no pg service ${input.secret} at ${at.label} (a rotation rotates an unassigned one)`,
          { field: 'secret' },
        );
      }
      const resource = secretResource(org, secret);
      await authorize(trx, ctx, 'secrets:write', { ...resource, targetType: 'rotation' });
      // The rotation uses the admin connection for the caller: only someone who could already
      // put it in a job there (a person who may run jobs, a token that may read values) sets
      // one up, so a write permission alone does not lend the admin's power to change passwords.
      await authorize(
        trx,
        ctx,
        ctx.actor.kind === 'service-token' ? 'secrets:read-values' : 'jobs:run',
        { ...resource, targetType: 'rotation' },
      );
      const admin = await adminServiceOf(trx, secret, input.adminService);
      if (!admin) {
        throw invalid(
          'adminService',
          `no pg service ${input.adminService} is visible at ${at.label} (add the admin connection there or above)`,
        );
      }
      const settings = await decryptSettings(trx, secret);
      const roles = validateRoles(input, settings.user);
      if (input.alphabet !== undefined && !SAFE_ALPHABET.test(input.alphabet)) {
        throw invalid('alphabet', 'may hold only letters, digits and _ . ~ ! ^ * + -');
      }
      const alphabet = input.alphabet ?? DEFAULT_ALPHABET;
      if (new Set(alphabet).size < 10) {
        throw invalid('alphabet', 'needs at least 10 different characters');
      }
      if (input.every !== undefined && input.every < MIN_EVERY_SECONDS) {
        throw invalid('every', 'rotate at most once an hour (1h or more)');
      }
      if (input.at !== undefined && (input.every === undefined || input.every % 86_400 !== 0)) {
        throw invalid('at', 'a time of day needs --every in whole days (1d, 30d)');
      }
      const t = currentTime();
      const row: RotationRow = {
        id: randomUUID(),
        orgId: org.id,
        name: input.name,
        secretId: secret.id,
        adminService: input.adminService,
        strategy: input.strategy,
        roles: roles ? JSON.stringify(roles) : null,
        passwordLength: input.length ?? DEFAULT_PASSWORD_LENGTH,
        alphabet,
        everySeconds: input.every ?? null,
        atTime: input.at ?? null,
        paused: 0,
        nextRunAt: nextRunAt(t, input.every ?? null, input.at ?? null)?.toISOString() ?? null,
        failures: 0,
        lastError: null,
        lastRunAt: null,
        claimedBy: null,
        claimedUntil: null,
        createdBy: actorName(ctx.actor),
        createdAt: t.toISOString(),
      };
      await translateDbErrors(() => insertRotation(trx, row), {
        code: 'NAME_TAKEN',
        message: `a rotation named ${input.name} exists, or pg service ${secret.name} at ${at.label} already has a rotation`,
        details: { field: 'name' },
      });
      await audit.append(trx, ctx, {
        orgId: org.id,
        eventType: 'CREATE',
        targetType: 'rotation',
        targetId: row.id,
        targetName: row.name,
        change: `added ${row.strategy} rotation ${row.name} of pg service ${secret.name} at ${at.label} (admin ${row.adminService}${row.everySeconds ? `, every ${row.everySeconds} s` : ', by hand'})`,
        details: { secretId: secret.id, strategy: row.strategy, every: row.everySeconds },
      });
      return toRotation(row, secret);
    });
  }

  function validateRoles(input: RotationInput, user: string | undefined): string[] | null {
    if (input.strategy === 'single') {
      if (input.roles) throw invalid('roles', 'only the dual strategy alternates roles');
      return null;
    }
    const roles = input.roles ?? [];
    if (roles.length !== 2 || roles[0] === roles[1]) {
      throw invalid('roles', 'dual needs two different login roles: --roles ROLE_A,ROLE_B');
    }
    if (user === undefined || !roles.includes(user)) {
      throw invalid(
        'roles',
        `the pg service connects as ${user ?? 'no user'}: one of the two roles must be the one it uses now`,
      );
    }
    return roles;
  }

  function list(ctx: RequestContext, orgSlug: string) {
    return uow.read(ctx, async (trx) => {
      const org = await loadOrganization(trx, ctx, orgSlug, 'org:read');
      const rows = await listRotations(trx, org.id);
      const out: Rotation[] = [];
      for (const r of rows) {
        const resource: Resource = {
          orgId: org.id,
          orgSlug: org.slug,
          targetType: 'rotation',
          ...(r.secretProjectId ? { projectId: r.secretProjectId } : {}),
          ...(r.secretEnvironmentId ? { environmentId: r.secretEnvironmentId } : {}),
        };
        const action = r.secretLevel === 'organization' ? 'project:read' : 'environment:read';
        if (!(await can(trx, ctx, action, resource))) continue;
        out.push(toRotation(r, { id: r.secretId, name: r.secretName, level: r.secretLevel }));
      }
      return out;
    });
  }

  function show(ctx: RequestContext, orgSlug: string, name: string) {
    return uow.read(ctx, async (trx) => {
      const { row, secret } = await load(trx, ctx, orgSlug, name, 'environment:read');
      const runs = await listRotationRuns(trx, row.id, SHOWN_RUNS);
      return { ...toRotation(row, secret), runs: runs.map(toRun) };
    });
  }

  function setPaused(ctx: RequestContext, orgSlug: string, name: string, paused: boolean) {
    return uow.write(ctx, async (trx) => {
      const { org, row, secret } = await load(trx, ctx, orgSlug, name, 'secrets:write');
      const updated: RotationRow = { ...row, paused: paused ? 1 : 0 };
      if (row.paused !== updated.paused) {
        // Resuming starts the schedule afresh rather than catching up on the runs it missed.
        if (!paused) {
          updated.nextRunAt =
            nextRunAt(currentTime(), row.everySeconds, row.atTime)?.toISOString() ?? null;
          updated.failures = 0;
        }
        await updateRotation(trx, row.id, {
          paused: updated.paused,
          nextRunAt: updated.nextRunAt,
          failures: updated.failures,
        });
        await audit.append(trx, ctx, {
          orgId: org.id,
          eventType: 'UPDATE',
          targetType: 'rotation',
          targetId: row.id,
          targetName: row.name,
          change: `${paused ? 'paused' : 'resumed'} rotation ${row.name}`,
          details: { paused },
        });
      }
      return toRotation(updated, secret);
    });
  }

  function remove(ctx: RequestContext, orgSlug: string, name: string) {
    return uow.write(ctx, async (trx) => {
      const { org, row, secret } = await load(trx, ctx, orgSlug, name, 'secrets:write');
      await deleteRotation(trx, row.id);
      await audit.append(trx, ctx, {
        orgId: org.id,
        eventType: 'DELETE',
        targetType: 'rotation',
        targetId: row.id,
        targetName: row.name,
        change: `removed rotation ${row.name} of pg service ${secret.name} (its versions stay)`,
      });
    });
  }

  /**
   * Runs a claimed rotation: ALTER ROLE first, then the secret's next version; records the run
   * and releases the claim. Returns the run; never throws for a failure of the rotation itself.
   */
  async function perform(
    row: RotationRow,
    trigger: RotationRun['trigger'],
    requestedBy: string | null,
  ): Promise<RotationRun> {
    const startedAt = currentTime().toISOString();
    const ctx = rotationContext(row.name);
    const hidden: string[] = [];
    let role: string | null = null;
    try {
      const org = await findOrganizationById(db, row.orgId);
      if (!org) throw new Error('its organization was removed');
      const secret = await findSecret(db, row.orgId, row.secretId);
      if (!secret) throw new Error('its pg service was removed');
      const settings = await decryptSettings(db, secret);
      const roles = row.roles ? (JSON.parse(row.roles) as string[]) : null;
      role = roles
        ? (roles.find((r) => r !== settings.user) ?? roles[0]!)
        : (settings.user ?? null);
      if (!role) throw new Error(`pg service ${secret.name} names no user to rotate`);
      const adminRow = await adminServiceOf(db, secret, row.adminService);
      if (!adminRow) throw new Error(`admin pg service ${row.adminService} is not visible there`);
      const admin = await decryptSettings(db, adminRow);
      if (admin.password) hidden.push(admin.password);
      // The admin connection leaves the vault (to this node's PostgreSQL client): say so first.
      await db.transaction().execute((trx) =>
        audit.append(trx, ctx, {
          orgId: row.orgId,
          eventType: 'ACCESS',
          targetType: 'secret',
          targetId: adminRow.id,
          targetName: adminRow.name,
          change: `used admin pg service ${adminRow.name} (version ${adminRow.currentVersion}) to set the password of role ${role}`,
          details: { rotation: row.name, version: adminRow.currentVersion },
        }),
      );
      const password = randomPassword(row.passwordLength, row.alphabet);
      hidden.push(password);
      try {
        await deps.roles.setVerifier(admin, role, scramVerifier(password));
      } catch (error) {
        throw new Error(`PostgreSQL refused: ${reasonOf(error, hidden)}`, { cause: error });
      }
      let version: number;
      try {
        version = await storeNewVersion(ctx, org.slug, secret.id, {
          set: roles ? { user: role, password } : { password },
          unset: [],
        });
      } catch (error) {
        throw new Error(
          `role ${role} has a new password in PostgreSQL, but storing it in ${secret.name} failed (run the rotation again): ${reasonOf(error, hidden)}`,
          { cause: error },
        );
      }
      return await finish(row, {
        trigger,
        requestedBy,
        startedAt,
        outcome: 'succeeded',
        error: null,
        role,
        version,
      });
    } catch (error) {
      return finish(row, {
        trigger,
        requestedBy,
        startedAt,
        outcome: 'failed',
        error: reasonOf(error, hidden),
        role,
        version: null,
      });
    }
  }

  /**
   * Stores the new settings as the secret's next version. The password is set in PostgreSQL
   * already, so a CONFLICT (a person's rotation committed the same version number meanwhile)
   * is tried again on top of theirs, a few times, rather than left unstored.
   */
  async function storeNewVersion(
    ctx: RequestContext,
    orgSlug: string,
    secretId: string,
    patch: { set: Record<string, string>; unset: string[] },
  ): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await deps.secrets.rotate(ctx, orgSlug, secretId, { mode: 'patch', patch }))
          .version;
      } catch (error) {
        if (!(error instanceof HushError && error.code === 'CONFLICT') || attempt >= 3) throw error;
      }
    }
  }

  /** Records a run, moves the schedule on (or backs off after a failure), releases the claim. */
  async function finish(
    row: RotationRow,
    run: Omit<RotationRun, 'id' | 'finishedAt'>,
  ): Promise<RotationRun> {
    const t = currentTime();
    const record: RotationRun = { id: randomUUID(), ...run, finishedAt: t.toISOString() };
    const failed = run.outcome === 'failed';
    const failures = failed ? row.failures + 1 : 0;
    // A scheduled rotation retries a failure with backoff; one run by hand only waits for a person.
    const next = failed
      ? row.everySeconds === null
        ? null
        : new Date(t.getTime() + retryDelaySeconds(failures) * 1000)
      : nextRunAt(t, row.everySeconds, row.atTime);
    await db.transaction().execute(async (trx) => {
      await insertRotationRun(trx, { rotationId: row.id, ...record });
      await updateRotation(trx, row.id, {
        failures,
        lastError: record.error,
        lastRunAt: record.finishedAt,
        nextRunAt: next?.toISOString() ?? null,
        claimedBy: null,
        claimedUntil: null,
      });
      if (failed) {
        await audit.append(trx, rotationContext(row.name), {
          orgId: row.orgId,
          eventType: 'UPDATE',
          targetType: 'rotation',
          targetId: row.id,
          targetName: row.name,
          change: `rotation ${row.name} failed: ${record.error}${next ? `; next try ${next.toISOString()}` : ''}`,
          details: { outcome: 'failed', failures, nextRunAt: next?.toISOString() ?? null },
        });
      }
    });
    return record;
  }

  /** `rotation run`: now, by the caller's request; ROTATION_FAILED when it fails (recorded first). */
  async function runNow(ctx: RequestContext, orgSlug: string, name: string) {
    const { row } = await uow.read(ctx, (trx) => load(trx, ctx, orgSlug, name, 'secrets:write'));
    const t = currentTime();
    const claimed = await claimRotation(
      db,
      row.id,
      `request-${randomUUID()}`,
      t.toISOString(),
      new Date(t.getTime() + CLAIM_MS).toISOString(),
    );
    if (!claimed) {
      throw hushError('CONFLICT', `rotation ${name} is running now; try again shortly`, {
        field: 'name',
      });
    }
    // Who asked: the run's own events are by rotation:NAME.
    await db.transaction().execute((trx) =>
      audit.append(trx, ctx, {
        orgId: row.orgId,
        eventType: 'UPDATE',
        targetType: 'rotation',
        targetId: row.id,
        targetName: row.name,
        change: `asked rotation ${row.name} to run now`,
        details: { trigger: 'manual' },
      }),
    );
    const run = await perform(claimed, 'manual', actorName(ctx.actor));
    if (run.outcome === 'failed') {
      throw hushError('ROTATION_FAILED', `rotation ${name} failed: ${run.error}`, { run });
    }
    return run;
  }

  /**
   * Runs the rotations due now, one claim at a time, up to `limit`; returns their runs. Every
   * node's scheduler calls it; the claim lets each due rotation run on one of them.
   */
  async function runDue(claimant: string, limit = 10): Promise<RotationRun[]> {
    const runs: RotationRun[] = [];
    while (runs.length < limit) {
      const t = currentTime();
      const row = await claimDueRotation(
        database,
        claimant,
        t.toISOString(),
        new Date(t.getTime() + CLAIM_MS).toISOString(),
      );
      if (!row) break;
      runs.push(await perform(row, 'schedule', null));
    }
    return runs;
  }

  return { add, list, show, setPaused, remove, runNow, runDue };
}

function toRun(r: RotationRun): RotationRun {
  return {
    id: r.id,
    trigger: r.trigger,
    requestedBy: r.requestedBy,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    outcome: r.outcome,
    error: r.error,
    role: r.role,
    version: r.version,
  };
}

export type RotationService = ReturnType<typeof createRotationService>;
