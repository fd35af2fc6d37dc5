import { type ReactNode, useState } from 'react';

import { qs, seg } from '../api.js';
import type { HygieneReport, ReportToken } from '../types.js';
import { Age, ErrorNotice, Loading, TableWrap, TextField, useResource, UserText } from '../ui.js';
import { BUILTIN_ROLE_LABELS, KIND_LABELS } from '../vocabulary.js';

const DEFAULT_PERIOD = '90d';
const SHOWN_FIELDS = ['olderThan', 'inactive'];
const PERIOD_HINT = 'a whole number and m, h, d or w: 30d, 12h, 2w';

/**
 * How the withheld note names each section of the report (`REPORT_SECTIONS` in
 * src/domain/report/report-service.ts); a section the server adds later is named by its key.
 */
const SECTION_NAMES: Record<string, string> = {
  secrets: 'old secrets',
  idleTokens: 'idle API tokens',
  tokensWithoutExpiry: 'API tokens without expiry',
  inactiveMembers: 'inactive members',
  expiredInvitations: 'expired invitations',
  rotations: 'paused or failing rotations',
};

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;

/** A period the report gives in days, in the largest whole unit: `90 days`, `12 hours`, `1 minute`. */
function period(days: number): string {
  const seconds = Math.round(days * 86_400);
  if (seconds % 86_400 === 0) return plural(seconds / 86_400, 'day');
  if (seconds % 3600 === 0) return plural(seconds / 3600, 'hour');
  return plural(Math.round(seconds / 60), 'minute');
}
const roleLabel = (role: string) =>
  BUILTIN_ROLE_LABELS[role as keyof typeof BUILTIN_ROLE_LABELS] ?? role;
const when = (iso: string | null, none: string) => (iso ? <Age iso={iso} /> : none);
const dateOf = (iso: string | null, none: string) =>
  iso ? (
    <time dateTime={iso} title={new Date(iso).toLocaleString()}>
      {new Date(iso).toLocaleDateString()}
    </time>
  ) : (
    none
  );

/**
 * Health: the organization's hygiene report (`GET /orgs/:org/report`): secrets whose current
 * version is old, tokens unused or without expiry, members who have not signed in, expired
 * invitations and rotations that are paused or failing. Every member may ask; the server leaves
 * out what the caller's role may not read and says so.
 */
export function HealthPanel({ org }: { org: string }) {
  const [olderThan, setOlderThan] = useState(DEFAULT_PERIOD);
  const [inactive, setInactive] = useState(DEFAULT_PERIOD);
  const [asked, setAsked] = useState({ olderThan: DEFAULT_PERIOD, inactive: DEFAULT_PERIOD });
  const report = useResource<HygieneReport>(
    `/orgs/${seg(org)}/report${qs({ olderThan: asked.olderThan.trim(), inactive: asked.inactive.trim() })}`,
  );
  const error = report.error;
  const olderThanError = error?.fieldMessage('olderThan');
  const inactiveError = error?.fieldMessage('inactive');
  const data = error ? undefined : report.data;
  // Field errors sit next to their input; anything else (or a field the form lacks) in a notice.
  const unshown =
    error &&
    (error.fields.length === 0 ||
      error.fields.some((f) => !SHOWN_FIELDS.includes(f.field.replace(/^query\./, ''))));

  return (
    <div>
      <form
        className="inline-form"
        aria-label="Report settings"
        onSubmit={(e) => {
          e.preventDefault();
          // The same periods again still ask anew: the report is of now.
          if (olderThan === asked.olderThan && inactive === asked.inactive) report.reload();
          else setAsked({ olderThan, inactive });
        }}
      >
        <TextField
          label="Secrets older than"
          value={olderThan}
          required
          spellCheck={false}
          onChange={(e) => setOlderThan(e.target.value)}
          hint={PERIOD_HINT}
          error={olderThanError}
        />
        <TextField
          label="Idle after"
          value={inactive}
          required
          spellCheck={false}
          onChange={(e) => setInactive(e.target.value)}
          hint="tokens unused and members not signed in for this long"
          error={inactiveError}
        />
        <button type="submit" className="primary" disabled={report.loading}>
          Show report
        </button>
      </form>
      <ErrorNotice error={unshown ? error : undefined} />
      {report.loading && !report.data && !error && <Loading what="the report" />}
      {data && <Report report={data} />}
    </div>
  );
}

function Report({ report }: { report: HygieneReport }) {
  const older = period(report.olderThanDays);
  const idle = period(report.inactiveDays);
  return (
    <>
      <p className="muted">
        As of {new Date(report.generatedAt).toLocaleString()}: secrets older than {older}, idle
        after {idle}.
      </p>
      {report.withheld.length > 0 && (
        <p className="notice" data-testid="report-withheld">
          Left out, as your role may not read them:{' '}
          {report.withheld.map((s) => SECTION_NAMES[s] ?? s).join(', ')}.
        </p>
      )}
      {report.secrets && (
        <Section
          id="secrets"
          title={`Secrets not rotated for ${older}`}
          count={report.secrets.length}
          more={report.secretsTruncated}
          empty="None: every secret's current version is younger."
        >
          <thead>
            <tr>
              <th>Name</th>
              <th>Kind</th>
              <th>Where</th>
              <th>Assignee</th>
              <th>Version</th>
              <th>Age</th>
              <th>Written by</th>
            </tr>
          </thead>
          <tbody>
            {report.secrets.map((s) => (
              <tr key={s.id} data-name={s.name}>
                <td>
                  <code>{s.name}</code>
                </td>
                <td>{KIND_LABELS[s.kind] ?? s.kind}</td>
                <td>
                  <UserText text={s.where} />
                </td>
                <td>{s.assignee ? <UserText text={s.assignee} /> : '—'}</td>
                <td>v{s.version}</td>
                <td>
                  <time
                    dateTime={s.versionCreatedAt}
                    title={new Date(s.versionCreatedAt).toLocaleString()}
                  >
                    {plural(s.ageDays, 'day')}
                  </time>
                </td>
                <td>
                  <UserText text={s.lastRotatedBy} />
                </td>
              </tr>
            ))}
          </tbody>
        </Section>
      )}
      {report.idleTokens && (
        <TokenSection
          id="idleTokens"
          title={`API tokens unused for ${idle} or never used`}
          tokens={report.idleTokens}
          empty="None: every live token was used lately."
        />
      )}
      {report.tokensWithoutExpiry && (
        <TokenSection
          id="tokensWithoutExpiry"
          title="API tokens without expiry"
          tokens={report.tokensWithoutExpiry}
          empty="None: every live token expires."
        />
      )}
      {report.inactiveMembers && (
        <Section
          id="inactiveMembers"
          title={`Members not signed in for ${idle}`}
          count={report.inactiveMembers.length}
          empty="None: every member signed in lately."
        >
          <thead>
            <tr>
              <th>E-mail</th>
              <th>Role</th>
              <th>Member since</th>
              <th>Last sign-in</th>
            </tr>
          </thead>
          <tbody>
            {report.inactiveMembers.map((m) => (
              <tr key={m.email} data-name={m.email}>
                <td>
                  <UserText text={m.email} />
                </td>
                <td>
                  <UserText text={roleLabel(m.role)} />
                </td>
                <td>{dateOf(m.memberSince, '—')}</td>
                <td>{when(m.lastSignInAt, 'never')}</td>
              </tr>
            ))}
          </tbody>
        </Section>
      )}
      {report.expiredInvitations && (
        <Section
          id="expiredInvitations"
          title="Expired invitations"
          count={report.expiredInvitations.length}
          empty="None: no invitation expired unanswered."
        >
          <thead>
            <tr>
              <th>E-mail</th>
              <th>Role</th>
              <th>Sent</th>
              <th>Expired</th>
            </tr>
          </thead>
          <tbody>
            {report.expiredInvitations.map((i) => (
              <tr key={`${i.email} ${i.createdAt}`} data-name={i.email}>
                <td>
                  <UserText text={i.email} />
                </td>
                <td>
                  <UserText text={roleLabel(i.role)} />
                </td>
                <td>{dateOf(i.createdAt, '—')}</td>
                <td>
                  <Age iso={i.expiresAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </Section>
      )}
      {report.rotations && (
        <Section
          id="rotations"
          title="Paused or failing rotations"
          count={report.rotations.length}
          empty="None: every rotation runs."
        >
          <thead>
            <tr>
              <th>Rotation</th>
              <th>pg service</th>
              <th>State</th>
              <th>Last error</th>
              <th>Last run</th>
              <th>Next run</th>
            </tr>
          </thead>
          <tbody>
            {report.rotations.map((r) => (
              <tr key={r.name} data-name={r.name}>
                <td>
                  <code>{r.name}</code>
                </td>
                <td>
                  <code>{r.secret}</code>
                </td>
                <td>
                  {r.paused ? (
                    <span className="status paused">paused</span>
                  ) : (
                    <span className="status failed">failing ({r.failures})</span>
                  )}
                </td>
                <td>{r.lastError ? <UserText text={r.lastError} /> : '—'}</td>
                <td>{when(r.lastRunAt, 'never')}</td>
                <td>
                  {r.nextRunAt
                    ? new Date(r.nextRunAt).toLocaleString()
                    : r.paused
                      ? '—'
                      : 'by hand'}
                </td>
              </tr>
            ))}
          </tbody>
        </Section>
      )}
    </>
  );
}

/** One section of the report: a heading with its count, then a table or a "none" line. */
function Section({
  id,
  title,
  count,
  more,
  empty,
  children,
}: {
  id: string;
  title: string;
  count: number;
  more?: boolean | undefined;
  empty: string;
  children: ReactNode;
}) {
  const headingId = `report-${id}-heading`;
  return (
    <section className="report-section" data-testid={`report-${id}`} aria-labelledby={headingId}>
      <h3 id={headingId}>
        {title}{' '}
        <span className="count" data-testid="count">
          {count}
          {more ? '+' : ''}
        </span>
      </h3>
      {count === 0 ? (
        <p className="empty">{empty}</p>
      ) : (
        <>
          {more && <p className="muted">Only the {count} oldest are listed.</p>}
          <TableWrap label={title}>{children}</TableWrap>
        </>
      )}
    </section>
  );
}

function TokenSection({
  id,
  title,
  tokens,
  empty,
}: {
  id: string;
  title: string;
  tokens: ReportToken[];
  empty: string;
}) {
  return (
    <Section id={id} title={title} count={tokens.length} empty={empty}>
      <thead>
        <tr>
          <th>Name</th>
          <th>Kind</th>
          <th>Created</th>
          <th>Expires</th>
          <th>Last used</th>
        </tr>
      </thead>
      <tbody>
        {tokens.map((t) => (
          <tr key={t.id} data-name={t.name}>
            <td>
              <UserText text={t.name} />
            </td>
            <td>
              {t.kind === 'service' ? (
                'service'
              ) : (
                <>
                  personal, of <UserText text={t.owner} />
                </>
              )}
            </td>
            <td>
              <Age iso={t.createdAt} />
            </td>
            <td>{dateOf(t.expiresAt, 'never')}</td>
            <td>{when(t.lastUsedAt, 'never')}</td>
          </tr>
        ))}
      </tbody>
    </Section>
  );
}
