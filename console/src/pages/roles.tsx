import { useState } from 'react';

import { api, seg } from '../api.js';
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
import { ENVIRONMENT_TYPES, GRANT_LEVELS } from '../vocabulary.js';

const BUILTIN_SUMMARY: [string, string][] = [
  ['owner', 'everything, including deleting the organization and transferring ownership'],
  ['admin', 'everything but deleting the organization and billing'],
  ['devops', 'manage projects, secrets and jobs; no members or billing'],
  ['billing-manager', 'plan and audit retention only'],
  ['viewer', 'read metadata and the audit log; no values, no jobs'],
];

/** Custom roles: a grid of grant levels by project and environment type. */
export function RolesPanel({ org }: { org: string }) {
  const roles = useResource<Role[]>(`/orgs/${seg(org)}/roles`);
  const projects = useResource<Project[]>(`/orgs/${seg(org)}/projects`);
  const [name, setName] = useState('');
  const [grid, setGrid] = useState<Record<string, string>>({});
  const create = useAction();

  const cell = (project: string, type: string) => grid[`${project}:${type}`] ?? 'none';
  return (
    <div>
      <h3>Built-in roles</h3>
      <dl className="roles">
        {BUILTIN_SUMMARY.map(([r, d]) => (
          <div key={r}>
            <dt>{r}</dt>
            <dd>{d}</dd>
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
                  <ConfirmButton
                    label="Delete"
                    ariaLabel={`Delete role ${r.name}`}
                    danger
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
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const grants = (projects.data ?? []).flatMap((p) =>
            ENVIRONMENT_TYPES.map((type) => ({ project: p.slug, type, level: cell(p.slug, type) })),
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
                          value={cell(p.slug, t)}
                          onChange={(e) => setGrid({ ...grid, [`${p.slug}:${t}`]: e.target.value })}
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
        <ErrorNotice error={create.error?.fieldMessage('name') ? undefined : create.error} />
        <button type="submit" className="primary" disabled={create.busy}>
          Create role
        </button>
      </form>
    </div>
  );
}
