import path from 'node:path';

/** Where a job's process starts, as the job sees it. */
export type WorkingDir =
  | { kind: 'home' }
  /** A directory inside the job's private directory (created before the process starts). */
  | { kind: 'inside'; relative: string }
  /** A directory under one of the operator's read-only mounts (`HUSH_JOB_MOUNTS`). */
  | { kind: 'mount'; absolute: string };

/**
 * Decides where a job may start: its private directory, a relative path inside it, or an
 * absolute path under a read-only mount the operator listed. Returns the reason as text when the
 * directory is neither (`/`, `../../..`, the data directory…), for a field error or a job's error.
 */
export function checkWorkingDir(
  workingDir: string | null | undefined,
  mounts: readonly string[],
): WorkingDir | { error: string } {
  if (!workingDir || workingDir === '.') return { kind: 'home' };
  if (workingDir.includes('\0')) return { error: 'must not contain NUL' };
  if (path.isAbsolute(workingDir)) {
    const absolute = path.normalize(workingDir).replace(/(.)\/+$/, '$1');
    if (mounts.some((m) => absolute === m || absolute.startsWith(m + '/')))
      return { kind: 'mount', absolute };
    return {
      error:
        mounts.length > 0
          ? `${workingDir} is outside the job's directory and the read-only mounts (${mounts.join(', ')})`
          : `${workingDir} is outside the job's directory; use a relative path, or list a read-only mount in HUSH_JOB_MOUNTS`,
    };
  }
  const relative = path.normalize(workingDir).replace(/\/+$/, '');
  if (relative === '.' || relative === '') return { kind: 'home' };
  if (relative === '..' || relative.startsWith('../'))
    return { error: `${workingDir} leaves the job's directory` };
  return { kind: 'inside', relative };
}
