import fs from 'node:fs';
import path from 'node:path';

import { formatPgServiceConf, WRITE_ONLY_KEYWORDS } from '../domain/secrets/pgservice.js';

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
  /**
   * `plain`: shown to whoever may read the secret, so never redacted from a job's log; a
   * missing sensitivity is `secret` (redacted).
   */
  sensitivity?: 'secret' | 'plain';
  /** Secret strings a built value was made of (a referenced password): redacted as well. */
  redactAlso?: string[];
}

/** The PATH a job gets: the system's, never the server's own. */
export const JOB_PATH = '/usr/local/bin:/usr/bin:/bin';

/** A file of a job's private directory: its path inside the directory and its content. */
export interface MaterialFile {
  path: string;
  content: Buffer;
}

/** What a job (or `hush run`) gets: its variables, its files, and the strings to redact. */
export interface Material {
  env: Record<string, string>;
  files: MaterialFile[];
  /**
   * The values of a job's `secret` secrets, to redact from its log: plain values are not on
   * it, and the redactor skips values shorter than `MIN_REDACTED_LENGTH` (see redact.ts).
   */
  redact: string[];
}

/**
 * Lays out a job's private directory without writing it: every file secret under `files/` and
 * one merged pg_service.conf, with the variables pointing at them as the job sees its directory
 * (`home`: the host path, or the sandbox's mount point).
 */
export function planMaterial(
  home: string,
  secrets: readonly MaterialSecret[],
  base: Record<string, string>,
): Material {
  const env: Record<string, string> = { ...base };
  const redact: string[] = [];
  const files: MaterialFile[] = [];
  const services: { name: string; settings: Record<string, string> }[] = [];
  // A plain value is readable by everyone who may read the secret: hiding it in a log only
  // shreds the log (`LOG_LEVEL=debug` turned every "debug" into the mark).
  const hide = (s: MaterialSecret, value: string) => {
    if (s.sensitivity !== 'plain') redact.push(value);
    if (s.redactAlso) redact.push(...s.redactAlso);
  };
  for (const s of secrets) {
    if (s.kind === 'env') {
      env[s.name] = s.value ?? '';
      hide(s, s.value ?? '');
    } else if (s.kind === 'file') {
      const relative = path.posix.normalize(path.posix.join('files', s.fileName ?? s.name));
      if (!relative.startsWith('files/') || relative.split('/').includes('..'))
        throw new Error(`file secret ${s.name} has an unsafe file name`);
      const content = Buffer.from(s.contentBase64 ?? '', 'base64');
      files.push({ path: relative, content });
      env[s.name] = path.posix.join(home, relative);
      hide(s, content.toString('utf8'));
    } else {
      services.push({ name: s.name, settings: s.settings ?? {} });
      // Every write-only setting (password, sslpassword) is redacted, as the API never shows it.
      for (const key of WRITE_ONLY_KEYWORDS) {
        const value = s.settings?.[key];
        if (value) redact.push(value);
      }
    }
  }
  if (services.length > 0) {
    files.push({ path: 'pg_service.conf', content: Buffer.from(formatPgServiceConf(services)) });
    env.PGSERVICEFILE = path.posix.join(home, 'pg_service.conf');
  }
  return { env, files, redact };
}

/** Writes planned files into `dir` (created 0700): directories 0700, files 0600. */
export function writeMaterial(dir: string, files: readonly MaterialFile[]): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  for (const file of files) {
    const target = path.join(dir, file.path);
    fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
    fs.writeFileSync(target, file.content, { mode: 0o600 });
  }
}

/**
 * Writes a job's private directory (mode 0700): every file secret (0600) and one merged
 * pg_service.conf (0600); returns the variables the process gets and the strings to redact.
 */
export function materialize(
  dir: string,
  secrets: readonly MaterialSecret[],
  base: Record<string, string>,
): { env: Record<string, string>; redact: string[] } {
  const material = planMaterial(dir, secrets, base);
  writeMaterial(dir, material.files);
  return { env: material.env, redact: material.redact };
}
