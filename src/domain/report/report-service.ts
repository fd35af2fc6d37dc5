import type { Kysely } from 'kysely';

import {
  listExpiredInvitations,
  listLiveTokensOf,
  listMembersWithLastSignIn,
  listStaleSecrets,
} from '../../store/report-store.js';
import { listRotations } from '../../store/rotation-store.js';
import type { OrganizationRow, Schema } from '../../store/schema.js';
import { currentTime, type RequestContext } from '../context.js';
import { loadOrganization } from '../orgs/org-service.js';
import { can, type Resource } from '../policy/authorize.js';
import type { Action } from '../policy/roles.js';
import type { TokenUsage } from '../tokens/token-usage.js';
import type { UnitOfWork } from '../unit-of-work.js';

const DAY_MS = 86_400_000;
/** Old secrets the report lists at most (oldest first); `truncated` says when there were more. */
const MAX_SECRETS = 1000;

/** The report's sections, each present only when the caller may see what it lists. */
export const REPORT_SECTIONS = [
  'secrets',
  'idleTokens',
  'tokensWithoutExpiry',
  'inactiveMembers',
  'expiredInvitations',
  'rotations',
] as const;
export type ReportSection = (typeof REPORT_SECTIONS)[number];

const SECTION_PERMISSION: Record<ReportSection, Action> = {
  secrets: 'environment:read',
  idleTokens: 'tokens:manage',
  tokensWithoutExpiry: 'tokens:manage',
  inactiveMembers: 'members:manage',
  expiredInvitations: 'members:manage',
  rotations: 'environment:read',
};

const ageDays = (at: string, t: Date) => Math.floor((t.getTime() - Date.parse(at)) / DAY_MS);

/**
 * The hygiene report ("rotate regularly, review access quarterly"): secrets whose current
 * version is older than `olderThan` seconds, tokens unused for `inactive` seconds or never,
 * tokens without expiry, members who have not signed in for `inactive` seconds, invitations
 * past expiry, and rotations paused or failing. A section the caller may not read (tokens need
 * `tokens:manage`, members `members:manage`) is left out and named in `withheld`; secrets and
 * rotations list only those the caller may read.
 */
export function createReportService(deps: { uow: UnitOfWork; usage: TokenUsage }) {
  const { uow, usage } = deps;

  function report(
    ctx: RequestContext,
    orgSlug: string,
    options: { olderThan: number; inactive: number },
  ) {
    return uow.read(ctx, async (db) => {
      const org = await loadOrganization(db, ctx, orgSlug, 'org:read');
      // This node's recent token uses are in memory for up to a few seconds: write them first.
      await usage.flush();
      const t = currentTime();
      const staleBefore = new Date(t.getTime() - options.olderThan * 1000).toISOString();
      const idleBefore = new Date(t.getTime() - options.inactive * 1000).toISOString();
      const allowed = await sectionsAllowed(db, ctx, org);
      const readable = readableScopes(db, ctx, org);
      const withheld = REPORT_SECTIONS.filter((s) => !allowed.has(s));
      const out: Record<string, unknown> = {
        organization: org.slug,
        generatedAt: t.toISOString(),
        olderThanDays: options.olderThan / 86_400,
        inactiveDays: options.inactive / 86_400,
        withheld,
      };
      if (allowed.has('secrets')) {
        const rows = await listStaleSecrets(db, org.id, staleBefore, MAX_SECRETS + 1);
        const secrets = [];
        for (const r of rows.slice(0, MAX_SECRETS)) {
          if (!(await readable(r.level, r.projectId, r.environmentId))) continue;
          secrets.push({
            id: r.id,
            name: r.name,
            kind: r.kind,
            level: r.level,
            where:
              r.level === 'organization'
                ? `organization ${org.slug}`
                : r.level === 'project'
                  ? `project ${r.projectSlug}`
                  : r.level === 'environment'
                    ? `environment ${r.projectSlug}/${r.environmentSlug}`
                    : `service ${r.projectSlug}/${r.serviceName}`,
            assignee: r.assigneeEmail,
            version: r.currentVersion,
            versionCreatedAt: r.versionCreatedAt,
            lastRotatedBy: r.versionCreatedBy,
            ageDays: ageDays(r.versionCreatedAt, t),
          });
        }
        out.secrets = secrets;
        out.secretsTruncated = rows.length > MAX_SECRETS;
      }
      if (allowed.has('idleTokens')) {
        const tokens = await listLiveTokensOf(db, org.id, t.toISOString());
        const shape = (k: (typeof tokens)[number]) => ({
          id: k.id,
          kind: k.kind,
          name: k.name,
          owner: k.kind === 'personal' ? k.ownerEmail : null,
          createdAt: k.createdAt,
          expiresAt: k.expiresAt,
          lastUsedAt: k.lastUsedAt,
        });
        // Never used counts however young the token is: nobody may need it.
        out.idleTokens = tokens
          .filter((k) => k.lastUsedAt === null || k.lastUsedAt < idleBefore)
          .map(shape);
        out.tokensWithoutExpiry = tokens.filter((k) => k.expiresAt === null).map(shape);
      }
      if (allowed.has('inactiveMembers')) {
        const members = await listMembersWithLastSignIn(db, org.id);
        out.inactiveMembers = members
          // A member who never signed in counts once they have been one for the period.
          .filter((m) => String(m.lastSignInAt ?? m.createdAt) < idleBefore)
          .map((m) => ({
            email: m.email,
            role: m.role,
            memberSince: m.createdAt,
            lastSignInAt: m.lastSignInAt === null ? null : String(m.lastSignInAt),
          }));
        out.expiredInvitations = await listExpiredInvitations(db, org.id, t.toISOString());
      }
      if (allowed.has('rotations')) {
        const rotations = [];
        for (const r of await listRotations(db, org.id)) {
          if (r.paused === 0 && r.failures === 0) continue;
          if (!(await readable(r.secretLevel, r.secretProjectId, r.secretEnvironmentId))) continue;
          rotations.push({
            name: r.name,
            secret: r.secretName,
            paused: r.paused === 1,
            failures: r.failures,
            lastError: r.lastError,
            lastRunAt: r.lastRunAt,
            nextRunAt: r.nextRunAt,
          });
        }
        out.rotations = rotations;
      }
      return out;
    });
  }

  return { report };
}

/** The sections the caller may see, asked of the one policy function (no DENIED event). */
async function sectionsAllowed(
  db: Kysely<Schema>,
  ctx: RequestContext,
  org: OrganizationRow,
): Promise<Set<ReportSection>> {
  const resource: Resource = { orgId: org.id, orgSlug: org.slug, targetType: 'organization' };
  const allowed = new Set<ReportSection>();
  for (const section of REPORT_SECTIONS) {
    const action = SECTION_PERMISSION[section];
    // Secrets and rotations are filtered one scope at a time: any reader may get the section.
    if (action === 'environment:read' || (await can(db, ctx, action, resource))) {
      allowed.add(section);
    }
  }
  return allowed;
}

/** Whether the caller may read secrets at a scope, asked once per scope. */
function readableScopes(db: Kysely<Schema>, ctx: RequestContext, org: OrganizationRow) {
  const known = new Map<string, Promise<boolean>>();
  return (level: string, projectId: string | null, environmentId: string | null) => {
    const key = `${projectId ?? ''}/${environmentId ?? ''}`;
    let answer = known.get(key);
    if (!answer) {
      answer = can(db, ctx, level === 'organization' ? 'project:read' : 'environment:read', {
        orgId: org.id,
        orgSlug: org.slug,
        targetType: 'secret',
        ...(projectId ? { projectId } : {}),
        ...(environmentId ? { environmentId } : {}),
      });
      known.set(key, answer);
    }
    return answer;
  };
}

export type ReportService = ReturnType<typeof createReportService>;
