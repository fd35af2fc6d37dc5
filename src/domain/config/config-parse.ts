import { createHash } from 'node:crypto';

import { isNode, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';

import { HushError } from '../../errors.js';
import { type ConfigFile, configSchema } from './config-schema.js';

/**
 * The largest hush.yaml accepted: a file of 50 projects × 4 environments × 5 services is ~155 KB,
 * and the request that carries it must stay under the server's body limit (2 MiB by default).
 */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** One problem of a file: where it is (line, dotted path) and what is wrong. */
export interface ConfigProblem {
  field: string;
  line: number | null;
  message: string;
}

/** A parsed, validated hush.yaml with what points back into its text. */
export interface ParsedConfig {
  file: string;
  /** `sha256:` and the hex digest of the file's bytes as sent. */
  digest: string;
  config: ConfigFile;
  /** The 1-based line of a path of the document (its nearest existing parent's), or null. */
  lineOf(path: readonly (string | number)[]): number | null;
}

/**
 * The VALIDATION_FAILED error of a file's problems: `details.fields` names each as
 * `hush.yaml:14 projects.maps.environments.prod` (file, line, path) with its message; the
 * message is the one problem, or how many there are.
 */
export function configError(file: string, problems: readonly ConfigProblem[]): HushError {
  const where = (p: ConfigProblem) =>
    `${p.line === null ? file : `${file}:${p.line}`}${p.field ? ` ${p.field}` : ''}`;
  const fields = problems.map((p) => ({
    field: where(p),
    path: p.field,
    line: p.line,
    message: p.message,
  }));
  const text =
    fields.length === 1
      ? `${fields[0]!.field}: ${fields[0]!.message}`
      : `${file}: ${fields.length} problems`;
  return new HushError('VALIDATION_FAILED', text, { file, fields });
}

/** A file name as errors show it: its last path segment, printable, at most 200 characters. */
function shownName(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?').slice(0, 200);
  return clean || 'hush.yaml';
}

/** The issues of a zod error as problems; a bad record key says what is wrong with the key. */
function zodProblems(error: z.ZodError, lineOf: ParsedConfig['lineOf']): ConfigProblem[] {
  return error.issues.map((issue) => {
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    let message = issue.message;
    if (issue.code === 'invalid_key') {
      message = `the key ${issue.issues.map((i) => i.message).join('; ')}`;
    } else if (issue.code === 'unrecognized_keys') {
      message = `unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    }
    return { field: path.join('.'), line: lineOf(path), message };
  });
}

/**
 * Parses and validates a hush.yaml. Throws VALIDATION_FAILED naming the file, line and path of
 * every problem: YAML syntax, an unknown field, a bad value. The text is never echoed beyond
 * the names the file itself uses as keys.
 */
export function parseConfig(file: string, source: string): ParsedConfig {
  const name = shownName(file);
  if (Buffer.byteLength(source) > MAX_CONFIG_BYTES) {
    throw configError(name, [
      { field: '', line: null, message: `is larger than ${MAX_CONFIG_BYTES} bytes` },
    ]);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const lineAt = (offset: number) => lineCounter.linePos(offset).line;
  if (doc.errors.length > 0) {
    throw configError(
      name,
      doc.errors.map((e) => ({
        field: '',
        line: lineAt(e.pos[0]),
        message: e.message.split('\n')[0] ?? e.code,
      })),
    );
  }
  const lineOf = (path: readonly (string | number)[]): number | null => {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) return lineAt(node.range[0]);
    }
    return null;
  };
  const parsed = configSchema.safeParse(doc.toJS({ maxAliasCount: 100 }) ?? {});
  if (!parsed.success) throw configError(name, zodProblems(parsed.error, lineOf));
  return {
    file: name,
    digest: `sha256:${createHash('sha256').update(source).digest('hex')}`,
    config: parsed.data,
    lineOf,
  };
}
