// What `npm run soak` checks at the end, and what its load driver (soak-load.ts) and orchestrator
// (soak.ts) share: the driver's output records and a few pure helpers.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** What the orchestrator hands the driver (a JSON file named on the command line). */
export interface LoadConfig {
  url: string;
  minutes: number;
  outDir: string;
  owner: { email: string; password: string };
  orgs: { slug: string; token: string; project: string; env: string; service: string }[];
}

export type RequestKind =
  | 'runtime-read'
  | 'secret-add'
  | 'secret-rotate'
  | 'job-trigger'
  | 'audit-list'
  | 'audit-verify'
  | 'login';

/** One line of writes.jsonl: an acknowledged write, or one whose answer was lost. */
export interface WriteRecord {
  outcome: 'acked' | 'unknown';
  op: 'add' | 'rotate';
  org: string;
  name: string;
  /** Null for an add whose answer was lost. */
  id: string | null;
  /** The version it was answered with (acked) or would have made (unknown). */
  version: number;
  digest: string;
  at: number;
}

/** One line of failures.jsonl. */
export interface FailureRecord {
  kind: RequestKind;
  cause: string;
  at: number;
  /** The node whose kill this failure followed (or preceded by under a second), if any. */
  nearKill: string | null;
}

/** A node kill as the orchestrator reports it. */
export interface KillEvent {
  node: string;
  at: number;
  readyAt: number | null;
}

/** summary.json. */
export interface LoadSummary {
  startedAt: number;
  endedAt: number;
  requests: Record<string, { ok: number; failed: number }>;
  latencyMs: Record<string, { count: number; p50: number; p99: number; max: number }>;
  failuresByCause: Record<string, { nearKill: number; other: number }>;
  staleReads: { at: number; org: string; name: string; detail: string }[];
  kills: KillEvent[];
}

/** How long after a kill (or after the killed node is back, if later) failures are expected. */
export const KILL_WINDOW_MS = 5000;

/** The p-quantile of sorted numbers (nearest rank). */
export function quantile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0;
}

/** A value's digest as writes.jsonl records it (the value itself is not written down). */
export function digestOf(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 24);
}

/** The kill a failure at `at` belongs to, if it falls in its window. */
export function killNear(kills: KillEvent[], at: number): KillEvent | undefined {
  return kills.find(
    (k) => at >= k.at - 1000 && at <= Math.max(k.at, k.readyAt ?? k.at) + KILL_WINDOW_MS,
  );
}

/** The records of a JSON Lines file (none when it does not exist). */
export function readJsonl<T>(file: string): T[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);
}

/** One check's verdict: a line for the report, and whether it held. */
export interface Verdict {
  name: string;
  ok: boolean;
  detail: string;
}

/** A REST call to one node (or HAProxy) that throws on anything but 2xx. */
export type Api = (
  url: string,
  method: string,
  pathname: string,
  auth: string,
  body?: unknown,
) => Promise<unknown>;

interface SecretListItem {
  id: string;
  name: string;
  version: number;
}

/**
 * Every acknowledged write is there: per secret, the current version and value are the last
 * acknowledged ones (or those of a later write whose answer was lost), and the history holds
 * every acknowledged version.
 */
export async function checkWrites(
  api: Api,
  url: string,
  session: string,
  orgs: LoadConfig['orgs'],
  outDir: string,
): Promise<Verdict> {
  const records = readJsonl<WriteRecord>(path.join(outDir, 'writes.jsonl'));
  const problems: string[] = [];
  let acked = 0;
  let unknownCommitted = 0;
  let unknownLost = 0;
  for (const org of orgs) {
    const mine = records.filter((r) => r.org === org.slug);
    const level = `project=${org.project}&env=${org.env}`;
    const list = (await api(url, 'GET', `/api/v1/orgs/${org.slug}/secrets?${level}`, session)) as
      SecretListItem[] | { secrets: SecretListItem[] };
    const current = new Map(
      (Array.isArray(list) ? list : list.secrets).map((s) => [s.name, s] as const),
    );
    const values = (await api(
      url,
      'GET',
      `/api/v1/orgs/${org.slug}/runtime/secrets?${level}`,
      org.token,
    )) as { name: string; value?: string }[];
    const valueOf = new Map(values.map((v) => [v.name, v.value ?? '']));
    const names = [...new Set(mine.map((r) => r.name))];
    for (const name of names) {
      const writes = mine.filter((r) => r.name === name);
      const ackedWrites = writes.filter((r) => r.outcome === 'acked');
      acked += ackedWrites.length;
      const last = ackedWrites.at(-1);
      const unknown = writes.find((r) => r.outcome === 'unknown');
      const now = current.get(name);
      const digest = valueOf.has(name) ? digestOf(valueOf.get(name) ?? '') : null;
      if (!now) {
        if (last) problems.push(`${org.slug}/${name}: acknowledged v${last.version} is missing`);
        else unknownLost++;
        continue;
      }
      const asLast = last && now.version === last.version && digest === last.digest;
      const asUnknown =
        unknown &&
        now.version === unknown.version &&
        digest === unknown.digest &&
        (!last || unknown.at > last.at);
      if (asUnknown) unknownCommitted++;
      else if (unknown) unknownLost++;
      if (!asLast && !asUnknown) {
        problems.push(
          `${org.slug}/${name}: is v${now.version} (${digest ?? 'no value'}), acknowledged v${last?.version ?? '-'} (${last?.digest ?? '-'})`,
        );
        continue;
      }
      const history = (await api(
        url,
        'GET',
        `/api/v1/orgs/${org.slug}/secrets/${now.id}/history`,
        session,
      )) as { version: number }[] | { versions: { version: number }[] };
      const versions = new Set(
        (Array.isArray(history) ? history : history.versions).map((v) => v.version),
      );
      const lost = ackedWrites.filter((w) => !versions.has(w.version));
      if (lost.length > 0)
        problems.push(
          `${org.slug}/${name}: history lacks v${lost.map((w) => w.version).join(', v')}`,
        );
    }
  }
  return {
    name: 'acknowledged writes present',
    ok: problems.length === 0 && acked > 0,
    detail:
      problems.length > 0
        ? problems.slice(0, 10).join('; ')
        : `${acked} acknowledged writes read back (version, value digest, history); of the writes whose answer was lost ${unknownCommitted} were committed, ${unknownLost} not`,
  };
}

/** The error the reaper gives a job whose worker stopped (src/store/job-store.ts). */
const REAPED = 'the worker running this job stopped (no heartbeat)';

type Query = <Row>(statement: string, values?: unknown[]) => Promise<Row[]>;

/**
 * Every job ended exactly once: none queued or running, one terminal audit event each, no id
 * twice in the collector's file, every succeeded job in it once, every acknowledged trigger a
 * job.
 */
export async function checkJobs(
  query: Query,
  collectorFile: string,
  outDir: string,
): Promise<{ verdicts: Verdict[]; statuses: Record<string, number> }> {
  const jobs = await query<{ id: string; status: string; attempts: number; error: string | null }>(
    'select id, status, attempts, error from jobs',
  );
  const statuses: Record<string, number> = {};
  for (const j of jobs) statuses[j.status] = (statuses[j.status] ?? 0) + 1;
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const seen = new Map<string, number>();
  for (const id of fs.readFileSync(collectorFile, 'utf8').split('\n').filter(Boolean))
    seen.set(id, (seen.get(id) ?? 0) + 1);
  const twice = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
  const unknown = [...seen.keys()].filter((id) => !byId.has(id));
  const unfinished = jobs.filter((j) => j.status === 'queued' || j.status === 'running');
  const succeeded = jobs.filter((j) => j.status === 'succeeded');
  const notReported = succeeded.filter((j) => seen.get(j.id) !== 1);
  const ends = await query<{ id: string; n: string }>(
    `select target_id as id, count(*) as n from audit_events
     where target_type = 'job' and event_type = 'UPDATE'
       and (change like 'job succeeded%' or change like 'job failed%' or change like 'job cancelled%'
            or change like 'job timed_out%')
     group by target_id`,
  );
  const endCount = new Map(ends.map((e) => [e.id, Number(e.n)]));
  const endedTwice = [...endCount].filter(([, n]) => n > 1).map(([id]) => id);
  const noEnd = jobs.filter((j) => !unfinished.includes(j) && !endCount.has(j.id));
  const triggered = readJsonl<{ id: string }>(path.join(outDir, 'jobs.jsonl'));
  const missing = triggered.filter((t) => !byId.has(t.id));
  const reclaimed = jobs.filter((j) => j.attempts > 1).length;
  // A soak job fails only when its worker is killed under it: the reaper ends it then.
  const reaped = jobs.filter((j) => j.status === 'failed' && j.error === REAPED);
  const otherwise = jobs.filter(
    (j) => !['succeeded', 'queued', 'running'].includes(j.status) && j.error !== REAPED,
  );
  const ids = (list: string[]) => list.slice(0, 5).join(', ');
  return {
    statuses,
    verdicts: [
      {
        name: 'jobs settled',
        ok: unfinished.length === 0 && jobs.length > 0,
        detail:
          unfinished.length > 0
            ? `${unfinished.length} still queued or running: ${ids(unfinished.map((j) => j.id))}`
            : `${jobs.length} jobs, ${Object.entries(statuses)
                .map(([s, n]) => `${n} ${s}`)
                .join(', ')}`,
      },
      {
        name: 'acknowledged triggers are jobs',
        ok: missing.length === 0 && triggered.length > 0,
        detail:
          missing.length > 0
            ? `${missing.length} acknowledged jobs missing: ${ids(missing.map((t) => t.id))}`
            : `${triggered.length} acknowledged triggers, all in the jobs table`,
      },
      {
        name: 'no job ran twice',
        ok: twice.length === 0 && unknown.length === 0,
        detail:
          twice.length > 0
            ? `ids reported more than once: ${ids(twice)}`
            : unknown.length > 0
              ? `ids that are no job: ${ids(unknown)}`
              : `${seen.size} ids in the collector's file, each once (jobs claimed more than once: ${reclaimed})`,
      },
      {
        name: 'every succeeded job ran once',
        ok: notReported.length === 0,
        detail:
          notReported.length > 0
            ? `${notReported.length} succeeded jobs not in the collector's file exactly once: ${ids(notReported.map((j) => j.id))}`
            : `${succeeded.length} succeeded jobs, each in the collector's file once`,
      },
      {
        name: 'jobs fail only with their worker',
        ok: otherwise.length === 0,
        detail:
          otherwise.length > 0
            ? otherwise
                .slice(0, 5)
                .map((j) => `${j.id} ${j.status}: ${j.error ?? ''}`)
                .join('; ')
            : `${reaped.length} jobs failed by the reaper after their worker was killed, no other failure`,
      },
      {
        name: 'every job ended once',
        ok: endedTwice.length === 0 && noEnd.length === 0,
        detail:
          endedTwice.length > 0
            ? `jobs with more than one end in the audit log: ${ids(endedTwice)}`
            : noEnd.length > 0
              ? `finished jobs without an end in the audit log: ${ids(noEnd.map((j) => j.id))}`
              : `${endCount.size} jobs, one end event each`,
      },
    ],
  };
}

/**
 * Every organization's chain verifies (through one node), its head is what another node's
 * checkpoint signs, and both are the database's head row.
 */
export async function checkAudit(
  api: Api,
  urls: string[],
  session: string,
  query: Query,
): Promise<Verdict[]> {
  const [first = '', second = first] = urls;
  const orgs = (await api(first, 'GET', '/api/v1/orgs', session)) as { id: string; slug: string }[];
  const verdicts: Verdict[] = [];
  for (const org of orgs) {
    const verdict = (await api(first, 'GET', `/api/v1/orgs/${org.slug}/audit/verify`, session)) as {
      ok: boolean;
      checked: number;
      lastSeq?: number;
      lastHash?: string;
      brokenAt?: unknown;
    };
    const cp = (await api(second, 'GET', `/api/v1/orgs/${org.slug}/audit/checkpoint`, session)) as {
      seq: number;
      hash: string;
    };
    const [head] = await query<{ seq: string; hash: string }>(
      'select seq, hash from audit_heads where org_id = $1',
      [org.id],
    );
    const same =
      verdict.ok &&
      head !== undefined &&
      verdict.lastSeq === Number(head.seq) &&
      verdict.lastHash === head.hash &&
      cp.seq === Number(head.seq) &&
      cp.hash === head.hash;
    verdicts.push({
      name: `audit chain of ${org.slug}`,
      ok: same,
      detail: verdict.ok
        ? `${verdict.checked} events verify; head seq ${verdict.lastSeq} ${same ? 'matches' : 'DIFFERS from'} the checkpoint (${cp.seq}) and the head row (${head?.seq ?? 'none'})`
        : `broken: ${JSON.stringify(verdict.brokenAt)}`,
    });
  }
  return verdicts;
}

/**
 * The runtime cache follows another node's change: with every node's cache warm, a value rotated
 * through one node directly is what every other node answers on its very next read.
 */
export async function checkCacheAcrossNodes(
  api: Api,
  urls: string[],
  session: string,
  org: LoadConfig['orgs'][number],
  probeId: string,
  round: string,
): Promise<Verdict> {
  const read = async (url: string) => {
    const values = (await api(
      url,
      'GET',
      `/api/v1/orgs/${org.slug}/runtime/secrets?project=${org.project}&env=${org.env}`,
      org.token,
    )) as { name: string; value?: string }[];
    return values.find((v) => v.name === 'SOAK_PROBE')?.value;
  };
  const problems: string[] = [];
  for (const [i, writer] of urls.entries()) {
    for (const url of urls) await read(url);
    const value = `probe-${round}-${i}-${Date.now()}`;
    await api(writer, 'POST', `/api/v1/orgs/${org.slug}/secrets/${probeId}/rotate`, session, {
      kind: 'env',
      value,
    });
    for (const [j, url] of urls.entries()) {
      const got = await read(url);
      if (got !== value)
        problems.push(`rotated on node ${i + 1}, node ${j + 1} answered an old value`);
    }
  }
  return {
    name: `runtime cache across nodes (${round})`,
    ok: problems.length === 0,
    detail:
      problems.length > 0
        ? problems.join('; ')
        : `rotated through each of ${urls.length} nodes in turn: every node served the new value on its next read`,
  };
}

/** No job directory is left in any node's data directory. */
export function checkJobDirs(dataDirs: string[]): Verdict {
  const left = dataDirs.flatMap((dir) => {
    const jobs = path.join(dir, 'jobs');
    return fs.existsSync(jobs) ? fs.readdirSync(jobs).map((n) => path.join(jobs, n)) : [];
  });
  return {
    name: 'no job directory left',
    ok: left.length === 0,
    detail:
      left.length > 0 ? left.slice(0, 5).join(', ') : `${dataDirs.length} data directories checked`,
  };
}
