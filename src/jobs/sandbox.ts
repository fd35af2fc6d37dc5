import { type ChildProcess, spawn, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import type { WorkingDir } from '../domain/jobs/working-dir.js';
import { JOB_PATH, type MaterialFile, writeMaterial } from './materialize.js';

/** Where a sandboxed job sees its private directory: its HOME and default working directory. */
export const SANDBOX_HOME = '/job';

const PROBE_TIMEOUT_MS = 10_000;

/** How jobs are isolated; from the configuration (`HUSH_JOB_*`). */
export interface SandboxSettings {
  mode: 'bwrap' | 'none';
  uid: number;
  gid: number;
  network: 'shared' | 'none';
  /** Host directories mounted read-only at the same path. */
  mounts: readonly string[];
}

/** What a node can tell about its sandbox: shown on the console's Jobs tab. */
export interface SandboxStatus {
  mode: 'bwrap' | 'none';
  network: 'shared' | 'none';
  /** False when jobs cannot run here; `reason` says what to install or set. */
  available: boolean;
  reason: string | null;
}

/** One job's process as the sandbox starts it. */
export interface JobProcessSpec {
  /** The job's private directory on the host; used only without a sandbox. */
  hostDir: string;
  argv: string[];
  workingDir: WorkingDir;
  env: Record<string, string>;
  files: readonly MaterialFile[];
}

// What of /etc a job sees: name lookups, TLS roots, the dynamic linker's cache, time zones,
// alternatives' symlinks and the like. Never shadow, sudoers, ssh keys or the server's own
// configuration; passwd and group are written for the job's uid.
const ETC_ENTRIES = [
  'alternatives',
  'ca-certificates',
  'ca-certificates.conf',
  'debian_version',
  'fonts',
  'gai.conf',
  'host.conf',
  'hostname',
  'hosts',
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'locale.alias',
  'localtime',
  'mime.types',
  'nsswitch.conf',
  'os-release',
  'pki',
  'postgresql-common',
  'protocols',
  'python3',
  'resolv.conf',
  'services',
  'ssl',
  'terminfo',
  'timezone',
];

// The merged-/usr layout of current distributions: these are symlinks into /usr, or directories
// of their own on older systems.
const ROOT_ENTRIES = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'];

/** The paths bwrap may live at; the server's PATH is not trusted to find it. */
const BWRAP_PATHS = ['/usr/bin/bwrap', '/bin/bwrap', '/usr/local/bin/bwrap'];

function findBwrap(): string | null {
  return BWRAP_PATHS.find((p) => fs.existsSync(p)) ?? null;
}

const INSTALL_HINT =
  'install bubblewrap (Debian: apt-get install bubblewrap), or set HUSH_JOB_SANDBOX=none on a development machine';

function passwdFiles(uid: number, gid: number): { passwd: string; group: string } {
  return {
    passwd: `root:x:0:0:root:/root:/usr/sbin/nologin\nhush-job:x:${uid}:${gid}:Hush job:${SANDBOX_HOME}:/bin/sh\n`,
    group: `root:x:0:\nhush-job:x:${gid}:\n`,
  };
}

interface BwrapPlan {
  /** bwrap's options, read from descriptor 3 (the command itself follows `--` on its argv). */
  args: string[];
  /** Contents of the file descriptors 4, 5, …, in order (3 carries the arguments). */
  data: (string | Buffer)[];
}

/** The bwrap command line of one job: namespaces, the filesystem it sees, its files. */
function bwrapPlan(settings: SandboxSettings, spec: Omit<JobProcessSpec, 'hostDir'>): BwrapPlan {
  const data: (string | Buffer)[] = [];
  const fd = (content: string | Buffer) => String(4 + data.push(content) - 1);
  const args = ['--unshare-all', '--unshare-user', '--disable-userns'];
  if (settings.network === 'shared') args.push('--share-net');
  args.push('--die-with-parent', '--uid', String(settings.uid), '--gid', String(settings.gid));
  args.push('--hostname', 'hush-job', '--ro-bind', '/usr', '/usr');
  for (const entry of ROOT_ENTRIES) {
    const host = `/${entry}`;
    const link = fs.lstatSync(host, { throwIfNoEntry: false });
    if (!link) continue;
    if (link.isSymbolicLink()) args.push('--symlink', fs.readlinkSync(host), host);
    else args.push('--ro-bind', host, host);
  }
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--dir', '/etc');
  for (const entry of ETC_ENTRIES) args.push('--ro-bind-try', `/etc/${entry}`, `/etc/${entry}`);
  const { passwd, group } = passwdFiles(settings.uid, settings.gid);
  args.push('--perms', '0444', '--ro-bind-data', fd(passwd), '/etc/passwd');
  args.push('--perms', '0444', '--ro-bind-data', fd(group), '/etc/group');
  for (const mount of settings.mounts) args.push('--ro-bind', mount, mount);
  // The job's private directory lives in the sandbox's memory: no plaintext on the host's disk,
  // and nothing left behind when the sandbox dies, however it dies.
  args.push('--perms', '0700', '--tmpfs', SANDBOX_HOME);
  const dirs = new Set<string>();
  const addDirs = (relative: string) => {
    const parts = relative.split('/');
    for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  };
  for (const file of spec.files) {
    const parent = path.posix.dirname(file.path);
    if (parent !== '.') addDirs(parent);
  }
  if (spec.workingDir.kind === 'inside') addDirs(spec.workingDir.relative);
  for (const dir of [...dirs].sort((a, b) => a.split('/').length - b.split('/').length))
    args.push('--perms', '0700', '--dir', path.posix.join(SANDBOX_HOME, dir));
  for (const file of spec.files)
    args.push(
      '--perms',
      '0600',
      '--file',
      fd(file.content),
      path.posix.join(SANDBOX_HOME, file.path),
    );
  args.push('--remount-ro', '/', '--chdir', sandboxCwd(spec.workingDir, SANDBOX_HOME));
  return { args, data };
}

function sandboxCwd(workingDir: WorkingDir, home: string): string {
  if (workingDir.kind === 'home') return home;
  if (workingDir.kind === 'inside') return path.posix.join(home, workingDir.relative);
  return workingDir.absolute;
}

function startBwrap(
  bwrap: string,
  settings: SandboxSettings,
  spec: Omit<JobProcessSpec, 'hostDir'>,
): ChildProcess {
  const plan = bwrapPlan(settings, spec);
  const stdio: StdioOptions = [
    'ignore',
    'pipe',
    'pipe',
    'pipe',
    ...plan.data.map(() => 'pipe' as const),
  ];
  // A server running as root starts bwrap as the job's user, so that even outside its namespaces
  // the job is not the server's user; otherwise the job is the server's uid outside and
  // `settings.uid` inside, with no capability and nothing of the server's mounted.
  const asJobUser = process.getuid?.() === 0 ? { uid: settings.uid, gid: settings.gid } : {};
  const child = spawn(bwrap, ['--args', '3', '--', ...spec.argv], {
    // bwrap gets the job's own environment, never the server's: its pid 1 in the sandbox keeps it.
    env: spec.env,
    cwd: '/',
    detached: true,
    stdio,
    ...asJobUser,
  });
  const feed = (index: number, content: string | Buffer) => {
    const stream = child.stdio[index] as NodeJS.WritableStream | null;
    if (!stream) return;
    // bwrap reads every descriptor before it starts the job; one that failed early closes them.
    stream.on('error', () => undefined);
    stream.end(content);
  };
  feed(3, plan.args.map((a) => `${a}\0`).join(''));
  plan.data.forEach((content, i) => feed(4 + i, content));
  return child;
}

function startUnsandboxed(spec: JobProcessSpec): ChildProcess {
  writeMaterial(spec.hostDir, spec.files);
  const cwd = sandboxCwd(spec.workingDir, spec.hostDir);
  if (spec.workingDir.kind === 'inside') fs.mkdirSync(cwd, { recursive: true, mode: 0o700 });
  const [file, ...args] = spec.argv;
  return spawn(file ?? '/bin/false', args, {
    cwd,
    env: spec.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Is `name` a command the job's PATH finds? (A sandboxed job sees the host's /usr.) */
export function commandExists(name: string): boolean {
  if (name.includes('/')) return true;
  return JOB_PATH.split(':').some((dir) => {
    try {
      fs.accessSync(path.join(dir, name), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * The one spawn path of jobs. With `bwrap`, every job runs in new user, mount, PID, IPC and UTS
 * namespaces (network too when configured) as an unprivileged uid, sees read-only system
 * directories, a minimal /etc, its private directory in memory at {@link SANDBOX_HOME} and a
 * private /tmp, and dies with the worker. With `none` it runs as the server's user (development
 * only). `probe()` tells whether jobs can run here at all.
 */
export function createSandbox(settings: SandboxSettings) {
  let probed: Promise<SandboxStatus> | null = null;
  let last: SandboxStatus | null = null;
  const bwrap = settings.mode === 'bwrap' ? findBwrap() : null;

  async function runProbe(): Promise<SandboxStatus> {
    const base = { mode: settings.mode, network: settings.network };
    if (settings.mode === 'none') return { ...base, available: true, reason: null };
    if (!bwrap)
      return {
        ...base,
        available: false,
        reason: `jobs cannot run: bubblewrap (bwrap) is not installed; ${INSTALL_HINT}`,
      };
    const child = startBwrap(bwrap, settings, {
      argv: ['/usr/bin/true'],
      workingDir: { kind: 'home' },
      env: { PATH: JOB_PATH },
      files: [],
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout?.resume();
    const timer = setTimeout(() => child.kill('SIGKILL'), PROBE_TIMEOUT_MS);
    const code = await new Promise<number | null>((resolve) => {
      child.once('error', () => resolve(null));
      child.once('close', (c) => resolve(c));
    });
    clearTimeout(timer);
    if (code === 0) return { ...base, available: true, reason: null };
    const line = stderr.trim().split('\n')[0] ?? '';
    return {
      ...base,
      available: false,
      reason: `jobs cannot run: bubblewrap cannot create the job sandbox (${line || `exit code ${code}`}); user namespaces may be disabled on this host (sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone); or set HUSH_JOB_SANDBOX=none on a development machine`,
    };
  }

  return {
    settings,
    /** The path a job sees as its private directory. */
    home(hostDir: string): string {
      return settings.mode === 'bwrap' ? SANDBOX_HOME : hostDir;
    },
    /** Checks once that a sandbox can be made here (bwrap installed, namespaces allowed). */
    probe(): Promise<SandboxStatus> {
      probed ??= runProbe().then((status) => (last = status));
      return probed;
    },
    /** True once a worker pool of this process asked for the probe (it runs jobs here). */
    probed(): boolean {
      return probed !== null;
    },
    /** The last probe's answer, or null before the first probe ended. */
    status(): SandboxStatus | null {
      return last;
    },
    /** Starts a job's process tree (its own process group) with stdout and stderr piped. */
    spawn(spec: JobProcessSpec): ChildProcess {
      if (settings.mode === 'none') return startUnsandboxed(spec);
      if (!bwrap || !last?.available)
        throw new Error(last?.reason ?? 'the job sandbox was not probed');
      return startBwrap(bwrap, settings, spec);
    },
  };
}

export type Sandbox = ReturnType<typeof createSandbox>;
