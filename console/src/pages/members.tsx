import { useState } from 'react';

import { api, seg } from '../api.js';
import { refreshPermissions, Refusal, usePermissions } from '../permissions.js';
import type { Invitation, Member, Role, Whoami } from '../types.js';
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
  UserText,
} from '../ui.js';
import { BUILTIN_ROLES } from '../vocabulary.js';

/** Role names a member can be given: the built-in ones (but Owner, which is transferred) and custom ones. */
export function useRoleNames(org: string): string[] {
  const roles = useResource<Role[]>(`/orgs/${seg(org)}/roles`);
  return [...BUILTIN_ROLES.filter((r) => r !== 'owner'), ...(roles.data ?? []).map((r) => r.name)];
}

/**
 * Members: invite (the token is shown once), change role, transfer ownership and remove, each
 * confirmed.
 */
export function MembersPanel({ org, me }: { org: string; me: Whoami }) {
  const members = useResource<Member[]>(`/orgs/${seg(org)}/members`);
  const perms = usePermissions(org);
  const managing = perms.gate('members:manage');
  // Only those who manage members may list invitations: anyone else would get an audited denial.
  const invitations = useResource<Invitation[]>(
    perms.can('members:manage') ? `/orgs/${seg(org)}/invitations` : null,
  );
  const roleNames = useRoleNames(org);
  const invite = useAction();
  const change = useAction();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('devops');
  const [token, setToken] = useState<string | undefined>();
  const [pending, setPending] = useState<{ email: string; role: string } | null>(null);
  // From the server's answer, asked again after a transfer.
  const mayTransfer = perms.can('ownership:transfer');

  return (
    <div>
      <h3>Invite a member</h3>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void invite.run(async () => {
            const out = await api<{ token: string }>('POST', `/orgs/${seg(org)}/invitations`, {
              email,
              role,
            });
            setToken(out.token);
            setEmail('');
            invitations.reload();
          });
        }}
      >
        <TextField
          label="E-mail"
          type="email"
          value={email}
          required
          onChange={(e) => setEmail(e.target.value)}
          {...managing}
          error={invite.error?.fieldMessage('email')}
        />
        <SelectField
          label="Role"
          value={role}
          onChange={(e) => setRole(e.target.value)}
          options={roleNames}
          {...managing}
          error={invite.error?.fieldMessage('role')}
        />
        <button
          type="submit"
          className="primary"
          {...managing}
          disabled={managing.disabled || invite.busy}
        >
          Invite
        </button>
      </form>
      <Refusal reason={perms.reason('members:manage')} />
      <ErrorNotice error={invite.error?.fields.length ? undefined : invite.error} />
      {token && (
        <>
          <ShownOnce label="Invitation token." value={token} />
          <p className="muted">
            Send the invitee this link: <code>{`${location.origin}/accept?token=${token}`}</code>,
            or the CLI command <code>hush member accept TOKEN --password-stdin</code>.
          </p>
        </>
      )}

      <h3>Members</h3>
      <ErrorNotice error={members.error ?? change.error} />
      {members.loading && !members.data ? (
        <Loading what="members" />
      ) : (
        <TableWrap label="Members">
          <thead>
            <tr>
              <th>E-mail</th>
              <th>Role</th>
              <th>Joined</th>
              <th>
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(members.data ?? []).map((m) => (
              <tr key={m.id}>
                <td>
                  <UserText text={m.email} />
                </td>
                <td>
                  {m.role === 'owner' ? (
                    'owner'
                  ) : (
                    <label>
                      <span className="visually-hidden">Role of {m.email}</span>
                      <select
                        value={m.role}
                        {...managing}
                        onChange={(e) => setPending({ email: m.email, role: e.target.value })}
                      >
                        {[...new Set([m.role, ...roleNames])].map((r) => (
                          <option key={r}>{r}</option>
                        ))}
                      </select>
                    </label>
                  )}
                </td>
                <td>
                  <Age iso={m.joinedAt} />
                </td>
                <td className="row-actions">
                  {mayTransfer && m.role !== 'owner' && (
                    <ConfirmButton
                      label="Make owner"
                      ariaLabel={`Make ${m.email} the owner`}
                      danger
                      title={
                        <>
                          Make <UserText text={m.email} /> the owner?
                        </>
                      }
                      message={
                        <p>
                          An organization has one Owner. <UserText text={m.email} /> becomes the
                          Owner and you become an Admin; only the new Owner can give ownership back.
                        </p>
                      }
                      confirmLabel="Transfer ownership"
                      onConfirm={async () => {
                        await api(
                          'POST',
                          `/orgs/${seg(org)}/members/${seg(m.email)}/transfer-ownership`,
                        );
                        members.reload();
                        refreshPermissions();
                      }}
                    />
                  )}
                  {m.role !== 'owner' && m.email !== me.email && (
                    <ConfirmButton
                      label="Remove"
                      ariaLabel={`Remove ${m.email}`}
                      className="danger"
                      danger
                      disabled={managing.disabled}
                      tooltip={managing.title}
                      title={
                        <>
                          Remove <UserText text={m.email} />?
                        </>
                      }
                      message={
                        <p>
                          They lose access to this organization at once; their sessions here end.
                        </p>
                      }
                      confirmLabel="Remove member"
                      onConfirm={async () => {
                        await api('DELETE', `/orgs/${seg(org)}/members/${seg(m.email)}`);
                        members.reload();
                      }}
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </TableWrap>
      )}
      {pending && (
        <div className="notice warn actions confirm" role="alert">
          <span>
            Change the role of <UserText text={pending.email} /> to{' '}
            <strong>
              <UserText text={pending.role} />
            </strong>
            ?
          </span>
          <button type="button" onClick={() => setPending(null)}>
            Cancel
          </button>
          <button
            type="button"
            className="primary"
            disabled={change.busy}
            onClick={() =>
              void change.run(async () => {
                await api('PATCH', `/orgs/${seg(org)}/members/${seg(pending.email)}`, {
                  role: pending.role,
                });
                setPending(null);
                members.reload();
                refreshPermissions();
              })
            }
          >
            Change role
          </button>
        </div>
      )}

      {perms.can('members:manage') && <h3>Pending invitations</h3>}
      {!perms.can('members:manage') ? null : invitations.data?.length ? (
        <TableWrap label="Pending invitations">
          <thead>
            <tr>
              <th>E-mail</th>
              <th>Role</th>
              <th>Sent</th>
              <th>
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {invitations.data.map((i) => (
              <tr key={i.id}>
                <td>
                  <UserText text={i.email} />
                </td>
                <td>
                  <UserText text={i.role} />
                </td>
                <td>
                  <Age iso={i.createdAt} />
                </td>
                <td className="row-actions">
                  <ConfirmButton
                    label="Revoke"
                    ariaLabel={`Revoke the invitation of ${i.email}`}
                    danger
                    title={
                      <>
                        Revoke the invitation of <UserText text={i.email} />?
                      </>
                    }
                    message={<p>The token stops working.</p>}
                    confirmLabel="Revoke"
                    onConfirm={async () => {
                      await api('DELETE', `/orgs/${seg(org)}/invitations/${seg(i.id)}`);
                      invitations.reload();
                    }}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </TableWrap>
      ) : (
        <p className="empty">No pending invitations.</p>
      )}
    </div>
  );
}
