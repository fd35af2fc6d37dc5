import fs from 'node:fs';
import path from 'node:path';

import { formatPgServiceConf } from '../domain/secrets/pgservice.js';

/** A resolved secret as a job (or `hush run`) receives it. */
export interface MaterialSecret {
  name: string;
  kind: 'env' | 'file' | 'pgservice';
  fileName?: string | null;
  /** env kind */
  value?: string;
  /** file kind */
  contentBase64?: string;
  /** pgservice kind */
  settings?: Record<string, string>;
}

/** The PATH a job gets: the system's, never the server's own. */
export const JOB_PATH = '/usr/local/bin:/usr/bin:/bin';

/**
 * Writes a job's private directory (mode 0700): every file secret (0600) and one merged
 * pg_service.conf (0600); returns the variables the process gets and the strings to redact.
 */
export function materialize(
  dir: string,
  secrets: readonly MaterialSecret[],
  base: Record<string, string>,
): { env: Record<string, string>; redact: string[] } {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  const env: Record<string, string> = { ...base };
  const redact: string[] = [];
  const services: { name: string; settings: Record<string, string> }[] = [];
  for (const s of secrets) {
    if (s.kind === 'env') {
      env[s.name] = s.value ?? '';
      redact.push(s.value ?? '');
    } else if (s.kind === 'file') {
      const filesDir = path.join(dir, 'files');
      const file = path.resolve(filesDir, s.fileName ?? s.name);
      if (!file.startsWith(filesDir + path.sep))
        throw new Error(`file secret ${s.name} has an unsafe file name`);
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      const content = Buffer.from(s.contentBase64 ?? '', 'base64');
      fs.writeFileSync(file, content, { mode: 0o600 });
      env[s.name] = file;
      redact.push(content.toString('utf8'));
    } else {
      services.push({ name: s.name, settings: s.settings ?? {} });
      if (s.settings?.password) redact.push(s.settings.password);
    }
  }
  if (services.length > 0) {
    const file = path.join(dir, 'pg_service.conf');
    fs.writeFileSync(file, formatPgServiceConf(services), { mode: 0o600 });
    env.PGSERVICEFILE = file;
  }
  return { env, redact };
}
