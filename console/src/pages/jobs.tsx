import { useEffect, useId, useRef, useState } from 'react';

import type { ApiError } from '../api.js';
import { api, getJobSandbox, qs, seg } from '../api.js';
import type { Environment, Job, JobLogs, JobSandbox, Service } from '../types.js';
import {
  Age,
  ConfirmButton,
  ErrorNotice,
  Loading,
  SelectField,
  TableWrap,
  TextField,
  toApiError,
  useAction,
  useResource,
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
        <button type="submit" className="primary" disabled={trigger.busy || !chosen}>
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
        <button type="submit" disabled={adHoc.busy || !command} aria-describedby={adHocWarning}>
          Run command
        </button>
      </form>
      <ErrorNotice error={adHoc.error?.fields.length ? undefined : adHoc.error} />
      {watching && <JobView key={watching} org={org} id={watching} onChange={history.reload} />}
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
                  <code>{j.id.slice(0, 8)}</code>
                </td>
                <td>
                  <span className={`status ${j.status}`}>{j.status}</span>
                </td>
                <td>{j.exitCode ?? '—'}</td>
                <td>
                  <code>{commandLine(j.command)}</code>
                </td>
                <td>{j.triggeredBy}</td>
                <td>
                  <Age iso={j.createdAt} />
                </td>
                <td>
                  <button
                    type="button"
                    onClick={() => setWatching(j.id)}
                    aria-label={`Show log of job ${j.id.slice(0, 8)}`}
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

/** One job: its status and its redacted log, polled until the job ends. */
function JobView({ org, id, onChange }: { org: string; id: string; onChange: () => void }) {
  const [logs, setLogs] = useState<JobLogs['lines']>([]);
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState<ApiError | undefined>();
  const after = useRef(0);
  const pre = useRef<HTMLPreElement>(null);

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const out = await api<JobLogs>(
          'GET',
          `/orgs/${seg(org)}/jobs/${seg(id)}/logs${qs({ after: after.current })}`,
        );
        if (!live) return;
        if (out.lines.length) {
          after.current = out.lines[out.lines.length - 1]!.seq;
          setLogs((l) => [...l, ...out.lines]);
        }
        setJob(out.job);
        if (out.finished) {
          onChange();
          return;
        }
      } catch (e) {
        if (live) setError(toApiError(e));
        return;
      }
      timer = setTimeout(() => void poll(), 400);
    };
    void poll();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [org, id, onChange]);

  useEffect(() => {
    pre.current?.scrollTo({ top: pre.current.scrollHeight });
  }, [logs]);

  const running = job && !DONE.has(job.status);
  return (
    <section className="job-view" aria-label={`Job ${id.slice(0, 8)}`}>
      <h3>
        Job <code>{id.slice(0, 8)}</code>{' '}
        <span className={`status ${job?.status ?? ''}`} role="status" data-testid="job-status">
          {job?.status ?? 'loading'}
          {job?.exitCode !== null && job?.exitCode !== undefined ? ` (exit ${job.exitCode})` : ''}
        </span>
      </h3>
      {job?.error && <p className="notice error">{job.error}</p>}
      <ErrorNotice error={error} />
      <pre
        ref={pre}
        className="log"
        tabIndex={0}
        aria-label="Job log (secret values redacted)"
        aria-live="polite"
        data-testid="job-log"
      >
        {logs.map((l) => (
          <span key={l.seq} className={l.stream}>
            {l.text}
          </span>
        ))}
      </pre>
      {running && (
        <ConfirmButton
          label="Cancel job"
          danger
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
