import { useState } from 'react';

import { api, seg } from '../api.js';
import { Refusal, usePermissions } from '../permissions.js';
import type { Project, Token } from '../types.js';
import {
  Age,
  ConfirmButton,
  ErrorNotice,
  Loading,
  SelectField,
  ShownOnce,
  TableWrap,
  TextField,
  useAction,
  useResource,
} from '../ui.js';
import { useRoleNames } from './members.js';

/** API tokens: service tokens of the organization and the caller's personal tokens; each shown once. */
export function TokensPanel({ org }: { org: string }) {
  const perms = usePermissions(org);
  // Service tokens are asked for only by those who manage them: others would get a denial.
  const mayManage = perms.can('tokens:manage');
  const service = useResource<Token[]>(mayManage ? `/orgs/${seg(org)}/tokens` : null);
  const personal = useResource<Token[]>(`/me/tokens`);
  const projects = useResource<Project[]>(
    mayManage && perms.listProjects ? `/orgs/${seg(org)}/projects` : null,
  );
  const roleNames = useRoleNames(org);
  const [chosenKind, setKind] = useState<'service' | 'personal'>('service');
  // A person who may not manage service tokens can still make personal ones.
  const kind = perms.loaded && !mayManage ? 'personal' : chosenKind;
  const serviceGate = perms.gate('tokens:manage');
  const [name, setName] = useState('');
  const [role, setRole] = useState('devops');
  const [scope, setScope] = useState<string[]>([]);
  const [envs, setEnvs] = useState('');
  const [days, setDays] = useState('');
  const [created, setCreated] = useState<Token | null>(null);
  const create = useAction();
  const projectName = (id: string) => projects.data?.find((p) => p.id === id)?.slug ?? id;

  return (
    <div>
      <h3>Create a token</h3>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const expiresInDays = days ? Number(days) : undefined;
          void create.run(async () => {
            const token =
              kind === 'service'
                ? await api<Token>('POST', `/orgs/${seg(org)}/tokens`, {
                    name,
                    role,
                    projects: scope,
                    environments: envs
                      .split(',')
                      .map((s) => s.trim())
                      .filter(Boolean),
                    expiresInDays,
                  })
                : await api<Token>('POST', `/me/tokens`, { name, expiresInDays });
            setCreated(token);
            setName('');
            (kind === 'service' ? service : personal).reload();
          });
        }}
      >
        <fieldset className="radios">
          <legend>Kind</legend>
          <label>
            <input
              type="radio"
              name="token-kind"
              checked={kind === 'service'}
              onChange={() => setKind('service')}
              disabled={perms.loaded && !mayManage}
              title={serviceGate.title}
            />
            Service token (for jobs and <code>hush run</code>, with a role)
          </label>
          <label>
            <input
              type="radio"
              name="token-kind"
              checked={kind === 'personal'}
              onChange={() => setKind('personal')}
            />
            Personal token (acts as you, for scripts)
          </label>
        </fieldset>
        <div className="grid2">
          <TextField
            label="Token name"
            value={name}
            required
            onChange={(e) => setName(e.target.value)}
            error={create.error?.fieldMessage('name')}
          />
          <TextField
            label="Expires after (days, optional)"
            inputMode="numeric"
            value={days}
            onChange={(e) => setDays(e.target.value)}
            error={create.error?.fieldMessage('expiresInDays')}
          />
          {kind === 'service' && (
            <>
              <SelectField
                label="Role"
                value={role}
                onChange={(e) => setRole(e.target.value)}
                options={roleNames}
                error={create.error?.fieldMessage('role')}
              />
              <TextField
                label="Environments (optional, comma-separated)"
                value={envs}
                onChange={(e) => setEnvs(e.target.value)}
                error={create.error?.fieldMessage('environments')}
              />
            </>
          )}
        </div>
        {kind === 'service' && (
          <fieldset className="checks">
            <legend>Projects (none ticked: every project)</legend>
            {(projects.data ?? []).map((p) => (
              <label key={p.id}>
                <input
                  type="checkbox"
                  checked={scope.includes(p.slug)}
                  onChange={(e) =>
                    setScope(
                      e.target.checked ? [...scope, p.slug] : scope.filter((s) => s !== p.slug),
                    )
                  }
                />
                {p.slug}
              </label>
            ))}
          </fieldset>
        )}
        <Refusal reason={perms.reason('tokens:manage')} />
        <ErrorNotice error={create.error?.fields.length ? undefined : create.error} />
        <button
          type="submit"
          className="primary"
          disabled={create.busy || (kind === 'service' && serviceGate.disabled)}
        >
          Create token
        </button>
      </form>
      {created?.token && <ShownOnce label={`Token ${created.name}.`} value={created.token} />}

      <h3>Service tokens</h3>
      {perms.loaded && !mayManage ? (
        <Refusal reason={perms.reason('tokens:manage')} />
      ) : (
        <TokenTable
          label="Service tokens"
          tokens={service}
          describe={(t) =>
            `${t.role ?? ''}${t.scope.projects.length ? ' · ' + t.scope.projects.map(projectName).join(', ') : ''}`
          }
          revoke={(t) => api('DELETE', `/orgs/${seg(org)}/tokens/${seg(t.name)}`)}
        />
      )}
      <h3>Your personal tokens</h3>
      <TokenTable
        label="Personal tokens"
        tokens={personal}
        describe={() => 'acts as you'}
        revoke={(t) => api('DELETE', `/me/tokens/${seg(t.name)}`)}
      />
    </div>
  );
}

function TokenTable({
  label,
  tokens,
  describe,
  revoke,
}: {
  label: string;
  tokens: ReturnType<typeof useResource<Token[]>>;
  describe: (t: Token) => string;
  revoke: (t: Token) => Promise<unknown>;
}) {
  if (tokens.error) return <ErrorNotice error={tokens.error} />;
  if (tokens.loading && !tokens.data) return <Loading what={label.toLowerCase()} />;
  if (!tokens.data?.length) return <p className="empty">No {label.toLowerCase()}.</p>;
  return (
    <TableWrap label={label}>
      <thead>
        <tr>
          <th>Name</th>
          <th>Access</th>
          <th>Created</th>
          <th>Expires</th>
          <th>
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {tokens.data.map((t) => (
          <tr key={t.id}>
            <td>{t.name}</td>
            <td>{describe(t)}</td>
            <td>
              <Age iso={t.createdAt} />
            </td>
            <td>{t.expiresAt ? new Date(t.expiresAt).toLocaleDateString() : 'never'}</td>
            <td className="row-actions">
              <ConfirmButton
                label="Revoke"
                ariaLabel={`Revoke token ${t.name}`}
                danger
                title={`Revoke ${t.name}?`}
                message={<p>Anything using this token stops working at once.</p>}
                confirmLabel="Revoke token"
                onConfirm={async () => {
                  await revoke(t);
                  tokens.reload();
                }}
              />
            </td>
          </tr>
        ))}
      </tbody>
    </TableWrap>
  );
}
