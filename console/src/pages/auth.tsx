import { type FormEvent, useState } from 'react';

import { api } from '../api.js';
import { ErrorNotice, TextField, useAction } from '../ui.js';

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

export function SignInPage({
  notice,
  onDone,
}: {
  notice?: string | undefined;
  onDone: () => void;
}) {
  const { busy, error, run } = useAction();
  return (
    <Card title="Sign in">
      {notice && (
        <p className="notice warn" role="alert">
          {notice}
        </p>
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

export function AcceptPage({ token, onDone }: { token: string; onDone: () => void }) {
  const { busy, error, run } = useAction();
  return (
    <Card title="Accept the invitation">
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
        <button className="primary" type="submit" disabled={busy || !token}>
          Accept and sign in
        </button>
      </form>
    </Card>
  );
}

/** A signed-in person who belongs to no organization (removed from all): create one. */
export function NoOrganization({ onCreated }: { onCreated: () => Promise<void> }) {
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
