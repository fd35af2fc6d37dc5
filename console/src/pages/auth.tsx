import { type FormEvent, useEffect, useState } from 'react';

import type { ApiError } from '../api.js';
import { api } from '../api.js';
import { navigate } from '../router.js';
import type { InvitationInfo } from '../types.js';
import { ErrorNotice, Loading, TextField, toApiError, useAction, UserText } from '../ui.js';
import { BUILTIN_ROLE_LABELS } from '../vocabulary.js';

function Card({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <main className="auth">
      <div className="card">
        <p className="brand" aria-hidden="true">
          Hush
        </p>
        <h1>{title}</h1>
        {children}
      </div>
    </main>
  );
}

function formValues(event: FormEvent<HTMLFormElement>) {
  event.preventDefault();
  const data = new FormData(event.currentTarget);
  return (name: string) => String((data.get(name) as string | null) ?? '');
}

/** Whether first-run setup is open (`GET /setup`); undefined until the server answers. */
export function useSetupOpen(): boolean | undefined {
  const [open, setOpen] = useState<boolean | undefined>();
  useEffect(() => {
    let live = true;
    api<{ open: boolean }>('GET', '/setup').then(
      (out) => live && setOpen(out.open),
      () => live && setOpen(false),
    );
    return () => {
      live = false;
    };
  }, []);
  return open;
}

/** Where the setup link is: what a person who just started the server needs to read. */
function SetupLinkHint() {
  return (
    <p>
      The one-time setup link is printed in the output of <code>hush serve</code> when it starts, on
      the line <code>First-run setup: no account exists yet. Open http://…/setup?token=…</code>.
      Open that link to create the first Owner and organization (or run{' '}
      <code>hush admin bootstrap</code> on the server).
    </p>
  );
}

/** `/` before anyone has set Hush up: there is no account to sign in with yet. */
export function SetupOpenPage() {
  return (
    <Card title="Hush is not set up yet">
      <p>First-run setup is open: no account exists on this server yet.</p>
      <SetupLinkHint />
      <p>
        <a href="/setup">Enter the setup token by hand</a>
      </p>
    </Card>
  );
}

/** `/` for someone signed out: the setup page's pointer while setup is open, else sign-in. */
export function SignedOutHome() {
  const setupOpen = useSetupOpen();
  useEffect(() => {
    if (setupOpen === false) navigate('/signin', { replace: true });
  }, [setupOpen]);
  if (setupOpen === undefined) return <Loading what="the server's state" />;
  return setupOpen ? <SetupOpenPage /> : null;
}

export function SignInPage({
  notice,
  onDone,
}: {
  notice?: string | undefined;
  onDone: () => void;
}) {
  const { busy, error, run } = useAction();
  const setupOpen = useSetupOpen();
  return (
    <Card title="Sign in">
      {notice && (
        <p className="notice warn" role="alert">
          {notice}
        </p>
      )}
      {setupOpen && (
        <div className="notice warn" role="status">
          <p>
            <strong>No account exists yet:</strong> first-run setup is open.
          </p>
          <SetupLinkHint />
        </div>
      )}
      <form
        onSubmit={(e) => {
          const get = formValues(e);
          void run(async () => {
            await api('POST', '/auth/login', { email: get('email'), password: get('password') });
            onDone();
          });
        }}
      >
        <TextField
          label="E-mail"
          name="email"
          type="email"
          autoComplete="username"
          required
          autoFocus
          error={error?.fieldMessage('email')}
        />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          error={error?.fieldMessage('password')}
        />
        <ErrorNotice error={error?.fields.length ? undefined : error} />
        <button className="primary" type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
    </Card>
  );
}

export function SetupPage({ token, onDone }: { token: string; onDone: () => void }) {
  const { busy, error, run } = useAction();
  const [tokenValue, setToken] = useState(token);
  return (
    <Card title="Set up Hush">
      <p>
        Create the first Owner and organization. The one-time setup token is printed by{' '}
        <code>hush serve</code> on its first start; its link fills it in.
      </p>
      <form
        onSubmit={(e) => {
          const get = formValues(e);
          void run(async () => {
            await api('POST', '/setup', {
              token: tokenValue,
              email: get('email'),
              password: get('password'),
              org: get('org'),
            });
            onDone();
          });
        }}
      >
        <TextField
          label="Setup token"
          name="token"
          value={tokenValue}
          onChange={(e) => setToken(e.target.value)}
          required
          error={error?.fieldMessage('token')}
        />
        <TextField
          label="E-mail"
          name="email"
          type="email"
          autoComplete="username"
          required
          error={error?.fieldMessage('email')}
        />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          minLength={8}
          required
          hint="8 characters or more"
          error={error?.fieldMessage('password')}
        />
        <TextField
          label="Organization slug"
          name="org"
          required
          hint="a-z, 0-9 and -, e.g. acme"
          error={error?.fieldMessage('org')}
        />
        <ErrorNotice error={error?.fields.length ? undefined : error} />
        <button className="primary" type="submit" disabled={busy}>
          Create owner and organization
        </button>
      </form>
    </Card>
  );
}

/** What an invitation token is for (`GET /invitations/inspect`, the token in a header). */
function useInvitation(token: string) {
  const [state, setState] = useState<{ info?: InvitationInfo; error?: ApiError }>({});
  useEffect(() => {
    if (!token) return;
    let live = true;
    api<InvitationInfo>('GET', '/invitations/inspect', undefined, {
      'x-hush-invitation': token,
    }).then(
      (info) => live && setState({ info }),
      (error: unknown) => live && setState({ error: toApiError(error) }),
    );
    return () => {
      live = false;
    };
  }, [token]);
  return state;
}

/** What the invitation is for: organization, role, e-mail and expiry. */
function InvitationSummary({ info }: { info: InvitationInfo }) {
  const role = (BUILTIN_ROLE_LABELS as Record<string, string>)[info.role] ?? info.role;
  return (
    <p data-testid="invitation">
      You are invited to join{' '}
      <strong>
        <UserText text={info.organization.name} />
      </strong>{' '}
      (<code>{info.organization.slug}</code>) as{' '}
      <strong>
        <UserText text={role} />
      </strong>
      , with the e-mail <UserText text={info.email} />. The invitation expires{' '}
      <time dateTime={info.expiresAt}>{new Date(info.expiresAt).toLocaleString()}</time>.
    </p>
  );
}

export function AcceptPage({ token, onDone }: { token: string; onDone: () => void }) {
  const { busy, error, run } = useAction();
  const invitation = useInvitation(token);
  const unusable = !token || invitation.error !== undefined;
  return (
    <Card title="Accept the invitation">
      {!token ? (
        <p className="notice error" role="alert">
          This link has no invitation token. Open the link you were sent as it is.
        </p>
      ) : invitation.error?.code === 'INVITATION_NOT_FOUND' ? (
        <p className="notice error" role="alert">
          This invitation is unknown, used, revoked or expired. Ask the person who invited you for a
          new one.
        </p>
      ) : invitation.error ? (
        <ErrorNotice error={invitation.error} />
      ) : invitation.info ? (
        <InvitationSummary info={invitation.info} />
      ) : (
        <Loading what="the invitation" />
      )}
      <p>Choose a password to create your account, or enter your existing password to join.</p>
      <form
        onSubmit={(e) => {
          const get = formValues(e);
          void run(async () => {
            await api('POST', '/invitations/accept', { token, password: get('password') });
            onDone();
          });
        }}
      >
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          minLength={8}
          required
          error={error?.fieldMessage('password')}
        />
        <ErrorNotice error={error?.fields.length ? undefined : error} />
        <button className="primary" type="submit" disabled={busy || unusable}>
          Accept and sign in
        </button>
      </form>
    </Card>
  );
}

/**
 * A signed-in person who belongs to no organization (removed from all): create one, where the
 * server lets them (`canCreateOrganizations` from whoami), else ask for an invitation.
 */
export function NoOrganization({
  canCreate,
  onCreated,
}: {
  canCreate: boolean;
  onCreated: () => Promise<void>;
}) {
  if (!canCreate) {
    return (
      <Card title="No organization yet">
        <p>
          You are signed in but belong to no organization. Ask an Owner or Admin for an invitation:
          on this server only Owners and Admins of an organization may create new ones.
        </p>
      </Card>
    );
  }
  return (
    <Card title="No organization yet">
      <p>
        You are signed in but belong to no organization. Ask an Owner for an invitation, or create
        one.
      </p>
      <CreateOrganizationForm onCreated={onCreated} />
    </Card>
  );
}

/** Creates an organization with the signed-in user as its Owner. */
export function CreateOrganizationForm({
  onCreated,
}: {
  onCreated: (slug: string) => Promise<void> | void;
}) {
  const { busy, error, run } = useAction();
  return (
    <form
      onSubmit={(e) => {
        const get = formValues(e);
        void run(async () => {
          const slug = get('slug');
          await api('POST', '/orgs', { slug });
          await onCreated(slug);
        });
      }}
    >
      <TextField
        label="Organization slug"
        name="slug"
        required
        error={error?.fieldMessage('slug')}
      />
      <ErrorNotice error={error?.fields.length ? undefined : error} />
      <button className="primary" type="submit" disabled={busy}>
        Create organization
      </button>
    </form>
  );
}
