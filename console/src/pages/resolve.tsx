import { useState } from 'react';

import { qs, seg } from '../api.js';
import { usePermissions } from '../permissions.js';
import type { Environment, Explained, Member, Service } from '../types.js';
import {
  ErrorNotice,
  Loading,
  SelectField,
  shownText,
  TableWrap,
  useResource,
  UserText,
} from '../ui.js';
import { KIND_LABELS } from '../vocabulary.js';

function who(assignee: string | null) {
  return assignee ? (
    <>
      {' '}
      (assigned to <UserText text={assignee} />)
    </>
  ) : null;
}

/**
 * What a value is built from, each link indented by its depth (names, levels and versions), or
 * why it cannot be built.
 */
function BuiltFrom({ row }: { row: Explained }) {
  if (row.error) return <span className="field-error">{row.error}</span>;
  if (!row.builtFrom?.length) return <>—</>;
  return (
    <ul className="built-from">
      {row.builtFrom.map((f, i) => (
        <li key={i} style={{ paddingLeft: `${(f.depth - 1) * 1}em` }}>
          <code>{f.name}</code> {f.context ? `in ${f.context}, ` : ''}
          {f.level} v{f.version}
          <small> ({f.via})</small>
        </li>
      ))}
    </ul>
  );
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
  const perms = usePermissions(org, { project });
  const readable = (slug: string | null) => perms.can('environment:read', { env: slug });
  // A service resolves through its own environment: with an environment chosen, only its
  // services and the project's own are offered (any other would be refused).
  const offered = (services.data ?? []).filter(
    (x) => (!env || x.environment === null || x.environment === env) && readable(x.environment),
  );
  const chosen = offered.some((x) => x.name === service) ? service : '';
  const where = env || offered.find((x) => x.name === chosen)?.environment || null;
  const result = useResource<Explained[]>(
    readable(where)
      ? `/orgs/${seg(org)}/secrets/resolve${qs({ project, env, service: chosen, member })}`
      : null,
  );
  return (
    <div>
      <form className="filters" aria-label="Context" onSubmit={(e) => e.preventDefault()}>
        <SelectField
          label="Environment"
          value={env}
          onChange={(e) => setEnv(e.target.value)}
          options={[
            { value: '', label: 'None' },
            ...(envs.data ?? []).filter((x) => readable(x.slug)).map((x) => x.slug),
          ]}
        />
        <SelectField
          label="Service"
          value={chosen}
          onChange={(e) => setService(e.target.value)}
          options={[
            { value: '', label: 'None' },
            ...offered.map((x) => ({
              value: x.name,
              label: `${x.name}${x.environment ? ` (${x.environment})` : ''}`,
            })),
          ]}
        />
        <SelectField
          label="As member"
          value={member}
          onChange={(e) => setMember(e.target.value)}
          options={[
            { value: '', label: 'Me' },
            ...(members.data ?? []).map((m) => ({ value: m.email, label: shownText(m.email) })),
          ]}
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
              <th>Built from</th>
            </tr>
          </thead>
          <tbody>
            {(result.data ?? []).map((r) => (
              <tr key={`${r.kind}:${r.name}`} data-name={r.name}>
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
                <td data-testid="shadows">
                  {r.shadows.length === 0
                    ? '—'
                    : r.shadows.map((s, i) => (
                        <span key={i}>
                          {i > 0 && '; '}
                          {s.level}
                          {who(s.assignee)} v{s.version}
                        </span>
                      ))}
                </td>
                <td data-testid="built-from">
                  <BuiltFrom row={r} />
                </td>
              </tr>
            ))}
          </tbody>
        </TableWrap>
      )}
    </div>
  );
}
