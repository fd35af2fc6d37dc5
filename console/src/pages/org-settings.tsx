import { seg } from '../api.js';
import type { Whoami } from '../types.js';
import { Tabs } from '../ui.js';
import { AuditPanel } from './audit.js';
import { HealthPanel } from './health.js';
import { MembersPanel } from './members.js';
import { RolesPanel } from './roles.js';
import { SecretsPanel } from './secrets.js';
import { SettingsPanel } from './settings.js';
import { ORG_TABS } from './shell.js';
import { TokensPanel } from './tokens.js';

/** Organization settings: Secrets, Members, Roles, API tokens, Audit logs, Health, Settings. */
export function OrgSettings({ org, tab, me }: { org: string; tab: string; me: Whoami }) {
  const known = ORG_TABS.find((t) => t.key === tab);
  return (
    <section>
      <h1>
        Organization settings <span className="muted">· {org}</span>
      </h1>
      <Tabs
        current={tab}
        tabs={ORG_TABS.map((t) => ({ ...t, href: `/orgs/${seg(org)}/${t.key}` }))}
      />
      <h2 className="visually-hidden">{known?.label ?? 'Unknown tab'}</h2>
      {tab === 'secrets' && <SecretsPanel org={org} level={{}} />}
      {tab === 'members' && <MembersPanel org={org} me={me} />}
      {tab === 'roles' && <RolesPanel org={org} />}
      {tab === 'tokens' && <TokensPanel org={org} />}
      {tab === 'audit' && <AuditPanel org={org} />}
      {tab === 'health' && <HealthPanel org={org} />}
      {tab === 'settings' && <SettingsPanel org={org} me={me} />}
      {!known && <p>There is no tab called {tab}.</p>}
    </section>
  );
}
