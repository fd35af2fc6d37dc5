import { type ReactNode, useEffect, useRef, useState } from 'react';

import { api, seg } from '../api.js';
import { refreshPermissions, usePermissions } from '../permissions.js';
import { Link, navigate } from '../router.js';
import type { Project, Whoami } from '../types.js';
import { shownText, useResource, UserText } from '../ui.js';

export const ORG_TABS = [
  { key: 'secrets', label: 'Secrets' },
  { key: 'members', label: 'Members' },
  { key: 'roles', label: 'Roles' },
  { key: 'tokens', label: 'API tokens' },
  { key: 'audit', label: 'Audit logs' },
  { key: 'health', label: 'Health' },
  { key: 'settings', label: 'Settings' },
];

/** The frame of every signed-in page: header, organization switcher, navigation, sign-out. */
export function Shell({
  me,
  org,
  path,
  children,
}: {
  me: Whoami;
  org: string;
  path: string;
  children: ReactNode;
}) {
  const perms = usePermissions(org);
  // Asked once the answer says the caller may list them: a refusal would be an audited denial.
  const projects = useResource<Project[]>(
    org && perms.listProjects ? `/orgs/${seg(org)}/projects` : null,
  );
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [path]);
  // Every other page asks the server anew: a role changed meanwhile shows at the next click.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) first.current = false;
    else refreshPermissions();
  }, [path]);
  useEffect(() => {
    const reload = () => projects.reload();
    window.addEventListener('hush:projects-changed', reload);
    return () => window.removeEventListener('hush:projects-changed', reload);
  }, [projects.reload]);
  const here = (href: string) =>
    path === href || path.startsWith(href + '/') ? 'page' : undefined;
  const base = `/orgs/${seg(org)}`;
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link className="brand" href={base}>
          Hush
        </Link>
        {me.organizations.length > 1 ? (
          <label className="org-switch">
            <span className="visually-hidden">Organization</span>
            {/* Named without the chosen option's text, which a wrapping label would add. */}
            <select
              aria-label="Organization"
              value={org}
              onChange={(e) => navigate(`/orgs/${seg(e.target.value)}`)}
            >
              {me.organizations.map((o) => (
                <option key={o.slug} value={o.slug}>
                  {o.slug}
                </option>
              ))}
            </select>
          </label>
        ) : (
          <span className="org-name">{org}</span>
        )}
        <span className="spacer" />
        <span className="who" title={me.email && shownText(me.email)}>
          <UserText text={me.email} />
        </span>
        <button
          type="button"
          className="menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="sidenav"
          onClick={() => setMenuOpen((o) => !o)}
        >
          Menu
        </button>
        <button
          type="button"
          onClick={() =>
            void api('POST', '/auth/logout').finally(() => {
              window.location.assign('/signin');
            })
          }
        >
          Sign out
        </button>
      </header>
      <nav id="sidenav" className={menuOpen ? 'sidenav open' : 'sidenav'} aria-label="Main">
        <h2>Organization</h2>
        <ul>
          <li>
            <Link href={base} aria-current={path === base ? 'page' : undefined}>
              Projects
            </Link>
          </li>
          {ORG_TABS.map((t) => (
            <li key={t.key}>
              <Link href={`${base}/${t.key}`} aria-current={here(`${base}/${t.key}`)}>
                {t.label}
              </Link>
            </li>
          ))}
        </ul>
        <h2>Projects</h2>
        <ul>
          {(projects.data ?? []).map((p) => (
            <li key={p.id}>
              <Link
                href={`${base}/projects/${seg(p.slug)}/secrets`}
                aria-current={here(`${base}/projects/${seg(p.slug)}`)}
              >
                {p.slug}
              </Link>
            </li>
          ))}
          {projects.data?.length === 0 && <li className="muted">No projects yet</li>}
          {perms.loaded && !perms.listProjects && (
            <li className="muted">Your role ({perms.roleLabel}) cannot list projects</li>
          )}
        </ul>
      </nav>
      <main id="main" className="content" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
