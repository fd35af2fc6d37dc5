import { useId, useState } from 'react';

import { api, seg } from '../api.js';
import { Refusal, usePermissions } from '../permissions.js';
import type { Project, Role } from '../types.js';
import {
  ConfirmButton,
  ErrorNotice,
  Loading,
  TableWrap,
  TextField,
  useAction,
  useResource,
} from '../ui.js';
import {
  BUILTIN_ROLE_EXPOSURE,
  ENVIRONMENT_TYPES,
  GRANT_LEVEL_EXPOSURE,
  GRANT_LEVELS,
  VALUE_EXPOSING_PERMISSIONS,
  type ValueExposingPermission,
} from '../vocabulary.js';

const BUILTIN_SUMMARY: [keyof typeof BUILTIN_ROLE_EXPOSURE, string][] = [
  ['owner', 'everything, including deleting the organization and transferring ownership'],
  ['admin', 'everything but deleting the organization and billing'],
  ['devops', 'manage projects, secrets and jobs; no members or billing'],
  ['billing-manager', 'plan and audit retention only'],
  ['viewer', 'read metadata and the audit log; no values, no jobs'],
];

/** "a", "a and b", "a, b and c". */
function listOf(items: readonly string[]): string {
  if (items.length < 2) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

const doing = (permissions: readonly ValueExposingPermission[]) =>
  listOf(permissions.map((p) => VALUE_EXPOSING_PERMISSIONS[p]));

/** Whether a grant level (as the API spells it) lets its holder make a job print values. */
function levelExposes(level: string): boolean {
  const permissions = (GRANT_LEVEL_EXPOSURE as Record<string, readonly unknown[] | undefined>)[
    level
  ];
  return (permissions?.length ?? 0) > 0;
}

function builtinExposure(role: keyof typeof BUILTIN_ROLE_EXPOSURE): string {
  const permissions = BUILTIN_ROLE_EXPOSURE[role];
  return permissions.length ? `yes, of every environment, by ${doing(permissions)}` : 'no';
}

/**
 * The note under the grant grid, from {@link GRANT_LEVEL_EXPOSURE}: the levels that expose
 * values, what each group of levels does to expose them, and the levels that do not.
 */
function grantExposureNote(): string {
  const groups: { levels: string[]; permissions: readonly ValueExposingPermission[] }[] = [];
  for (const level of GRANT_LEVELS) {
    const permissions = GRANT_LEVEL_EXPOSURE[level];
    if (!permissions.length) continue;
    const last = groups[groups.length - 1];
    const same =
      last?.permissions.length === permissions.length &&
      permissions.every((p) => last.permissions.includes(p));
    if (last && same) last.levels.push(level);
    else groups.push({ levels: [level], permissions });
  }
  let before: readonly ValueExposingPermission[] = [];
  const how = groups.map((g) => {
    const also = before.length > 0 && before.every((p) => g.permissions.includes(p));
    const added = also ? g.permissions.filter((p) => !before.includes(p)) : g.permissions;
    before = g.permissions;
    return `${listOf(g.levels)} ${also ? 'also ' : ''}by ${doing(added)}`;
  });
  const exposing = groups.flatMap((g) => g.levels);
  const safe = GRANT_LEVELS.filter((l) => !levelExposes(l));
  return (
    `Levels ${listOf(exposing)} expose the values of that environment type's jobs in that ` +
    `project, organization- and project-level values included (${how.join('; ')}). ` +
    `Levels ${listOf(safe)} do not.`
  );
}

/** Custom roles: a grid of grant levels by project and environment type. */
export function RolesPanel({ org }: { org: string }) {
  const roles = useResource<Role[]>(`/orgs/${seg(org)}/roles`);
  const perms = usePermissions(org);
  const managing = perms.gate('members:manage');
  // The grid is for those who may create roles, and needs the project list.
  const projects = useResource<Project[]>(
    perms.can('members:manage') && perms.listProjects ? `/orgs/${seg(org)}/projects` : null,
  );
  const [name, setName] = useState('');
  const [grid, setGrid] = useState<Record<string, string>>({});
  const create = useAction();
  const gridNote = useId();

  const cell = (project: string, type: string) => grid[`${project}:${type}`] ?? 'none';
  return (
    <div>
      <h3>Built-in roles</h3>
      <p className="hint" data-testid="exposure-legend">
        No one reads secret values in the console, but a role that may run a job, choose its command
        or set a variable it reads can make the job print every value it receives, organization- and
        project-level ones included. Log redaction catches accidents, not intent.
      </p>
      <dl className="roles">
        {BUILTIN_SUMMARY.map(([r, d]) => (
          <div key={r} data-role={r}>
            <dt>{r}</dt>
            <dd>{d}</dd>
            <dd className="exposure">
              <strong>Exposes values:</strong> {builtinExposure(r)}
            </dd>
          </div>
        ))}
      </dl>

      <h3>Custom roles</h3>
      <ErrorNotice error={roles.error} />
      {roles.loading && !roles.data ? (
        <Loading what="roles" />
      ) : roles.data?.length ? (
        <TableWrap label="Custom roles">
          <thead>
            <tr>
              <th>Role</th>
              <th>Grants</th>
              <th>Exposes values of</th>
              <th>
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {roles.data.map((r) => (
              <tr key={r.id}>
                <td>{r.name}</td>
                <td>
                  {r.grants
                    .filter((g) => g.level !== 'none')
                    .map((g) => `${g.project}/${g.type}: ${g.level}`)
                    .join(', ') || 'no access'}
                </td>
                <td>
                  {r.grants
                    .filter((g) => levelExposes(g.level))
                    .map((g) => `${g.project}/${g.type}`)
                    .join(', ') || 'nothing'}
                </td>
                <td className="row-actions">
                  <ConfirmButton
                    label="Delete"
                    ariaLabel={`Delete role ${r.name}`}
                    danger
                    disabled={managing.disabled}
                    tooltip={managing.title}
                    title={`Delete role ${r.name}?`}
                    message={<p>Only a role that nobody holds can be deleted.</p>}
                    confirmLabel="Delete role"
                    onConfirm={async () => {
                      await api('DELETE', `/orgs/${seg(org)}/roles/${seg(r.name)}`);
                      roles.reload();
                    }}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </TableWrap>
      ) : (
        <p className="empty">No custom roles yet.</p>
      )}

      <h3>Create a custom role</h3>
      <Refusal reason={perms.reason('members:manage')} />
      {perms.can('members:manage') && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const grants = (projects.data ?? []).flatMap((p) =>
              ENVIRONMENT_TYPES.map((type) => ({
                project: p.slug,
                type,
                level: cell(p.slug, type),
              })),
            );
            void create.run(async () => {
              await api('POST', `/orgs/${seg(org)}/roles`, {
                name,
                grants: grants.filter((g) => g.level !== 'none'),
              });
              setName('');
              setGrid({});
              roles.reload();
            });
          }}
        >
          <TextField
            label="Role name"
            value={name}
            required
            onChange={(e) => setName(e.target.value)}
            error={create.error?.fieldMessage('name')}
          />
          {projects.data?.length ? (
            <TableWrap label="Grants by project and environment type">
              <thead>
                <tr>
                  <th scope="col">Project</th>
                  {ENVIRONMENT_TYPES.map((t) => (
                    <th scope="col" key={t}>
                      {t}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {projects.data.map((p) => (
                  <tr key={p.id}>
                    <th scope="row">{p.slug}</th>
                    {ENVIRONMENT_TYPES.map((t) => (
                      <td key={t}>
                        <label>
                          <span className="visually-hidden">
                            {p.slug} {t}
                          </span>
                          <select
                            aria-describedby={gridNote}
                            value={cell(p.slug, t)}
                            onChange={(e) =>
                              setGrid({ ...grid, [`${p.slug}:${t}`]: e.target.value })
                            }
                          >
                            {GRANT_LEVELS.map((l) => (
                              <option key={l}>{l}</option>
                            ))}
                          </select>
                        </label>
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </TableWrap>
          ) : (
            <p className="muted">Create a project first to grant access to it.</p>
          )}
          {projects.data?.length ? (
            <p id={gridNote} className="hint grant-note" data-testid="grant-exposure">
              <strong>Exposes values:</strong> {grantExposureNote()}
            </p>
          ) : null}
          <ErrorNotice error={create.error?.fieldMessage('name') ? undefined : create.error} />
          <button type="submit" className="primary" disabled={create.busy}>
            Create role
          </button>
        </form>
      )}
    </div>
  );
}
