import { useState } from 'react';

import { qs, seg } from '../api.js';
import type { Environment, Explained, Member, Service } from '../types.js';
import { ErrorNotice, Loading, SelectField, TableWrap, useResource } from '../ui.js';
import { KIND_LABELS } from '../vocabulary.js';

function who(assignee: string | null) {
  return assignee ? ` (assigned to ${assignee})` : '';
}

/** Which secret wins for each name in a context, and what it shadows (values masked). */
export function ResolvePanel({ org, project }: { org: string; project: string }) {
  const base = `/orgs/${seg(org)}/projects/${seg(project)}`;
  const envs = useResource<Environment[]>(`${base}/environments`);
  const services = useResource<Service[]>(`${base}/services`);
  const members = useResource<Member[]>(`/orgs/${seg(org)}/members`);
  const [env, setEnv] = useState('');
  const [service, setService] = useState('');
  const [member, setMember] = useState('');
  const result = useResource<Explained[]>(
    `/orgs/${seg(org)}/secrets/resolve${qs({ project, env, service, member })}`,
  );
  return (
    <div>
      <form className="filters" aria-label="Context" onSubmit={(e) => e.preventDefault()}>
        <SelectField
          label="Environment"
          value={env}
          onChange={(e) => setEnv(e.target.value)}
          options={[{ value: '', label: 'None' }, ...(envs.data ?? []).map((x) => x.slug)]}
        />
        <SelectField
          label="Service"
          value={service}
          onChange={(e) => setService(e.target.value)}
          options={[{ value: '', label: 'None' }, ...(services.data ?? []).map((x) => x.name)]}
        />
        <SelectField
          label="As member"
          value={member}
          onChange={(e) => setMember(e.target.value)}
          options={[{ value: '', label: 'Me' }, ...(members.data ?? []).map((m) => m.email)]}
        />
      </form>
      <p className="muted">
        The deepest level wins (service, then environment, project, organization); within a level,
        the value assigned to the member wins. Values stay masked.
      </p>
      <ErrorNotice error={result.error} />
      {result.loading && !result.data ? (
        <Loading what="the resolution" />
      ) : result.data?.length === 0 ? (
        <p className="empty">No secret reaches this context.</p>
      ) : (
        <TableWrap label="Resolution">
          <thead>
            <tr>
              <th>Name</th>
              <th>Kind</th>
              <th>Winner</th>
              <th>Version</th>
              <th>Preview</th>
              <th>Shadows</th>
            </tr>
          </thead>
          <tbody>
            {(result.data ?? []).map((r) => (
              <tr key={r.name} data-name={r.name}>
                <td>
                  <code>{r.name}</code>
                </td>
                <td>{KIND_LABELS[r.kind] ?? r.kind}</td>
                <td data-testid="winner">
                  {r.level}
                  {who(r.assignee)}
                </td>
                <td>v{r.version}</td>
                <td>
                  <code>{r.preview ?? '••••••'}</code>
                </td>
                <td>
                  {r.shadows.length === 0
                    ? '—'
                    : r.shadows.map((s) => `${s.level}${who(s.assignee)} v${s.version}`).join('; ')}
                </td>
              </tr>
            ))}
          </tbody>
        </TableWrap>
      )}
    </div>
  );
}
