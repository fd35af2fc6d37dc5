import { useState } from 'react';

import { api, seg } from '../api.js';
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
  const invitations = useResource<Invitation[]>(`/orgs/${seg(org)}/invitations`);
  const roleNames = useRoleNames(org);
  const invite = useAction();
  const change = useAction();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('devops');
  const [token, setToken] = useState<string | undefined>();
  const [pending, setPending] = useState<{ email: string; role: string } | null>(null);
  // From the member list, not the session: it is current after a transfer.
  const iAmOwner = members.data?.some((m) => m.email === me.email && m.role === 'owner') ?? false;

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
          error={invite.error?.fieldMessage('email')}
        />
        <SelectField
          label="Role"
          value={role}
          onChange={(e) => setRole(e.target.value)}
          options={roleNames}
          error={invite.error?.fieldMessage('role')}
        />
        <button type="submit" className="primary" disabled={invite.busy}>
          Invite
        </button>
      </form>
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
                <td>{m.email}</td>
                <td>
                  {m.role === 'owner' ? (
                    'owner'
                  ) : (
                    <label>
                      <span className="visually-hidden">Role of {m.email}</span>
                      <select
                        value={m.role}
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
                  {iAmOwner && m.role !== 'owner' && (
                    <ConfirmButton
                      label="Make owner"
                      ariaLabel={`Make ${m.email} the owner`}
                      danger
                      title={`Make ${m.email} the owner?`}
                      message={
                        <p>
                          An organization has one Owner. {m.email} becomes the Owner and you become
                          an Admin; only the new Owner can give ownership back.
                        </p>
                      }
                      confirmLabel="Transfer ownership"
                      onConfirm={async () => {
                        await api(
                          'POST',
                          `/orgs/${seg(org)}/members/${seg(m.email)}/transfer-ownership`,
                        );
                        members.reload();
                      }}
                    />
                  )}
                  {m.role !== 'owner' && m.email !== me.email && (
                    <ConfirmButton
                      label="Remove"
                      ariaLabel={`Remove ${m.email}`}
                      className="danger"
                      danger
                      title={`Remove ${m.email}?`}
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
            Change the role of {pending.email} to <strong>{pending.role}</strong>?
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
              })
            }
          >
            Change role
          </button>
        </div>
      )}

      <h3>Pending invitations</h3>
      {invitations.data?.length ? (
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
                <td>{i.email}</td>
                <td>{i.role}</td>
                <td>
                  <Age iso={i.createdAt} />
                </td>
                <td>
                  <ConfirmButton
                    label="Revoke"
                    ariaLabel={`Revoke the invitation of ${i.email}`}
                    danger
                    title={`Revoke the invitation of ${i.email}?`}
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
