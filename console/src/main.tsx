import './style.css';

import { StrictMode, useCallback, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';

import { api, onSessionLost } from './api.js';
import { sameOriginPath } from './next-path.js';
import { AcceptPage, NoOrganization, SetupPage, SignedOutHome, SignInPage } from './pages/auth.js';
import { OrgHome } from './pages/org-home.js';
import { OrgSettings } from './pages/org-settings.js';
import { ProjectSettings } from './pages/project-settings.js';
import { Shell } from './pages/shell.js';
import { match, navigate, Redirect, useLocation } from './router.js';
import type { Whoami } from './types.js';
import { Loading } from './ui.js';

const PUBLIC = ['/signin', '/setup', '/accept'];

function App() {
  const { path, query } = useLocation();
  const [me, setMe] = useState<Whoami | null | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>();

  const refresh = useCallback(async () => {
    try {
      setMe(await api<Whoami>('GET', '/auth/whoami'));
    } catch {
      setMe(null);
    }
  }, []);

  useEffect(() => {
    if (!PUBLIC.includes(path)) void refresh();
    else setMe((m) => (m === undefined ? null : m));
    // Only the first load asks; later pages keep the answer until the session is lost.
  }, []);

  useEffect(
    () =>
      onSessionLost((reason) => {
        setMe(null);
        setNotice(
          reason === 'expired'
            ? 'Your session has expired or was revoked. Sign in again to continue.'
            : 'You are signed out. Sign in to continue.',
        );
        // At `/` the page itself decides: the setup pointer before setup, else sign-in.
        if (!PUBLIC.includes(location.pathname) && location.pathname !== '/') {
          navigate(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`, {
            replace: true,
          });
        }
      }),
    [],
  );

  const signedIn = async (next?: string) => {
    setNotice(undefined);
    await refresh();
    navigate(sameOriginPath(next, window.location.origin), { replace: true });
  };

  if (path === '/setup')
    return <SetupPage token={query.get('token') ?? ''} onDone={() => void signedIn('/')} />;
  if (path === '/accept')
    return <AcceptPage token={query.get('token') ?? ''} onDone={() => void signedIn('/')} />;
  if (path === '/signin')
    return <SignInPage notice={notice} onDone={() => void signedIn(query.get('next') ?? '/')} />;
  if (me === undefined) return <Loading what="your session" />;
  if (me === null) {
    // Before setup there is no one to sign in: `/` says where the setup link is.
    if (path === '/') return <SignedOutHome />;
    return <Redirect to={`/signin?next=${encodeURIComponent(path + location.search)}`} />;
  }

  const orgs = me.organizations;
  if (path === '/') {
    const first = orgs[0];
    return first ? (
      <Redirect to={`/orgs/${first.slug}`} />
    ) : (
      <NoOrganization canCreate={me.canCreateOrganizations === true} onCreated={refresh} />
    );
  }

  let page = null;
  let params: Record<string, string> | null;
  if ((params = match('/orgs/:org', path))) page = <OrgHome org={params.org!} />;
  else if ((params = match('/orgs/:org/projects/:project/:tab', path)))
    page = (
      <ProjectSettings org={params.org!} project={params.project!} tab={params.tab!} me={me} />
    );
  else if ((params = match('/orgs/:org/projects/:project', path)))
    page = <Redirect to={`/orgs/${params.org}/projects/${params.project}/secrets`} />;
  else if ((params = match('/orgs/:org/:tab', path)))
    page = <OrgSettings org={params.org!} tab={params.tab!} me={me} />;
  const org = params?.org ?? orgs[0]?.slug ?? '';
  return (
    <Shell me={me} org={org} path={path}>
      {page ?? (
        <section>
          <h1>Page not found</h1>
          <p>There is no page at {path}.</p>
        </section>
      )}
    </Shell>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
