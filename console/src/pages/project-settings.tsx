import { useState } from 'react';

import { api, seg } from '../api.js';
import { type PermissionView, Refusal, usePermissions } from '../permissions.js';
import type { Environment, Service, Whoami } from '../types.js';
import { ConfirmButton, ErrorNotice, Loading, SelectField, Tabs, useResource } from '../ui.js';
import { EnvironmentsPanel, ServicesPanel } from './environments.js';
import { JobsPanel } from './jobs.js';
import { ResolvePanel } from './resolve.js';
import { SecretsPanel } from './secrets.js';

export const PROJECT_TABS = [
  { key: 'secrets', label: 'Secrets' },
  { key: 'environments', label: 'Environments' },
  { key: 'services', label: 'Services' },
  { key: 'jobs', label: 'Jobs' },
  { key: 'resolve', label: 'Resolve' },
];

/** Project settings: Secrets (at the project, an environment or a service), Environments, Services, Jobs, Resolve. */
export function ProjectSettings({
  org,
  project,
  tab,
}: {
  org: string;
  project: string;
  tab: string;
  me: Whoami;
}) {
  const base = `/orgs/${seg(org)}/projects/${seg(project)}`;
  const known = PROJECT_TABS.find((t) => t.key === tab);
  // The tabs ask for nothing before the answer is in: the tabs share it (see usePermissions).
  const perms = usePermissions(org, { project });
  const deleting = perms.gate('project:edit');
  const readable = perms.can('environment:read');
  return (
    <section>
      <h1>
        Project settings <span className="muted">· {project}</span>
      </h1>
      <Tabs current={tab} tabs={PROJECT_TABS.map((t) => ({ ...t, href: `${base}/${t.key}` }))} />
      <h2 className="visually-hidden">{known?.label ?? 'Unknown tab'}</h2>
      <ErrorNotice error={perms.error} />
      {!perms.loaded && !perms.error && known && <Loading what="your permissions" />}
      {perms.loaded && !readable && <Refusal reason={perms.reason('environment:read')} />}
      {readable && tab === 'secrets' && (
        <ProjectSecrets org={org} project={project} perms={perms} />
      )}
      {readable && tab === 'environments' && <EnvironmentsPanel org={org} project={project} />}
      {readable && tab === 'services' && <ServicesPanel org={org} project={project} />}
      {readable && tab === 'jobs' && <JobsPanel org={org} project={project} />}
      {readable && tab === 'resolve' && <ResolvePanel org={org} project={project} />}
      {!known && <p>There is no tab called {tab}.</p>}
      <div className="actions">
        <ConfirmButton
          label="Delete project"
          ariaLabel={`Delete project ${project}`}
          className="danger"
          danger
          disabled={deleting.disabled}
          tooltip={deleting.title}
          title={`Delete project ${project}?`}
          message={
            <p>
              Its environments, services, secrets and jobs are deleted with it. It cannot be undone.
            </p>
          }
          confirmLabel="Delete project"
          onConfirm={async () => {
            await api('DELETE', base);
            // A full load: the project list in the menu is read anew.
            window.location.assign(`/orgs/${seg(org)}`);
          }}
        />
      </div>
    </section>
  );
}

/** The project's Secrets tab with a level picker: the project itself, one environment or one service. */
function ProjectSecrets({
  org,
  project,
  perms,
}: {
  org: string;
  project: string;
  perms: PermissionView;
}) {
  const base = `/orgs/${seg(org)}/projects/${seg(project)}`;
  const envs = useResource<Environment[]>(`${base}/environments`);
  const services = useResource<Service[]>(`${base}/services`);
  const [where, setWhere] = useState('project');
  const [kind, name] = where.split(':') as [string, string | undefined];
  const level = {
    project,
    env: kind === 'env' ? name : undefined,
    service: kind === 'service' ? name : undefined,
  };
  return (
    <div>
      <SelectField
        label="Level"
        value={where}
        onChange={(e) => setWhere(e.target.value)}
        options={[
          { value: 'project', label: `Project ${project} (every environment and service)` },
          // Only the levels the caller may read: a custom role may read some environment types.
          ...(envs.data ?? [])
            .filter((e) => perms.can('environment:read', { env: e.slug }))
            .map((e) => ({
              value: `env:${e.slug}`,
              label: `Environment ${e.slug} (${e.type})`,
            })),
          ...(services.data ?? [])
            .filter((s) => perms.can('environment:read', { env: s.environment }))
            .map((s) => ({
              value: `service:${s.name}`,
              label: `Service ${s.name}`,
            })),
        ]}
      />
      <SecretsPanel key={where} org={org} level={level} />
    </div>
  );
}
