import { MAX_ENV_VALUE_BYTES, MAX_FILE_BYTES } from './kinds.js';
import {
  parsePgEnvName,
  PG_FIELDS,
  pgEnvName,
  pgEnvStem,
  type PgField,
  pgFieldValue,
  SECRET_PG_FIELDS,
} from './pg-derived.js';
import type { Level } from './resolve.js';
import type { SecretValue } from './secret-values.js';
import { isTemplateError, parseTemplate, type RefTarget, refTarget } from './templates.js';

// Values built from other values: derived HUSH_PG_* variables, aliases and `${…}` references,
// resolved over the winners of one or more contexts. Pure: the resolve service loads the
// contexts (and decrypts), this file walks the graph. Without values it explains (what each
// name is built from, and what fails); with values it builds them too.

/** How deep a chain of references may go. */
export const MAX_REFERENCE_DEPTH = 10;

/** A winner of a context as far as references care. */
export interface SourceSecret {
  id: string;
  name: string;
  kind: 'env' | 'file' | 'pgservice' | 'alias';
  level: Level;
  version: number;
  sensitivity: 'secret' | 'plain';
  /** The references of its value (names only), or null when the value is literal. */
  refs: readonly string[] | null;
  exportEnv: boolean;
  /** The decrypted value; absent when only explaining. */
  value?: SecretValue | undefined;
}

/** The winners of one context: `self` (the job's own), `org`, or `project.env`. */
export interface ContextView {
  key: string;
  /** How a chain names it: `organization`, `maps/prod`. */
  label: string;
  /** Why the context cannot be read here (missing, or not visible to the reader). */
  unavailable?: string;
  secrets: readonly SourceSecret[];
}

/** What a built value was made of (names, levels and versions; never values). */
export interface BuiltFrom {
  /** How the value named it: `${DB_HOST}`, `alias of DB_URL`, `pgservice main`. */
  via: string;
  name: string;
  kind: SourceSecret['kind'];
  level: Level;
  version: number;
  /** Another context than the one reading: `organization` or `maps/prod`. */
  context?: string;
  /** 1: named by the value itself; 2: by one of those; … */
  depth: number;
}

/** Why a name cannot be built: the chain from the name to the failing link, and what fails. */
export interface ReferenceProblem {
  name: string;
  chain: string[];
  message: string;
}

/** A name of the reading context, built. */
export interface Built {
  name: string;
  /** The secret the name belongs to (for a derived variable: its pgservice). */
  source: SourceSecret;
  /** A derived HUSH_PG_* variable: the field it carries. */
  field?: PgField;
  /** The value (with values only): text for env, aliases and derived; bytes for files. */
  value?: SecretValue;
  /** Whether the value is redacted from job logs. */
  sensitive: boolean;
  /** Secret strings the value holds or was built from: each is redacted too. */
  parts: string[];
  from: BuiltFrom[];
  problem?: ReferenceProblem;
}

type Entry =
  | { type: 'secret'; secret: SourceSecret }
  | { type: 'derived'; secret: SourceSecret; field: PgField };

// A failure's chain runs from the name that failed to build to the link that fails; `cyclic`
// failures depend on the path that led there, so they are not remembered.
type Result =
  | {
      ok: true;
      text?: string;
      sensitive: boolean;
      parts: string[];
      from: BuiltFrom[];
      /** The longest chain of references below (0: none). */
      height: number;
    }
  | { ok: false; chain: string[]; message: string; cyclic?: boolean };

/** Evaluations one build may make (a bound for pathological graphs of failing cycles). */
const MAX_STEPS = 200_000;

/** The most links a value's `builtFrom` lists, nearest first (a wide graph would list millions). */
export const MAX_BUILT_FROM = 100;

/** The largest value a build may make, by kind, as a write would take it. */
const MAX_BUILT_BYTES = { env: MAX_ENV_VALUE_BYTES, file: MAX_FILE_BYTES } as const;

/** The names a context offers references: env, file and alias secrets, and derived variables. */
function indexOf(view: ContextView): Map<string, Entry> {
  const index = new Map<string, Entry>();
  for (const s of view.secrets) {
    if (s.kind !== 'pgservice') index.set(s.name, { type: 'secret', secret: s });
  }
  for (const s of view.secrets) {
    if (s.kind !== 'pgservice') continue;
    for (const field of Object.keys(PG_FIELDS) as PgField[]) {
      index.set(pgEnvName(s.name, field), { type: 'derived', secret: s, field });
    }
  }
  return index;
}

/** The key of the context a reference target lives in, seen from `from`. */
export function contextKeyOf(target: RefTarget, from: string): string {
  switch (target.scope) {
    case 'same':
      return from;
    case 'org':
      return 'org';
    case 'path':
      return `${target.project}.${target.env}`;
  }
}

/**
 * The contexts that references reachable from the loaded views name and that are not loaded
 * yet: what the resolve service loads before building (`project.env` keys, and `org`).
 */
export function missingContexts(views: ReadonlyMap<string, ContextView>): string[] {
  const missing = new Set<string>();
  for (const view of views.values()) {
    for (const s of view.secrets) {
      for (const text of s.refs ?? []) {
        const target = refTarget(text);
        if (typeof target === 'string') continue;
        const key = contextKeyOf(target, view.key);
        if (!views.has(key)) missing.add(key);
      }
    }
  }
  return [...missing];
}

/** Builds the names of the context `root` over the loaded `views`; see {@link Built}. */
export function buildContext(views: ReadonlyMap<string, ContextView>, root = 'self'): Built[] {
  const indexes = new Map<string, Map<string, Entry>>();
  const index = (view: ContextView) => {
    let i = indexes.get(view.key);
    if (!i) indexes.set(view.key, (i = indexOf(view)));
    return i;
  };
  const memo = new Map<string, Result>();
  const onStack = new Set<string>();
  const rootView = views.get(root);
  if (!rootView) throw new Error(`context ${root} is not loaded`);

  const label = (key: string, name: string) =>
    key === root ? name : key === 'org' ? `org.${name}` : `${key}.${name}`;

  let steps = 0;

  /** Builds one entry of `view` named `name` (as chains show it). */
  function evaluate(view: ContextView, entry: Entry, name: string): Result {
    const key = `${view.key}\0${name}`;
    const known = memo.get(key);
    if (known) return known;
    if (onStack.has(key)) {
      return { ok: false, chain: [name], message: 'the references form a cycle', cyclic: true };
    }
    if (++steps > MAX_STEPS) {
      return { ok: false, chain: [name], message: 'too many references to follow', cyclic: true };
    }
    onStack.add(key);
    const built = build(view, entry);
    onStack.delete(key);
    const result: Result = built.ok ? built : { ...built, chain: [name, ...built.chain] };
    if (result.ok || !result.cyclic) memo.set(key, result);
    return result;
  }

  /** Follows one reference of a value in `view` (failures chain from the target). */
  function follow(view: ContextView, text: string, via: string): Result {
    const target = refTarget(text);
    if (typeof target === 'string') return { ok: false, chain: [], message: target };
    const targetKey = contextKeyOf(target, view.key);
    const targetView = views.get(targetKey);
    const name = label(targetKey, target.name);
    if (!targetView) return { ok: false, chain: [name], message: `${text} was not loaded` };
    if (targetView.unavailable)
      return { ok: false, chain: [name], message: targetView.unavailable };
    const entry = index(targetView).get(target.name);
    if (!entry) {
      return {
        ok: false,
        chain: [name],
        message: `${target.name} is not defined in ${targetView.label}${target.name.startsWith('HUSH_PG_') ? ' (no pg service of that name)' : ''}`,
      };
    }
    if (entry.type === 'secret' && entry.secret.kind === 'file') {
      return {
        ok: false,
        chain: [name],
        message: `${target.name} is a file secret: a reference takes text`,
      };
    }
    const r = evaluate(targetView, entry, name);
    if (!r.ok) return r;
    // The depth limit is a property of a value (the longest chain below it), whatever path
    // reached it, so a remembered result holds on every path.
    if (r.height + 1 > MAX_REFERENCE_DEPTH) {
      return {
        ok: false,
        chain: [name],
        message: `references go deeper than ${MAX_REFERENCE_DEPTH}`,
      };
    }
    const s = entry.secret;
    const here: BuiltFrom = {
      via,
      name: entry.type === 'derived' ? target.name : s.name,
      kind: entry.type === 'derived' ? 'env' : s.kind,
      level: s.level,
      version: s.version,
      ...(targetView.key !== root ? { context: targetView.label } : {}),
      depth: 1,
    };
    return {
      ...r,
      height: r.height + 1,
      from: [
        here,
        ...r.from.slice(0, MAX_BUILT_FROM - 1).map((f) => ({ ...f, depth: f.depth + 1 })),
      ],
    };
  }

  function build(view: ContextView, entry: Entry): Result {
    const s = entry.secret;
    if (entry.type === 'derived') {
      const settings = s.value?.kind === 'pgservice' ? s.value.settings : undefined;
      const text = settings ? pgFieldValue(settings, entry.field) : undefined;
      if (settings && text === undefined) {
        return {
          ok: false,
          chain: [],
          message: `pg service ${s.name} has no ${PG_FIELDS[entry.field]} setting`,
        };
      }
      const sensitive = SECRET_PG_FIELDS.has(entry.field);
      // The URL's password is redacted on its own too (its encoded forms by the redactor).
      const password = settings?.password;
      const parts =
        !sensitive || text === undefined ? [] : password !== undefined ? [text, password] : [text];
      const from: BuiltFrom = {
        via: `pgservice ${s.name}`,
        name: s.name,
        kind: 'pgservice',
        level: s.level,
        version: s.version,
        ...(view.key !== root ? { context: view.label } : {}),
        depth: 1,
      };
      return {
        ok: true,
        ...(text !== undefined ? { text } : {}),
        sensitive,
        parts,
        from: [from],
        height: 0,
      };
    }
    if (s.kind === 'alias') {
      const target = s.refs?.[0] ?? (s.value?.kind === 'alias' ? s.value.target : '');
      return follow(view, target, `alias of ${target}`);
    }
    const own = s.sensitivity !== 'plain';
    const text =
      s.value?.kind === 'env'
        ? s.value.value
        : s.value?.kind === 'file'
          ? s.value.content.toString('utf8')
          : undefined;
    if (s.refs === null) {
      return {
        ok: true,
        ...(text !== undefined ? { text } : {}),
        sensitive: own,
        parts: [],
        from: [],
        height: 0,
      };
    }
    // With values, the value itself is parsed (the stored refs were parsed from it); without,
    // the stored refs are what it names.
    const parsed = text === undefined ? null : parseTemplate(text);
    if (parsed !== null && isTemplateError(parsed)) {
      return { ok: false, chain: [], message: `character ${parsed.position}: ${parsed.message}` };
    }
    // Values that repeat references (`${A}${A}`, each of them `${B}${B}`, …) would grow
    // exponentially with depth: the text is bounded as a write bounds it, the parts are a set,
    // and builtFrom keeps its first links.
    const limit = MAX_BUILT_BYTES[s.kind === 'file' ? 'file' : 'env'];
    const tooLong: Result = {
      ok: false,
      chain: [],
      message: `the built value is larger than ${limit / 1024} KiB`,
    };
    let out = '';
    let sensitive = own;
    const parts = new Set<string>();
    const from: BuiltFrom[] = [];
    const listed = new Set<string>();
    let height = 0;
    const pieces = parsed ?? s.refs.map((r) => ({ text: r }));
    for (const piece of pieces) {
      if (typeof piece === 'string') {
        out += piece;
        if (out.length > limit) return tooLong;
        continue;
      }
      const r = follow(view, piece.text, `\${${piece.text}}`);
      if (!r.ok) return r;
      out += r.text ?? '';
      if (out.length > limit) return tooLong;
      if (r.sensitive) {
        sensitive = true;
        if (r.text) parts.add(r.text);
      }
      for (const p of r.parts) parts.add(p);
      for (const f of r.from) {
        if (from.length >= MAX_BUILT_FROM) break;
        const key = `${f.context ?? ''}\0${f.name}\0${f.via}\0${f.depth}`;
        if (listed.has(key)) continue;
        listed.add(key);
        from.push(f);
      }
      height = Math.max(height, r.height);
    }
    if (parsed !== null && Buffer.byteLength(out, 'utf8') > limit) return tooLong;
    return {
      ok: true,
      ...(parsed !== null ? { text: out } : {}),
      sensitive,
      parts: [...parts],
      from,
      height,
    };
  }

  const out: Built[] = [];
  const put = (name: string, entry: Entry) => {
    const r = evaluate(rootView, entry, name);
    const s = entry.secret;
    const built: Built = {
      name,
      source: s,
      ...(entry.type === 'derived' ? { field: entry.field } : {}),
      sensitive: r.ok ? r.sensitive : s.sensitivity !== 'plain',
      parts: r.ok ? [...new Set(r.parts)] : [],
      from: r.ok ? r.from : [],
    };
    if (!r.ok) built.problem = { name, chain: r.chain, message: r.message };
    else if (r.text !== undefined)
      built.value =
        s.kind === 'file'
          ? { kind: 'file', content: Buffer.from(r.text, 'utf8') }
          : { kind: 'env', value: r.text };
    out.push(built);
  };
  for (const s of rootView.secrets) {
    if (s.kind === 'pgservice') continue;
    // A literal file keeps its bytes as they are (they need not be UTF-8).
    if (s.kind === 'file' && s.refs === null) {
      out.push({
        name: s.name,
        source: s,
        ...(s.value ? { value: s.value } : {}),
        sensitive: s.sensitivity !== 'plain',
        parts: [],
        from: [],
      });
      continue;
    }
    put(s.name, { type: 'secret', secret: s });
  }
  for (const s of rootView.secrets) {
    if (s.kind !== 'pgservice' || !s.exportEnv) continue;
    for (const field of Object.keys(PG_FIELDS) as PgField[]) {
      const settings = s.value?.kind === 'pgservice' ? s.value.settings : undefined;
      // A setting the service lacks gives no variable (rather than an error).
      if (settings && pgFieldValue(settings, field) === undefined) continue;
      put(pgEnvName(s.name, field), { type: 'derived', secret: s, field });
    }
  }
  return out;
}

/** The stems of derived names two pgservice names would share (`main-db` and `main_db`). */
export function sameStem(a: string, b: string): boolean {
  return a !== b && pgEnvStem(a) === pgEnvStem(b);
}

/** Whether a name is one of the derived variables (`HUSH_PG_…_URL`). */
export function isDerivedName(name: string): boolean {
  return parsePgEnvName(name) !== undefined;
}

/** A problem as one line: `DATABASE_URL → DB_HOST → HOST: HOST is not defined in maps/prod`. */
export function describeProblem(p: ReferenceProblem): string {
  return `${p.chain.join(' → ')}: ${p.message}`;
}
