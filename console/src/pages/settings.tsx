import { useEffect, useState } from 'react';

import { api, seg } from '../api.js';
import { Refusal, usePermissions } from '../permissions.js';
import type { Org, Whoami } from '../types.js';
import { ErrorNotice, Loading, TextField, useAction, useResource } from '../ui.js';
import { CreateOrganizationForm } from './auth.js';

/**
 * Organization settings: its display name, how long the audit log keeps events, creating
 * another organization and deleting this one.
 */
export function SettingsPanel({ org, me }: { org: string; me: Whoami }) {
  const current = useResource<Org>(`/orgs/${seg(org)}`);
  const perms = usePermissions(org);
  const renaming = perms.gate('org:edit');
  const retaining = perms.gate('billing:manage');
  const [name, setName] = useState('');
  const [days, setDays] = useState('');
  const rename = useAction();
  const retention = useAction();
  const [saved, setSaved] = useState<string | undefined>();
  useEffect(() => {
    if (!current.data) return;
    setName(current.data.name);
    setDays(
      current.data.auditRetentionDays === null ? '' : String(current.data.auditRetentionDays),
    );
  }, [current.data]);
  if (current.error) return <ErrorNotice error={current.error} />;
  if (!current.data) return <Loading what="settings" />;
  return (
    <div>
      {saved && (
        <p className="notice ok" role="status">
          {saved}
        </p>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void rename.run(async () => {
            await api('PATCH', `/orgs/${seg(org)}`, { name });
            setSaved('Saved the name.');
            current.reload();
          });
        }}
      >
        <h3>Name</h3>
        <TextField
          label="Display name"
          value={name}
          required
          onChange={(e) => setName(e.target.value)}
          hint={`The slug ${current.data.slug} stays as it is.`}
          {...renaming}
          error={rename.error?.fieldMessage('name')}
        />
        <Refusal reason={perms.reason('org:edit')} />
        <ErrorNotice error={rename.error?.fields.length ? undefined : rename.error} />
        <button
          type="submit"
          className="primary"
          {...renaming}
          disabled={renaming.disabled || rename.busy}
        >
          Save name
        </button>
      </form>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void retention.run(async () => {
            await api('PATCH', `/orgs/${seg(org)}/billing`, {
              auditRetentionDays: days ? Number(days) : null,
            });
            setSaved(
              days
                ? `Audit events older than ${days} days will be purged.`
                : 'Audit events are kept forever.',
            );
            current.reload();
          });
        }}
      >
        <h3>Audit retention</h3>
        <TextField
          label="Keep audit events for (days)"
          inputMode="numeric"
          value={days}
          onChange={(e) => setDays(e.target.value)}
          hint="empty: forever. Older events are purged hourly."
          {...retaining}
          error={retention.error?.fieldMessage('auditRetentionDays')}
        />
        <Refusal reason={perms.reason('billing:manage')} />
        <ErrorNotice error={retention.error?.fields.length ? undefined : retention.error} />
        <button
          type="submit"
          className="primary"
          {...retaining}
          disabled={retaining.disabled || retention.busy}
        >
          Save retention
        </button>
      </form>
      <p className="muted">Plan: {current.data.plan}</p>
      <h3>Another organization</h3>
      {me.canCreateOrganizations ? (
        <>
          <p className="muted">You become the Owner of the new organization.</p>
          {/* A full load: the organization switcher and the session's roles are read anew. */}
          <CreateOrganizationForm
            onCreated={(slug) => window.location.assign(`/orgs/${seg(slug)}`)}
          />
        </>
      ) : (
        <p className="notice refusal">
          On this server only Owners and Admins of an organization may create organizations.
        </p>
      )}
      <DeleteOrganization slug={current.data.slug} gate={perms.gate('org:delete')} />
    </div>
  );
}

/** Deletes the organization with everything in it, once its slug is typed (Owner only). */
function DeleteOrganization({
  slug,
  gate,
}: {
  slug: string;
  /** Whether the caller may: the form is disabled, its title says why. */
  gate: { disabled: boolean; title: string | undefined };
}) {
  const [typed, setTyped] = useState('');
  const remove = useAction();
  return (
    <form
      className="danger-zone"
      aria-label="Delete this organization"
      onSubmit={(e) => {
        e.preventDefault();
        void remove.run(async () => {
          await api('DELETE', `/orgs/${seg(slug)}`);
          window.location.assign('/');
        });
      }}
    >
      <h3>Delete this organization</h3>
      <p>
        Deletes every project, environment, service, secret, token, job and audit event of{' '}
        <strong>{slug}</strong>, for every member. It cannot be undone.
      </p>
      <TextField
        label={`Type ${slug} to confirm`}
        value={typed}
        autoComplete="off"
        {...gate}
        onChange={(e) => setTyped(e.target.value)}
      />
      <Refusal reason={gate.title} />
      <ErrorNotice error={remove.error} />
      <button
        type="submit"
        className="danger"
        {...gate}
        disabled={gate.disabled || typed !== slug || remove.busy}
      >
        Delete organization
      </button>
    </form>
  );
}
