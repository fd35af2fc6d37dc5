import fs from 'node:fs';
import path from 'node:path';

import type { Command } from 'commander';

import { CliError } from './api-client.js';

/** The file `hush setup` writes: a directory's default organization, project, environment, service. */
export const CONTEXT_FILE = '.hush.json';

export const CONTEXT_KEYS = ['org', 'project', 'env', 'service'] as const;
export type ContextKey = (typeof CONTEXT_KEYS)[number];
export type ContextValues = Partial<Record<ContextKey, string>>;

/** The variables that give the same defaults, above the file and below the flags. */
export const CONTEXT_ENV: Record<ContextKey, string> = {
  org: 'HUSH_ORG',
  project: 'HUSH_PROJECT',
  env: 'HUSH_ENV',
  service: 'HUSH_SERVICE',
};

/** The context file that applies in `dir`: there or in the nearest parent holding one. */
export function findContextFile(dir = process.cwd()): string | undefined {
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    const file = path.join(at, CONTEXT_FILE);
    if (fs.existsSync(file)) return file;
    if (path.dirname(at) === at) return undefined;
  }
}

// eslint-disable-next-line no-control-regex
const SLUG_LIKE = /^[^\s\u0000-\u001f\u007f]{1,200}$/u;

/** Reads and checks a context file: only the four keys, each a short string; env or service. */
export function readContextFile(file: string): ContextValues {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CliError(`${file}: not readable JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new CliError(`${file}: must hold a JSON object such as {"project": "maps"}`);
  const values: ContextValues = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!(CONTEXT_KEYS as readonly string[]).includes(key))
      throw new CliError(
        `${file}: unknown key "${key}" (it may hold ${CONTEXT_KEYS.join(', ')}; never a credential)`,
      );
    if (typeof value !== 'string' || !SLUG_LIKE.test(value))
      throw new CliError(`${file}: ${key} must be a name without spaces`);
    values[key as ContextKey] = value;
  }
  if (values.env && values.service)
    throw new CliError(
      `${file}: give env or service, not both (a service resolves through its own environment)`,
    );
  if ((values.env || values.service) && !values.project)
    throw new CliError(`${file}: env and service need a project`);
  return values;
}

/** Writes a context file (mode 0644: it names things, it holds no credential). */
export function writeContextFile(file: string, values: ContextValues): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const ordered = Object.fromEntries(
    CONTEXT_KEYS.filter((k) => values[k]).map((k) => [k, values[k]]),
  );
  fs.writeFileSync(tmp, JSON.stringify(ordered, null, 2) + '\n', { mode: 0o644 });
  fs.renameSync(tmp, file);
}

/** The defaults below the flags, by layer: `env` (HUSH_*) over `config` (the context file). */
export interface ContextLayers {
  env: ContextValues;
  config: ContextValues;
  file: string | undefined;
}

export function contextLayers(): ContextLayers {
  const env: ContextValues = {};
  for (const key of CONTEXT_KEYS) {
    const value = process.env[CONTEXT_ENV[key]];
    if (value) env[key] = value;
  }
  const file = findContextFile();
  return { env, config: file ? readContextFile(file) : {}, file };
}

// The options a default fills in, by their attribute name, and the context key each takes.
const FILLED: Record<string, ContextKey> = {
  org: 'org',
  project: 'project',
  env: 'env',
  service: 'service',
  atService: 'service',
};

// Options that share a flag's name but not its meaning, or that must always be typed: the
// first organization's slug, a token's scope, the environment a new service belongs to, a pg
// service's own name.
const NOT_FILLED = new Set([
  'admin bootstrap --org',
  'token create --project',
  'token create --env',
  'service create --env',
  'secret add pgservice --service',
]);

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Gives every context option of `cmd` (a leaf command, before parsing) its default: from the
 * HUSH_* variables (source `env`), else from the context file (source `config`); a flag on the
 * command line then wins (source `cli`), as commander orders sources.
 */
export function fillContextOptions(cmd: Command, layers: ContextLayers): void {
  const where = commandPath(cmd);
  for (const option of cmd.options) {
    const attr = option.attributeName();
    const key = FILLED[attr];
    if (!key || NOT_FILLED.has(`${where} ${option.long}`)) continue;
    const fromEnv = layers.env[key];
    const fromFile = layers.config[key];
    if (fromEnv !== undefined) cmd.setOptionValueWithSource(attr, fromEnv, 'env');
    else if (fromFile !== undefined) cmd.setOptionValueWithSource(attr, fromFile, 'config');
  }
}

const RANK: Record<string, number> = { cli: 3, env: 2, config: 1 };
const GENERAL: Record<string, ContextKey[]> = {
  project: ['org'],
  env: ['org', 'project'],
  service: ['org', 'project'],
  atService: ['org', 'project'],
};
const SIBLING: Record<string, string[]> = {
  env: ['service', 'atService'],
  service: ['env'],
  atService: ['env'],
};

/**
 * After parsing: drops a default that belongs to a context the command line (or a higher layer)
 * left. A flag starts the context anew below it: `--project other` (or `--project maps` typed
 * out: the project level) drops the defaults' environment and service, `--org` their project,
 * `--env` a service the defaults gave and the other way round. HUSH_PROJECT drops the file's
 * environment when the file names another project.
 */
export function dropStaleDefaults(cmd: Command, layers: ContextLayers): void {
  const rank = (attr: string) => RANK[cmd.getOptionValueSource(attr) ?? ''] ?? 0;
  const has = (attr: string) => cmd.getOptionValue(attr) !== undefined;
  for (const attr of ['project', 'env', 'service', 'atService']) {
    if (!has(attr) || !cmd.options.some((o) => o.attributeName() === attr)) continue;
    const own = rank(attr);
    if (own === 0 || own === RANK.cli) continue;
    const layer = own === RANK.env ? layers.env : layers.config;
    const moved = GENERAL[attr]!.some(
      (g) =>
        has(g) &&
        (rank(g) === RANK.cli ||
          (rank(g) > own && layer[g] !== undefined && layer[g] !== cmd.getOptionValue(g))),
    );
    const sibling = (SIBLING[attr] ?? []).some((s) => has(s) && rank(s) > own);
    if (moved || sibling) cmd.setOptionValueWithSource(attr, undefined, 'default');
  }
}
