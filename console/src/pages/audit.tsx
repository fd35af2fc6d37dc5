import { useState } from 'react';

import { api, qs, seg } from '../api.js';
import { Refusal, usePermissions } from '../permissions.js';
import type { AuditEvent, AuditPage } from '../types.js';
import {
  Dialog,
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
import { EVENT_TYPES, TARGET_TYPES } from '../vocabulary.js';

interface Filters {
  since: string;
  until: string;
  targetType: string;
  target: string;
  eventType: string;
  actor: string;
}

const EMPTY: Filters = {
  since: '',
  until: '',
  targetType: '',
  target: '',
  eventType: '',
  actor: '',
};

/** A datetime-local value (the browser's local time) as an ISO instant, or undefined. */
function isoOf(local: string): string | undefined {
  if (!local) return undefined;
  const t = new Date(local);
  return Number.isNaN(t.getTime()) ? undefined : t.toISOString();
}

/** Audit logs, for those who may view them (anyone else is told why, and nothing is asked). */
export function AuditPanel({ org }: { org: string }) {
  const perms = usePermissions(org);
  if (perms.error) return <ErrorNotice error={perms.error} />;
  if (!perms.loaded) return <Loading what="your permissions" />;
  if (!perms.can('audit:read')) return <Refusal reason={perms.reason('audit:read')} />;
  return <AuditLog org={org} />;
}

/** Audit logs: filters, newest first, pages by cursor, an event's full JSON. */
function AuditLog({ org }: { org: string }) {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [applied, setApplied] = useState<Filters>(EMPTY);
  const [cursor, setCursor] = useState<string | undefined>();
  const [open, setOpen] = useState<AuditEvent | null>(null);
  const verify = useAction();
  const [verdict, setVerdict] = useState<string | undefined>();
  const filters = {
    since: isoOf(applied.since),
    until: isoOf(applied.until),
    targetType: applied.targetType,
    target: applied.target,
    eventType: applied.eventType,
    actor: applied.actor,
  };
  const query = qs({ ...filters, limit: 25, cursor });
  // A plain link: the browser streams the file to disk, however many events match.
  const exportHref = (format: 'csv' | 'jsonl') =>
    `/api/v1/orgs/${seg(org)}/audit/export${qs({ ...filters, format })}`;
  const page = useResource<AuditPage>(`/orgs/${seg(org)}/audit${query}`);
  const set = (patch: Partial<Filters>) => setDraft({ ...draft, ...patch });

  return (
    <div>
      <form
        className="filters"
        aria-label="Audit filters"
        onSubmit={(e) => {
          e.preventDefault();
          setCursor(undefined);
          setApplied(draft);
        }}
      >
        <TextField
          label="From"
          type="datetime-local"
          value={draft.since}
          onChange={(e) => set({ since: e.target.value })}
          error={page.error?.fieldMessage('query.since')}
        />
        <TextField
          label="To"
          type="datetime-local"
          value={draft.until}
          onChange={(e) => set({ until: e.target.value })}
          error={page.error?.fieldMessage('query.until')}
        />
        <SelectField
          label="Target type"
          value={draft.targetType}
          onChange={(e) => set({ targetType: e.target.value })}
          options={[{ value: '', label: 'Any' }, ...TARGET_TYPES]}
        />
        <TextField
          label="Target name"
          value={draft.target}
          onChange={(e) => set({ target: e.target.value })}
        />
        <SelectField
          label="Event type"
          value={draft.eventType}
          onChange={(e) => set({ eventType: e.target.value })}
          options={[{ value: '', label: 'Any' }, ...EVENT_TYPES]}
        />
        <TextField
          label="Actor"
          value={draft.actor}
          onChange={(e) => set({ actor: e.target.value })}
          hint="an e-mail, token name or system"
        />
        <div className="actions">
          <button type="submit" className="primary">
            Apply filters
          </button>
          <button
            type="button"
            onClick={() => {
              setDraft(EMPTY);
              setApplied(EMPTY);
              setCursor(undefined);
            }}
          >
            Clear
          </button>
          <button
            type="button"
            disabled={verify.busy}
            onClick={() =>
              void verify.run(async () => {
                const out = await api<{ ok: boolean; checked: number; brokenAt?: unknown }>(
                  'GET',
                  `/orgs/${seg(org)}/audit/verify`,
                );
                setVerdict(
                  out.ok
                    ? `The chain verifies: ${out.checked} events, no broken link.`
                    : `The chain is broken: ${JSON.stringify(out.brokenAt ?? out)}`,
                );
              })
            }
          >
            Verify chain
          </button>
        </div>
      </form>
      <p className="actions">
        <a className="button" href={exportHref('csv')} download>
          Export CSV
        </a>
        <a className="button" href={exportHref('jsonl')} download>
          Export JSON Lines
        </a>
        <span className="muted">
          The applied filters, oldest event first. An export is itself an audit event.
        </span>
      </p>
      {verdict && (
        <p className="notice ok" role="status">
          {verdict}
        </p>
      )}
      <ErrorNotice error={verify.error} />
      <ErrorNotice error={page.error} />
      {page.loading && !page.data ? (
        <Loading what="audit events" />
      ) : page.data?.events.length === 0 ? (
        <p className="empty">No events match.</p>
      ) : (
        <TableWrap label="Audit events">
          <thead>
            <tr>
              <th>Time</th>
              <th>Event</th>
              <th>Target</th>
              <th>Actor</th>
              <th>Tool</th>
              <th>Change</th>
              <th>
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(page.data?.events ?? []).map((ev) => (
              <tr key={ev.id}>
                <td>
                  <time dateTime={ev.timestamp}>{new Date(ev.timestamp).toLocaleString()}</time>
                </td>
                <td>{ev.eventType}</td>
                <td>
                  {ev.targetType}{' '}
                  <code>
                    <UserText text={ev.targetName ?? ''} />
                  </code>
                </td>
                <td>
                  <UserText text={ev.actor} />
                </td>
                <td>{ev.tool}</td>
                <td>
                  <UserText text={ev.change} />
                </td>
                <td className="row-actions">
                  <button
                    type="button"
                    onClick={() => setOpen(ev)}
                    aria-label={`Open event ${ev.seq}`}
                  >
                    Open
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </TableWrap>
      )}
      <nav className="pager" aria-label="Audit pages">
        <button
          type="button"
          disabled={!page.data?.prevCursor}
          onClick={() => setCursor(page.data?.prevCursor ?? undefined)}
        >
          Newer
        </button>
        <button
          type="button"
          disabled={!page.data?.nextCursor}
          onClick={() => setCursor(page.data?.nextCursor ?? undefined)}
        >
          Older
        </button>
      </nav>
      <Dialog
        title={open ? `Event ${open.seq}: ${open.eventType}` : 'Event'}
        open={open !== null}
        onClose={() => setOpen(null)}
        wide
      >
        {open && <EventJson org={org} id={open.id} />}
      </Dialog>
    </div>
  );
}

function EventJson({ org, id }: { org: string; id: string }) {
  const event = useResource<AuditEvent>(`/orgs/${seg(org)}/audit/${seg(id)}`);
  if (event.error) return <ErrorNotice error={event.error} />;
  if (!event.data) return <Loading what="the event" />;
  return (
    <pre className="json" tabIndex={0} aria-label="Event JSON">
      {/* Still JSON: an invisible character is written as the escape JSON has for it. */}
      {shownText(JSON.stringify(event.data, null, 2), true)}
    </pre>
  );
}
