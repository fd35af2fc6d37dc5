import { useCallback, useEffect, useId, useLayoutEffect, useRef, useState } from 'react';

import type { ApiError } from '../api.js';
import { api, getJobSandbox, qs, seg } from '../api.js';
import { usePermissions } from '../permissions.js';
import { shortId } from '../short-id.js';
import type { Environment, Job, JobLogs, JobSandbox, Service } from '../types.js';
import {
  Age,
  ConfirmButton,
  ErrorNotice,
  Loading,
  SelectField,
  shownText,
  TableWrap,
  TextField,
  toApiError,
  useAction,
  useResource,
  UserText,
} from '../ui.js';

const DONE = new Set(['succeeded', 'failed', 'cancelled', 'timed_out']);

/**
 * Jobs: run a service or an ad-hoc command, follow its redacted log live, cancel, and the
 * project's history.
 */
export function JobsPanel({ org, project }: { org: string; project: string }) {
  const base = `/orgs/${seg(org)}/projects/${seg(project)}`;
  const services = useResource<Service[]>(`${base}/services`);
  const envs = useResource<Environment[]>(`${base}/environments`);
  const history = useResource<Job[]>(`${base}/jobs${qs({ limit: 25 })}`);
  const [service, setService] = useState('');
  const [command, setCommand] = useState('');
  const [commandEnv, setCommandEnv] = useState('');
  const [watching, setWatching] = useState<string | null>(null);
  const trigger = useAction();
  const adHoc = useAction();
  const adHocWarning = useId();
  const chosen = service || services.data?.[0]?.name || '';
  // Checked where the job runs: the service's environment, or the command's.
  const perms = usePermissions(org, { project });
  const chosenEnv = services.data?.find((s) => s.name === chosen)?.environment;
  const running = perms.gate('jobs:run', { env: chosenEnv });
  const shell = perms.gate('jobs:shell', { env: commandEnv || null });

  return (
    <div>
      <SandboxSummary />
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          const svc = services.data?.find((s) => s.name === chosen);
          void trigger.run(async () => {
            const job = await api<Job>('POST', `/orgs/${seg(org)}/jobs`, {
              project,
              env: svc?.environment ?? undefined,
              service: chosen,
            });
            setWatching(job.id);
            history.reload();
          });
        }}
      >
        <SelectField
          label="Service"
          value={chosen}
          onChange={(e) => setService(e.target.value)}
          options={(services.data ?? []).map((s) => ({
            value: s.name,
            label: `${s.name}${s.environment ? ` (${s.environment})` : ''}`,
          }))}
          error={trigger.error?.fieldMessage('service')}
        />
        <button
          type="submit"
          className="primary"
          title={running.title}
          disabled={running.disabled || trigger.busy || !chosen}
        >
          Run job
        </button>
      </form>
      {services.data?.length === 0 && (
        <p className="muted">Create a service first (Services tab).</p>
      )}
      <ErrorNotice error={trigger.error?.fields.length ? undefined : trigger.error} />
      <p id={adHocWarning} className="notice warn">
        A command you run here receives the secret values of the project or environment you choose
        and can print them in any encoding: redaction of the log catches accidents, not intent.
      </p>
      <form
        className="inline-form"
        aria-label="Run a command"
        aria-describedby={adHocWarning}
        onSubmit={(e) => {
          e.preventDefault();
          void adHoc.run(async () => {
            // As `hush job run -- sh -c '…'`: the text runs in /bin/sh with the resolved secrets.
            const job = await api<Job>('POST', `/orgs/${seg(org)}/jobs`, {
              project,
              env: commandEnv || undefined,
              command: ['/bin/sh', '-c', command],
            });
            setWatching(job.id);
            history.reload();
          });
        }}
      >
        <TextField
          label="Command"
          value={command}
          required
          onChange={(e) => setCommand(e.target.value)}
          hint="run by /bin/sh -c with the secrets of the project or environment"
          error={adHoc.error?.fieldMessage('command')}
        />
        <SelectField
          label="Environment of the command"
          value={commandEnv}
          onChange={(e) => setCommandEnv(e.target.value)}
          options={[
            { value: '', label: 'None (project level)' },
            ...(envs.data ?? []).map((env) => ({ value: env.slug, label: env.slug })),
          ]}
          error={adHoc.error?.fieldMessage('env')}
        />
        <button
          type="submit"
          title={shell.title}
          disabled={shell.disabled || adHoc.busy || !command}
          aria-describedby={adHocWarning}
        >
          Run command
        </button>
      </form>
      <ErrorNotice error={adHoc.error?.fields.length ? undefined : adHoc.error} />
      {watching && (
        <JobView
          key={watching}
          org={org}
          id={watching}
          onChange={history.reload}
          cancel={perms.gate('jobs:run', {
            env: history.data?.find((j) => j.id === watching)?.environment ?? null,
          })}
        />
      )}
      <h3>History</h3>
      <ErrorNotice error={history.error} />
      {history.loading && !history.data ? (
        <Loading what="jobs" />
      ) : history.data?.length ? (
        <TableWrap label="Job history">
          <thead>
            <tr>
              <th>Job</th>
              <th>Status</th>
              <th>Exit code</th>
              <th>Command</th>
              <th>By</th>
              <th>Queued</th>
              <th>
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {history.data.map((j) => (
              <tr key={j.id}>
                <td>
                  <code>{shortId(j.id)}</code>
                </td>
                <td>
                  <span className={`status ${j.status}`}>{j.status}</span>
                </td>
                <td>{j.exitCode ?? '—'}</td>
                <td className="command" title={shownText(commandLine(j.command))}>
                  <code>
                    <UserText text={commandLine(j.command)} />
                  </code>
                </td>
                <td>
                  <UserText text={j.triggeredBy} />
                </td>
                <td>
                  <Age iso={j.createdAt} />
                </td>
                <td>
                  <button
                    type="button"
                    onClick={() => setWatching(j.id)}
                    aria-label={`Show log of job ${shortId(j.id)}`}
                    // A custom role may read some environments of the project and not others.
                    {...perms.gate('environment:read', { env: j.environment })}
                  >
                    Log
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </TableWrap>
      ) : (
        <p className="empty">No jobs yet.</p>
      )}
    </div>
  );
}

/** This server's job sandbox, asked once per page load (see {@link getJobSandbox}). */
function useJobSandbox(): { data?: JobSandbox; error?: ApiError } {
  const [state, setState] = useState<{ data?: JobSandbox; error?: ApiError }>({});
  useEffect(() => {
    let live = true;
    getJobSandbox().then(
      (data) => live && setState({ data }),
      (error: unknown) => live && setState({ error: toApiError(error) }),
    );
    return () => {
      live = false;
    };
  }, []);
  return state;
}

/** How jobs are isolated here, in words; a warning without a sandbox or when jobs cannot run. */
function SandboxSummary() {
  const { data, error } = useJobSandbox();
  if (error) return <ErrorNotice error={error} />;
  if (!data) return null;
  const network = data.network === 'shared' ? 'network: shared' : 'no network';
  const isolation =
    data.mode === 'bwrap' ? `in a bubblewrap sandbox (${network})` : 'without a sandbox';
  // The probe's reason starts "jobs cannot run: …", which the sentence below already says.
  const reason = data.reason?.replace(/^jobs cannot run:\s*/i, '').replace(/([^.])$/, '$1.');
  return (
    <section aria-label="Job sandbox">
      <p className="muted" data-testid="job-sandbox">
        {data.runsJobs
          ? `Jobs run ${isolation}.`
          : `Jobs run on separate workers: this server runs none itself. Its setting: jobs run ${isolation}.`}
      </p>
      {data.mode === 'none' && (
        <p className="notice warn" role="alert">
          <strong>Jobs on this server run without a sandbox:</strong> a job can read the
          server&apos;s files, its master key and every organization&apos;s secrets. Development
          machines only.
        </p>
      )}
      {data.available === false && (
        <p className="notice error" role="alert">
          Jobs cannot run on this server{reason ? `: ${reason}` : '.'}
        </p>
      )}
    </section>
  );
}

/** An ad-hoc job's argv as one line, quoting the arguments a shell would split. */
function commandLine(command: Job['command']): string {
  if (typeof command === 'string') return command;
  return command
    .map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}

/**
 * One job: its status and its whole redacted log, read page by page to its end and then
 * followed until the job ends.
 */
function JobView({
  org,
  id,
  onChange,
  cancel,
}: {
  org: string;
  id: string;
  onChange: () => void;
  /** Whether the caller may cancel (jobs:run in the project): disabled, with the reason, if not. */
  cancel: { disabled: boolean; title: string | undefined };
}) {
  const [log, setLog] = useState(() => new LogLines());
  const [version, setVersion] = useState(0);
  const [complete, setComplete] = useState(false);
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState<ApiError | undefined>();

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let after = 0;
    const lines = new LogLines();
    setLog(lines);
    setComplete(false);
    const poll = async () => {
      try {
        const out = await api<JobLogs>(
          'GET',
          `/orgs/${seg(org)}/jobs/${seg(id)}/logs${qs({ after })}`,
        );
        if (!live) return;
        for (const l of out.lines) lines.add(l.stream, l.text);
        if (out.lines.length) {
          after = out.lines[out.lines.length - 1]!.seq;
          setVersion((v) => v + 1);
        }
        setJob(out.job);
        // `finished` is the job's state, not the log's: a page of a finished job may have more
        // after it. Only an empty page of a finished job is the end (as `hush job logs` reads).
        if (out.finished && out.lines.length === 0) {
          setComplete(true);
          onChange();
          return;
        }
        // Pages still waiting are read at once; a job still writing is asked again shortly.
        timer = setTimeout(() => void poll(), out.lines.length ? 0 : 400);
      } catch (e) {
        if (live) setError(toApiError(e));
      }
    };
    void poll();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [org, id, onChange]);

  const running = job && !DONE.has(job.status);
  return (
    <section className="job-view" aria-label={`Job ${shortId(id)}`}>
      <h3>
        Job <code>{shortId(id)}</code>{' '}
        <span className={`status ${job?.status ?? ''}`} role="status" data-testid="job-status">
          {job?.status ?? 'loading'}
          {job?.exitCode !== null && job?.exitCode !== undefined ? ` (exit ${job.exitCode})` : ''}
        </span>
      </h3>
      {job?.error && (
        <p className="notice error">
          <UserText text={job.error} />
        </p>
      )}
      <ErrorNotice error={error} />
      <WindowedLog log={log} version={version} />
      <LogFooter org={org} id={id} log={log} complete={complete} />
      {running && (
        <ConfirmButton
          label="Cancel job"
          danger
          disabled={cancel.disabled}
          tooltip={cancel.title}
          title="Cancel this job?"
          message={<p>Its process tree is killed.</p>}
          confirmLabel="Cancel job"
          onConfirm={async () => {
            await api('POST', `/orgs/${seg(org)}/jobs/${seg(id)}/cancel`);
          }}
        />
      )}
    </section>
  );
}

/** How tall one log line is, in px (style.css `.log-line` says the same): lines are placed by it. */
const LINE_PX = 18;
/** Lines drawn beyond the visible ones on each side, so that a quick scroll shows no gap. */
const OVERSCAN = 40;
/** What the page keeps of a log at most, the latest part; the download has all of it. */
const MAX_LINES = 250_000;
const MAX_CHARS = 32 * 1024 * 1024;
/** A line is cut where it is shown past this many characters (the download has it whole). */
const MAX_LINE_CHARS = 10_000;

/** A run of one line written to one stream. */
interface Segment {
  stream: string;
  text: string;
}

/**
 * A job's log as lines, built from its entries (chunks of output as the job wrote them: several
 * lines or part of one), keeping at most the last {@link MAX_LINES} lines and
 * {@link MAX_CHARS} characters. Mutated in place as pages arrive; `total` counts dropped lines.
 */
class LogLines {
  readonly lines: Segment[][] = [];
  /** How many lines were dropped from the start to stay within bounds. */
  dropped = 0;
  private chars = 0;
  /** Whether the last line still waits for its newline. */
  private open = false;

  get total(): number {
    return this.dropped + this.lines.length;
  }

  add(stream: string, text: string): void {
    for (let start = 0; start < text.length;) {
      const newline = text.indexOf('\n', start);
      const end = newline < 0 ? text.length : newline + 1;
      const piece = text.slice(start, end);
      const last = this.open ? this.lines[this.lines.length - 1] : undefined;
      const tail = last?.[last.length - 1];
      if (tail?.stream === stream) tail.text += piece;
      else if (last) last.push({ stream, text: piece });
      else this.lines.push([{ stream, text: piece }]);
      this.open = newline < 0;
      this.chars += piece.length;
      start = end;
    }
    if (this.lines.length > MAX_LINES || this.chars > MAX_CHARS) this.trim();
  }

  /** Drops the oldest lines, a tenth more than needed: one splice per line would be quadratic. */
  private trim(): void {
    let drop = 0;
    let chars = this.chars;
    while (
      drop < this.lines.length - 1 &&
      (this.lines.length - drop > MAX_LINES * 0.9 || chars > MAX_CHARS * 0.9)
    ) {
      for (const segment of this.lines[drop]!) chars -= segment.text.length;
      drop++;
    }
    this.lines.splice(0, drop);
    this.dropped += drop;
    this.chars = chars;
  }
}

/** A segment as shown: cut past {@link MAX_LINE_CHARS}, saying so. */
function shownSegment(text: string): string {
  if (text.length <= MAX_LINE_CHARS) return text;
  const rest = text.length - MAX_LINE_CHARS;
  return `${text.slice(0, MAX_LINE_CHARS)} … (${rest.toLocaleString()} more characters in the download)\n`;
}

/**
 * The log's lines in a scrolling box, windowed: only the visible lines (and {@link OVERSCAN}
 * more on each side) are in the page, each {@link LINE_PX} tall, under a spacer as tall as all
 * of them, so that a log of any length scrolls whole without freezing the page. Follows the end
 * as it grows, like a terminal, until the reader scrolls up; back at the bottom, it follows again.
 */
function WindowedLog({ log, version }: { log: LogLines; version: number }) {
  const box = useRef<HTMLDivElement>(null);
  const follow = useRef(true);
  const [view, setView] = useState({ top: 0, height: 0 });
  const measure = useCallback(() => {
    const el = box.current;
    if (el) setView({ top: el.scrollTop, height: el.clientHeight });
  }, []);

  useLayoutEffect(() => {
    const el = box.current;
    if (el && follow.current) el.scrollTop = el.scrollHeight;
    measure();
  }, [log, version, measure]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, [measure]);

  const count = log.lines.length;
  const visible = Math.ceil((view.height || 30 * LINE_PX) / LINE_PX);
  const firstShown = Math.floor(view.top / LINE_PX);
  const first = Math.max(0, firstShown - OVERSCAN);
  const last = Math.min(count, firstShown + visible + OVERSCAN);
  return (
    <div
      ref={box}
      className="log"
      tabIndex={0}
      role="region"
      aria-label="Job log (secret values redacted)"
      data-testid="job-log"
      onScroll={(e) => {
        const el = e.currentTarget;
        follow.current = el.scrollTop + el.clientHeight >= el.scrollHeight - LINE_PX;
        measure();
      }}
    >
      <div className="log-lines" style={{ height: count * LINE_PX }}>
        <div style={{ transform: `translateY(${first * LINE_PX}px)` }}>
          {log.lines.slice(first, last).map((line, i) => (
            <div key={log.dropped + first + i} className="log-line">
              {line.map((segment, j) => (
                <span key={j} className={segment.stream}>
                  {shownSegment(segment.text)}
                </span>
              ))}
            </div>
          ))}
        </div>
      </div>
    </div>
  );
}

/** How much of the log the view has, a notice when it holds the tail only, and the download. */
function LogFooter({
  org,
  id,
  log,
  complete,
}: {
  org: string;
  id: string;
  log: LogLines;
  complete: boolean;
}) {
  const href = `/api/v1/orgs/${seg(org)}/jobs/${seg(id)}/logs/download`;
  const lines = (n: number) => `${n.toLocaleString()} ${n === 1 ? 'line' : 'lines'}`;
  return (
    <div className="log-footer">
      {log.dropped > 0 ? (
        <p className="notice warn" data-testid="job-log-tail">
          Showing the last {lines(log.lines.length)} of {lines(log.total)}
          {complete ? '' : ' so far'}: the earlier ones are only in the full log.
        </p>
      ) : (
        <span className="muted" data-testid="job-log-count">
          {lines(log.total)}
          {complete ? '' : ' so far'}
        </span>
      )}
      <a className="button" href={href} download>
        Download full log
      </a>
    </div>
  );
}
