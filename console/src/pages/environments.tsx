import { useState } from 'react';

import { api, seg } from '../api.js';
import { Refusal, usePermissions } from '../permissions.js';
import type { Environment, Service } from '../types.js';
import {
  Age,
  ConfirmButton,
  ErrorNotice,
  Loading,
  SelectField,
  shownText,
  TableWrap,
  TextField,
  useAction,
  useResource,
  UserText,
} from '../ui.js';
import { ENVIRONMENT_TYPES } from '../vocabulary.js';

/** A permission gate as {@link ConfirmButton} takes it. */
function confirmGate(gate: { disabled: boolean; title: string | undefined }) {
  return { disabled: gate.disabled, tooltip: gate.title };
}

/** Environments of a project: create with a type, delete (confirmed). */
export function EnvironmentsPanel({ org, project }: { org: string; project: string }) {
  const base = `/orgs/${seg(org)}/projects/${seg(project)}/environments`;
  const envs = useResource<Environment[]>(base);
  const perms = usePermissions(org, { project });
  const [slug, setSlug] = useState('');
  const [chosenType, setType] = useState<string>('development');
  const create = useAction();
  // Creating is checked on the new environment's type: a custom role may create some types.
  const types = ENVIRONMENT_TYPES.filter((t) => perms.can('environment:create', { type: t }));
  const type = (types as readonly string[]).includes(chosenType)
    ? chosenType
    : (types[0] ?? chosenType);
  const creating = perms.gate('environment:create', { type });
  return (
    <div>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void create.run(async () => {
            await api('POST', base, { slug, type });
            setSlug('');
            envs.reload();
          });
        }}
      >
        <TextField
          label="Environment slug"
          value={slug}
          required
          onChange={(e) => setSlug(e.target.value)}
          {...creating}
          error={create.error?.fieldMessage('slug')}
        />
        <SelectField
          label="Type"
          value={type}
          onChange={(e) => setType(e.target.value)}
          options={types.length ? types : ENVIRONMENT_TYPES}
          {...creating}
          error={create.error?.fieldMessage('type')}
        />
        <button
          type="submit"
          className="primary"
          {...creating}
          disabled={creating.disabled || create.busy}
        >
          Create environment
        </button>
      </form>
      {perms.loaded && !types.length && <Refusal reason={perms.reason('environment:create')} />}
      <ErrorNotice error={create.error?.fields.length ? undefined : create.error} />
      <ErrorNotice error={envs.error} />
      {envs.loading && !envs.data ? (
        <Loading what="environments" />
      ) : envs.data?.length ? (
        <TableWrap label="Environments">
          <thead>
            <tr>
              <th>Environment</th>
              <th>Type</th>
              <th>Created</th>
              <th>
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {envs.data.map((e) => (
              <tr key={e.id}>
                <td>{e.slug}</td>
                <td>{e.type}</td>
                <td>
                  <Age iso={e.createdAt} />
                </td>
                <td className="row-actions">
                  <ConfirmButton
                    label="Delete"
                    ariaLabel={`Delete environment ${e.slug}`}
                    danger
                    {...confirmGate(perms.gate('environment:edit', { env: e.slug }))}
                    title={`Delete environment ${e.slug}?`}
                    message={<p>Its secrets and services go with it.</p>}
                    confirmLabel="Delete environment"
                    onConfirm={async () => {
                      await api('DELETE', `${base}/${seg(e.slug)}`);
                      envs.reload();
                    }}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </TableWrap>
      ) : (
        <p className="empty">No environments yet.</p>
      )}
    </div>
  );
}

/** Services of a project: a command run as a job, optionally bound to an environment. */
export function ServicesPanel({ org, project }: { org: string; project: string }) {
  const base = `/orgs/${seg(org)}/projects/${seg(project)}`;
  const services = useResource<Service[]>(`${base}/services`);
  const envs = useResource<Environment[]>(`${base}/environments`);
  const perms = usePermissions(org, { project });
  const [name, setName] = useState('');
  const [environment, setEnvironment] = useState('');
  const [command, setCommand] = useState('');
  const [timeout, setTimeoutValue] = useState('1h');
  const create = useAction();
  // A service is created in its environment (or the project, without one) and checked there.
  const creating = perms.gate('environment:create', { env: environment || null });
  return (
    <div>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void create.run(async () => {
            await api('POST', `${base}/services`, {
              name,
              environment: environment || undefined,
              command,
              timeout,
            });
            setName('');
            setCommand('');
            services.reload();
          });
        }}
      >
        <div className="grid2">
          <TextField
            label="Service name"
            value={name}
            required
            onChange={(e) => setName(e.target.value)}
            error={create.error?.fieldMessage('name')}
          />
          <SelectField
            label="Environment"
            value={environment}
            onChange={(e) => setEnvironment(e.target.value)}
            options={[
              { value: '', label: 'None (project level)' },
              ...(envs.data ?? []).map((x) => x.slug),
            ]}
            error={create.error?.fieldMessage('environment')}
          />
          <TextField
            label="Command"
            value={command}
            required
            className="mono"
            onChange={(e) => setCommand(e.target.value)}
            hint="run by /bin/sh -c with the resolved secrets"
            error={create.error?.fieldMessage('command')}
          />
          <TextField
            label="Timeout"
            value={timeout}
            onChange={(e) => setTimeoutValue(e.target.value)}
            hint="30s, 10m, 1h or seconds"
            error={create.error?.fieldMessage('timeout')}
          />
        </div>
        <Refusal reason={creating.title} />
        <ErrorNotice error={create.error?.fields.length ? undefined : create.error} />
        <button
          type="submit"
          className="primary"
          {...creating}
          disabled={creating.disabled || create.busy}
        >
          Create service
        </button>
      </form>
      <ErrorNotice error={services.error} />
      {services.loading && !services.data ? (
        <Loading what="services" />
      ) : services.data?.length ? (
        <TableWrap label="Services">
          <thead>
            <tr>
              <th>Service</th>
              <th>Environment</th>
              <th>Command</th>
              <th>Timeout</th>
              <th>
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {services.data.map((s) => (
              <tr key={s.id}>
                <td>{s.name}</td>
                <td>{s.environment ?? '—'}</td>
                <td className="command" title={shownText(s.command)}>
                  <code>
                    <UserText text={s.command} />
                  </code>
                </td>
                <td>{s.timeoutSeconds}s</td>
                <td className="row-actions">
                  <ConfirmButton
                    label="Delete"
                    ariaLabel={`Delete service ${s.name}`}
                    danger
                    {...confirmGate(perms.gate('environment:edit', { env: s.environment }))}
                    title={`Delete service ${s.name}?`}
                    message={<p>Its secrets go with it; past jobs stay in the history.</p>}
                    confirmLabel="Delete service"
                    onConfirm={async () => {
                      await api('DELETE', `${base}/services/${seg(s.name)}`);
                      services.reload();
                    }}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </TableWrap>
      ) : (
        <p className="empty">No services yet.</p>
      )}
    </div>
  );
}
