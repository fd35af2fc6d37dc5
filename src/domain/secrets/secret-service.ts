import { randomUUID } from 'node:crypto';

import type { Kysely } from 'kysely';

import { secretAad } from '../../crypto/envelope.js';
import { hushError } from '../../errors.js';
import { translateDbErrors } from '../../store/db-errors.js';
import { findRotationOfSecret } from '../../store/rotation-store.js';
import type { OrganizationRow, Schema, SecretRow } from '../../store/schema.js';
import {
  deleteSecret,
  findSecret,
  findSecretsByIdPrefix,
  findSecretVersion,
  insertSecretVersion,
  insertSecretWithFirstVersion,
  listSecretsAt,
  listSecretVersions,
  setCurrentVersion,
  setExportEnv,
} from '../../store/secret-store.js';
import type { AuditService } from '../audit/audit-service.js';
import { now, type RequestContext } from '../context.js';
import { resolveIdRef } from '../ids.js';
import type { KeyService } from '../keys/key-service.js';
import { loadOrganization } from '../orgs/org-service.js';
import { authorize, type Resource } from '../policy/authorize.js';
import type { UnitOfWork } from '../unit-of-work.js';
import { pgEnvStem } from './pg-derived.js';
import { visibleSettings } from './pgservice.js';
import { type LevelRef, levelResource, loadLevel, type ResolvedLevel } from './scope.js';
import {
  expandsByDefault,
  rotatedValue,
  type SecretInput,
  type SecretRotation,
  type SecretValue,
  validateSecretInput,
  valueOf,
  valueOfInput,
} from './secret-values.js';
import {
  assigneeIdOf,
  authorizeSteering,
  referenceWarnings,
  refuseSharedStem,
  sealVersion,
  type Secret,
  secretResource,
  toSecret,
} from './secret-writes.js';

export type { Secret } from './secret-writes.js';

/** Secrets: add (validated by kind), list per level, rotate, history, rollback, remove — each audited without values. */
export function createSecretService(deps: {
  uow: UnitOfWork;
  audit: AuditService;
  keys: KeyService;
}) {
  const { uow, audit, keys } = deps;

  async function writeVersion(
    trx: Kysely<Schema>,
    ctx: RequestContext,
    org: OrganizationRow,
    row: SecretRow,
    version: number,
    value: SecretValue,
    source: 'rotate' | 'rollback',
    fromVersion: number | null,
    expand: boolean,
  ) {
    const sealed = await sealVersion(keys, trx, ctx, org, row, version, value, expand);
    // Two rotations that read the same current version both write the next one: the primary
    // key refuses the second, which must not become a version built on a stale value.
    await translateDbErrors(
      () =>
        insertSecretVersion(trx, {
          secretId: row.id,
          version,
          source,
          fromVersion,
          createdAt: now(),
          ...sealed,
        }),
      {
        code: 'CONFLICT',
        message: `secret ${row.name} changed meanwhile (version ${version} exists); try again`,
        details: { field: 'version' },
      },
    );
    return { preview: sealed.preview, refs: sealed.refs };
  }

  /** Inserts one secret (first version) inside `trx`; used by add and by pg_service imports. */
  async function insertOne(
    trx: Kysely<Schema>,
    ctx: RequestContext,
    org: OrganizationRow,
    at: ResolvedLevel,
    input: SecretInput,
    assignee: { id: string | null; email: string | null },
  ) {
    validateSecretInput(input);
    const t = now();
    const row: SecretRow = {
      id: randomUUID(),
      orgId: org.id,
      level: at.level,
      scopeId: at.scopeId,
      projectId: at.project?.id ?? null,
      environmentId: at.level === 'environment' ? (at.environment?.id ?? null) : null,
      serviceId: at.service?.id ?? null,
      kind: input.kind,
      namespace: input.kind === 'pgservice' ? 'pgservice' : 'env',
      name: input.name,
      // An alias's value is a name, shown like a plain one; what it resolves to keeps the
      // target's sensitivity.
      sensitivity:
        input.kind === 'pgservice'
          ? 'secret'
          : input.kind === 'alias'
            ? 'plain'
            : input.sensitivity,
      assigneeId: assignee.id,
      fileName: input.kind === 'file' ? input.fileName : null,
      exportEnv: input.kind === 'pgservice' && input.exportEnv ? 1 : 0,
      currentVersion: 1,
      createdAt: t,
      updatedAt: t,
    };
    const value = valueOfInput(input);
    if (input.kind === 'pgservice') await refuseSharedStem(trx, org, input.name);
    const first = await sealVersion(keys, trx, ctx, org, row, 1, value, expandsByDefault(input));
    await translateDbErrors(() => insertSecretWithFirstVersion(trx, row, first), {
      message: `${row.namespace === 'pgservice' ? 'pg service' : 'secret'} "${row.name}" already exists at ${at.label}${assignee.email ? ` for ${assignee.email}` : ''}; rotate or remove it instead`,
      details: { field: 'name' },
    });
    const secret = toSecret(row, assignee.email, first.preview, undefined, first.refs);
    await audit.append(trx, ctx, {
      orgId: org.id,
      eventType: 'CREATE',
      targetType: 'secret',
      targetId: row.id,
      targetName: row.name,
      change: `added ${row.kind} secret ${row.name} at ${at.label}${assignee.email ? ` assigned to ${assignee.email}` : ''}`,
      details: { secret: { ...secret, preview: undefined }, level: at.label },
    });
    const warnings = await referenceWarnings(trx, org, first.refs);
    return {
      ...secret,
      ...(row.sensitivity === 'plain' && value.kind === 'env' ? { value: value.value } : {}),
      ...(value.kind === 'alias' ? { value: value.target } : {}),
      ...(warnings.length > 0 ? { warnings } : {}),
    };
  }

  /** Adds secrets at a level, all or none (several come from one pg_service.conf text). */
  function add(
    ctx: RequestContext,
    orgSlug: string,
    ref: LevelRef,
    inputs: SecretInput[],
    assignee?: string,
  ) {
    return uow.write(ctx, async (trx) => {
      const { org, at } = await loadLevel(trx, ctx, orgSlug, ref);
      await authorize(trx, ctx, 'secrets:write', levelResource(org, at, inputs[0]?.name ?? null));
      for (const input of inputs) {
        const namespace = input.kind === 'pgservice' ? 'pgservice' : 'env';
        await authorizeSteering(trx, ctx, namespace, input.name, levelResource(org, at));
      }
      const id = await assigneeIdOf(trx, ctx, org, assignee);
      const created: Secret[] = [];
      for (const input of inputs)
        created.push(
          await insertOne(trx, ctx, org, at, input, {
            id,
            email: id ? ((assignee ?? null)?.toLowerCase() ?? null) : null,
          }),
        );
      return created;
    });
  }

  function list(ctx: RequestContext, orgSlug: string, ref: LevelRef) {
    return uow.read(ctx, async (db) => {
      const { org, at } = await loadLevel(db, ctx, orgSlug, ref);
      await authorize(
        db,
        ctx,
        at.level === 'organization' ? 'project:read' : 'environment:read',
        levelResource(org, at),
      );
      const rows = await listSecretsAt(db, at.level, at.scopeId);
      return Promise.all(
        rows.map(async (r) => {
          if (r.sensitivity !== 'plain' || (r.kind !== 'env' && r.kind !== 'alias'))
            return toSecret(r, r.assigneeEmail, r.preview, undefined, r.refs);
          const version = await findSecretVersion(db, r.id, r.currentVersion);
          const value = version?.ciphertext
            ? (
                await keys.open(
                  db,
                  { keyId: version.keyId, ciphertext: version.ciphertext },
                  secretAad(r.id, r.currentVersion),
                )
              ).toString('utf8')
            : undefined;
          return toSecret(r, r.assigneeEmail, r.preview, value, r.refs);
        }),
      );
    });
  }

  /**
   * The secret `id` names (a full id or a unique prefix, see `resolveIdRef`) in the
   * organization, authorized for `action` (reading an organization-level secret needs
   * `project:read`). Throws SECRET_NOT_FOUND, VALIDATION_FAILED, CONFLICT (ambiguous prefix)
   * and PERMISSION_DENIED.
   */
  async function loadSecret(
    trx: Kysely<Schema>,
    ctx: RequestContext,
    orgSlug: string,
    id: string,
    action: 'secrets:write' | 'environment:read',
  ) {
    const org = await loadOrganization(trx, ctx, orgSlug, 'org:read');
    const resourceOf = (row: SecretRow): Resource => secretResource(org, row);
    const actionOn = (row: SecretRow, wanted: typeof action) =>
      row.level === 'organization' && wanted !== 'secrets:write' ? 'project:read' : wanted;
    const row = await resolveIdRef(id, {
      noun: 'secret',
      exact: (full) => findSecret(trx, org.id, full),
      byPrefix: (prefix, limit) => findSecretsByIdPrefix(trx, org.id, prefix, limit),
      authorizeRead: (r) => authorize(trx, ctx, actionOn(r, 'environment:read'), resourceOf(r)),
      notFound: () => hushError('SECRET_NOT_FOUND', `secret ${id} not found`),
    });
    const resource = resourceOf(row);
    await authorize(trx, ctx, actionOn(row, action), resource);
    return { org, row, resource };
  }

  /** Decrypts the current version of a secret. */
  async function currentValue(db: Kysely<Schema>, row: SecretRow): Promise<SecretValue> {
    const version = await findSecretVersion(db, row.id, row.currentVersion);
    if (!version?.ciphertext)
      throw hushError('SECRET_NOT_FOUND', `secret ${row.name} has no current version`);
    const plaintext = await keys.open(
      db,
      { keyId: version.keyId, ciphertext: version.ciphertext },
      secretAad(row.id, row.currentVersion),
    );
    return valueOf(row.kind, plaintext);
  }

  /**
   * Stores a new version: the whole new value, or for a pgservice secret a patch of its current
   * settings. Its ROTATE event names the settings that changed (`details.changed`), never values.
   */
  function rotate(ctx: RequestContext, orgSlug: string, id: string, rotation: SecretRotation) {
    return uow.write(ctx, async (trx) => {
      const { org, row, resource } = await loadSecret(trx, ctx, orgSlug, id, 'secrets:write');
      await authorizeSteering(trx, ctx, row.namespace, row.name, resource);
      const current = row.kind === 'pgservice' ? await currentValue(trx, row) : undefined;
      const { value, changed } = rotatedValue(row, current, rotation);
      const version = row.currentVersion + 1;
      const before = await findSecretVersion(trx, row.id, row.currentVersion);
      const expand = rotation.expand ?? (before?.refs !== null && before?.refs !== undefined);
      const written = await writeVersion(
        trx,
        ctx,
        org,
        row,
        version,
        value,
        'rotate',
        null,
        expand,
      );
      await setCurrentVersion(trx, row.id, version, now());
      const what = changed && `: ${changed.length > 0 ? changed.join(', ') : 'no setting'} changed`;
      await audit.append(trx, ctx, {
        orgId: org.id,
        eventType: 'ROTATE',
        targetType: 'secret',
        targetId: row.id,
        targetName: row.name,
        change: `rotated ${row.kind} secret ${row.name} to version ${version}${what ?? ''}`,
        details: {
          from: row.currentVersion,
          to: version,
          ...(changed ? { mode: rotation.mode, changed } : {}),
        },
      });
      const secret = toSecret(
        { ...row, currentVersion: version },
        null,
        written.preview,
        undefined,
        written.refs,
      );
      const warnings = await referenceWarnings(trx, org, written.refs);
      return {
        ...secret,
        ...(changed ? { changed } : {}),
        ...(warnings.length > 0 ? { warnings } : {}),
      };
    });
  }

  /**
   * The settings of a pgservice secret's current version a person may see (every one but the
   * password and other write-only keywords, which are only named in `withheld`), under the
   * same permission as its metadata. Throws SECRET_NOT_FOUND, PERMISSION_DENIED, and CONFLICT
   * for a secret of another kind.
   */
  function settings(ctx: RequestContext, orgSlug: string, id: string) {
    return uow.read(ctx, async (db) => {
      const { row } = await loadSecret(db, ctx, orgSlug, id, 'environment:read');
      const value = row.kind === 'pgservice' ? await currentValue(db, row) : undefined;
      if (value?.kind !== 'pgservice')
        throw hushError(
          'CONFLICT',
          `secret ${row.name} is of kind ${row.kind}: only a pgservice secret has settings`,
          { field: 'id' },
        );
      return {
        id: row.id,
        name: row.name,
        version: row.currentVersion,
        ...visibleSettings(value.settings),
      };
    });
  }

  function get(ctx: RequestContext, orgSlug: string, id: string) {
    return uow.read(ctx, async (db) => {
      const { row } = await loadSecret(db, ctx, orgSlug, id, 'environment:read');
      const version = await findSecretVersion(db, row.id, row.currentVersion);
      return toSecret(row, null, version?.preview ?? null, undefined, version?.refs ?? null);
    });
  }

  function history(ctx: RequestContext, orgSlug: string, id: string) {
    return uow.read(ctx, async (db) => {
      const { row } = await loadSecret(db, ctx, orgSlug, id, 'environment:read');
      const versions = await listSecretVersions(db, row.id);
      return versions.map((v) => ({
        version: v.version,
        current: v.version === row.currentVersion,
        source: v.source,
        fromVersion: v.fromVersion,
        preview: v.preview,
        createdAt: v.createdAt,
        createdBy: v.createdBy,
        tool: v.tool,
        restorable: v.ciphertext !== null,
      }));
    });
  }

  function rollback(ctx: RequestContext, orgSlug: string, id: string, toVersion: number) {
    return uow.write(ctx, async (trx) => {
      const { org, row, resource } = await loadSecret(trx, ctx, orgSlug, id, 'secrets:write');
      await authorizeSteering(trx, ctx, row.namespace, row.name, resource);
      const old = await findSecretVersion(trx, row.id, toVersion);
      if (!old)
        throw hushError('SECRET_NOT_FOUND', `secret ${row.name} has no version ${toVersion}`, {
          field: 'version',
        });
      if (!old.ciphertext)
        throw hushError(
          'CONFLICT',
          `version ${toVersion} of ${row.name} is too old: its ciphertext was pruned`,
          { field: 'version' },
        );
      const plaintext = await keys.open(
        trx,
        { keyId: old.keyId, ciphertext: old.ciphertext },
        secretAad(row.id, toVersion),
      );
      const version = row.currentVersion + 1;
      const written = await writeVersion(
        trx,
        ctx,
        org,
        row,
        version,
        valueOf(row.kind, plaintext),
        'rollback',
        toVersion,
        old.refs !== null,
      );
      await setCurrentVersion(trx, row.id, version, now());
      await audit.append(trx, ctx, {
        orgId: org.id,
        eventType: 'ROLLBACK',
        targetType: 'secret',
        targetId: row.id,
        targetName: row.name,
        change: `rolled ${row.name} back to version ${toVersion} as version ${version}`,
        details: { restored: toVersion, version },
      });
      const restored = toSecret(
        { ...row, currentVersion: version },
        null,
        written.preview,
        undefined,
        written.refs,
      );
      const warnings = await rotationWarnings(trx, row, toVersion, valueOf(row.kind, plaintext));
      return warnings.length > 0 ? { ...restored, warnings } : restored;
    });
  }

  /**
   * What is true of a restored version of a rotated pg service: under `single` the rotation
   * changed the role's password since, so the old one no longer signs in; under `dual` the
   * restored version's role keeps its password until the next rotation gives it a new one.
   */
  async function rotationWarnings(
    trx: Kysely<Schema>,
    row: SecretRow,
    toVersion: number,
    value: SecretValue,
  ): Promise<string[]> {
    const rotation = await findRotationOfSecret(trx, row.id);
    if (!rotation || value.kind !== 'pgservice') return [];
    const user = value.settings.user ?? 'its user';
    if (rotation.strategy === 'single') {
      return [
        `rotation ${rotation.name} sets new passwords on role ${user}: the password of version ${toVersion} no longer works in PostgreSQL if a rotation ran since; "hush rotation run ${rotation.name}" sets a working one`,
      ];
    }
    return [
      `rotation ${rotation.name} alternates two roles: version ${toVersion} connects as ${user}, whose password works until the next rotation gives that role a new one`,
    ];
  }

  /**
   * Whether jobs get a pgservice secret's HUSH_PG_<NAME>_* variables too (its settings stay as
   * they are; references and aliases may use the names either way). CONFLICT for another kind.
   */
  function setExport(ctx: RequestContext, orgSlug: string, id: string, on: boolean) {
    return uow.write(ctx, async (trx) => {
      const { org, row } = await loadSecret(trx, ctx, orgSlug, id, 'secrets:write');
      if (row.kind !== 'pgservice')
        throw hushError(
          'CONFLICT',
          `secret ${row.name} is of kind ${row.kind}: only a pg service has derived variables`,
          { field: 'id' },
        );
      const version = await findSecretVersion(trx, row.id, row.currentVersion);
      const updated = { ...row, exportEnv: on ? 1 : 0 };
      if (row.exportEnv !== updated.exportEnv) {
        const t = now();
        await setExportEnv(trx, row.id, on, t);
        updated.updatedAt = t;
        await audit.append(trx, ctx, {
          orgId: org.id,
          eventType: 'UPDATE',
          targetType: 'secret',
          targetId: row.id,
          targetName: row.name,
          change: `${on ? 'gave' : 'stopped giving'} jobs the HUSH_PG_${pgEnvStem(row.name)}_* variables of pg service ${row.name}`,
          details: { exportEnv: on },
        });
      }
      return toSecret(updated, null, version?.preview ?? null);
    });
  }

  function remove(ctx: RequestContext, orgSlug: string, id: string) {
    return uow.write(ctx, async (trx) => {
      const { org, row } = await loadSecret(trx, ctx, orgSlug, id, 'secrets:write');
      await deleteSecret(trx, row.id);
      await audit.append(trx, ctx, {
        orgId: org.id,
        eventType: 'DELETE',
        targetType: 'secret',
        targetId: row.id,
        targetName: row.name,
        change: `removed ${row.kind} secret ${row.name} (${row.level}) with its ${row.currentVersion} versions`,
      });
    });
  }

  return { add, list, get, settings, rotate, history, rollback, setExport, remove };
}

export type SecretService = ReturnType<typeof createSecretService>;
