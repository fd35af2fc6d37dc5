import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { pgDerivedVariables, pgEnvName, pgUrl } from '../../../src/domain/secrets/pg-derived.js';
import {
  buildContext,
  type ContextView,
  MAX_BUILT_FROM,
  MAX_REFERENCE_DEPTH,
  missingContexts,
  type SourceSecret,
} from '../../../src/domain/secrets/references.js';
import { parseTemplate, refsOfTemplate } from '../../../src/domain/secrets/templates.js';

let next = 0;
function env(name: string, value: string, opts: Partial<SourceSecret> = {}): SourceSecret {
  const refs = parseTemplate(value);
  return {
    id: `id-${++next}`,
    name,
    kind: 'env',
    level: 'project',
    version: 1,
    sensitivity: 'secret',
    refs: Array.isArray(refs) ? refsOfTemplate(refs) : [],
    exportEnv: false,
    value: { kind: 'env', value },
    ...opts,
  };
}

function views(...list: ContextView[]): Map<string, ContextView> {
  return new Map(list.map((v) => [v.key, v]));
}

const self = (secrets: SourceSecret[]): ContextView => ({ key: 'self', label: 'maps', secrets });

describe('parseTemplate', () => {
  it('cuts text and references, with $${ as a literal and other dollars as text', () => {
    expect(parseTemplate('a${B}c$${D}$E$$ ${org.F}${pp.ee.G}')).toEqual([
      'a',
      { text: 'B', target: { scope: 'same', name: 'B' } },
      'c${D}$E$$ ',
      { text: 'org.F', target: { scope: 'org', name: 'F' } },
      { text: 'pp.ee.G', target: { scope: 'path', project: 'pp', env: 'ee', name: 'G' } },
    ]);
  });

  it('names the character of what does not parse', () => {
    expect(parseTemplate('ab ${lower}')).toMatchObject({ position: 4 });
    expect(parseTemplate('${A')).toMatchObject({
      position: 1,
      message: expect.stringContaining('not closed'),
    });
    expect(parseTemplate('x${}')).toMatchObject({ position: 2 });
    expect(parseTemplate('${maps.NAME}')).toMatchObject({
      message: expect.stringContaining('org.NAME'),
    });
    expect(parseTemplate('${a.b.c.D}')).toMatchObject({
      message: expect.stringContaining('NAME, org.NAME or project.env.NAME'),
    });
  });
});

describe('derived pg variables', () => {
  it('names them after the service, upper-cased, other characters as _', () => {
    expect(pgEnvName('main-db.eu', 'URL')).toBe('HUSH_PG_MAIN_DB_EU_URL');
  });

  it('writes a URL every part of which is escaped, that Node parses back', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.string(),
        fc.string({ minLength: 1 }),
        fc.constantFrom('db.internal', '10.0.0.7', '::1', 'host-1'),
        (user, password, dbname, host) => {
          const url = new URL(pgUrl({ host, port: '6432', dbname, user, password }));
          expect(decodeURIComponent(url.username)).toBe(user);
          expect(decodeURIComponent(url.password)).toBe(password);
          const path = decodeURIComponent(url.pathname.slice(1));
          expect(path || url.searchParams.get('dbname')).toBe(dbname);
          expect(url.hostname.replace(/^\[|\]$/g, '')).toBe(host);
          expect(url.port).toBe('6432');
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('puts a database named . or .. in the dbname parameter (a URL path drops dot segments)', () => {
    expect(pgUrl({ host: 'h', dbname: '..' })).toBe('postgresql://h?dbname=..');
  });

  it('puts a socket directory in the host parameter', () => {
    expect(pgUrl({ host: '/var/run/postgresql', dbname: 'gis', sslmode: 'disable' })).toBe(
      'postgresql:///gis?host=%2Fvar%2Frun%2Fpostgresql&sslmode=disable',
    );
  });

  it('gives only the fields the settings have', () => {
    expect(pgDerivedVariables('m', { host: 'h' }).map((v) => v.name)).toEqual([
      'HUSH_PG_M_HOST',
      'HUSH_PG_M_URL',
    ]);
  });
});

describe('buildContext', () => {
  it('follows a chain of 10 references and refuses the 11th', () => {
    const chain = (n: number) =>
      Array.from({ length: n + 1 }, (_, i) => env(`N${i}`, i === n ? 'end' : `\${N${i + 1}}`));
    const ok = buildContext(views(self(chain(MAX_REFERENCE_DEPTH))));
    expect(ok.find((b) => b.name === 'N0')?.value).toEqual({ kind: 'env', value: 'end' });
    const deep = buildContext(views(self(chain(MAX_REFERENCE_DEPTH + 1))));
    expect(deep.find((b) => b.name === 'N0')?.problem?.message).toBe(
      `references go deeper than ${MAX_REFERENCE_DEPTH}`,
    );
    expect(deep.find((b) => b.name === 'N1')?.problem).toBeUndefined();
  });

  it('stays fast and bounded on a graph whose values would grow exponentially', () => {
    const secrets: SourceSecret[] = [];
    for (let level = 0; level < 10; level++)
      for (let i = 0; i < 20; i++) {
        const value =
          level === 9
            ? 'xx'
            : Array.from({ length: 20 }, (_, k) => `\${N${level + 1}_${k}}`).join('');
        secrets.push(env(`N${level}_${i}`, value));
      }
    const t0 = performance.now();
    const built = new Map(buildContext(views(self(secrets))).map((b) => [b.name, b]));
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(built.get('N0_0')?.problem?.message).toBe('the built value is larger than 64 KiB');
    const small = built.get('N7_0')!;
    expect(small.value).toEqual({ kind: 'env', value: 'xx'.repeat(400) });
    expect(small.from.length).toBeLessThanOrEqual(MAX_BUILT_FROM);
    expect(small.parts.sort()).toEqual(['xx', 'xx'.repeat(20)]);
  });

  it('lists the contexts references name that are not loaded', () => {
    const v = views(self([env('A', '${org.X}${maps.prod.Y}${B}')]));
    expect(missingContexts(v).sort()).toEqual(['maps.prod', 'org']);
  });

  it('marks a value plain only when every part is', () => {
    const built = buildContext(
      views(
        self([
          env('HOST', 'db', { sensitivity: 'plain' }),
          env('PASS', 'secret-pass'),
          env('URL', '${HOST}:${PASS}', { sensitivity: 'plain' }),
          env('WHERE', 'at ${HOST}', { sensitivity: 'plain' }),
        ]),
      ),
    );
    const by = new Map(built.map((b) => [b.name, b]));
    expect(by.get('URL')).toMatchObject({ sensitive: true, parts: ['secret-pass'] });
    expect(by.get('WHERE')).toMatchObject({ sensitive: false, parts: [] });
  });
});

// The reference model: a naive recursive expansion that tracks its path (no memory), over the
// same generated graphs. Every name must come out the same: the same text, or a failure.
type Part = string | { ctx: 'self' | 'org' | 'other'; name: string };
interface ModelSecret {
  name: string;
  parts: Part[] | null; // null: literal
  alias?: Part & object;
  text: string;
}

const NAMES = ['A', 'B', 'C', 'D', 'E', 'F'];

const partArb: fc.Arbitrary<Part> = fc.oneof(
  fc.constantFrom('x', '-', '$x', 'a$$b', 'lit'),
  fc.record({
    ctx: fc.constantFrom<'self' | 'org' | 'other'>('self', 'self', 'self', 'org', 'other'),
    name: fc.constantFrom(...NAMES, 'MISSING'),
  }),
);

const secretArb = (name: string): fc.Arbitrary<ModelSecret | null> =>
  fc.oneof(
    fc.constant(null),
    fc.record({
      name: fc.constant(name),
      parts: fc.constant(null),
      text: fc.constantFrom('v1', 'v2', '${NOT_A_REF}'),
    }),
    fc.record({
      name: fc.constant(name),
      parts: fc.array(partArb, { maxLength: 4 }),
      text: fc.constant(''),
    }),
    fc.record({
      name: fc.constant(name),
      parts: fc.constant(null),
      alias: partArb.filter((p): p is Part & object => typeof p !== 'string'),
      text: fc.constant(''),
    }),
  );

const contextArb = fc
  .tuple(...NAMES.map(secretArb))
  .map((s) => s.filter((x): x is ModelSecret => x !== null));

function refText(p: Part & object): string {
  return p.ctx === 'self' ? p.name : p.ctx === 'org' ? `org.${p.name}` : `tiles.prod.${p.name}`;
}

function templateOf(parts: Part[]): string {
  return parts
    .map((p) => (typeof p === 'string' ? p.replaceAll('${', '$${') : `\${${refText(p)}}`))
    .join('');
}

function toView(key: string, secrets: ModelSecret[], unavailable?: string): ContextView {
  return {
    key,
    label: key,
    ...(unavailable ? { unavailable } : {}),
    secrets: unavailable
      ? []
      : secrets.map((m) =>
          m.alias
            ? {
                id: `${key}-${m.name}`,
                name: m.name,
                kind: 'alias' as const,
                level: 'project' as const,
                version: 1,
                sensitivity: 'plain' as const,
                refs: [refText(m.alias)],
                exportEnv: false,
                value: { kind: 'alias' as const, target: refText(m.alias) },
              }
            : env(m.name, m.parts ? templateOf(m.parts) : m.text, {
                id: `${key}-${m.name}`,
                refs: m.parts ? refsOfTemplate(parseTemplate(templateOf(m.parts)) as never) : null,
              }),
        ),
  };
}

function model(
  ctxs: Record<'self' | 'org' | 'other', ModelSecret[]>,
  otherVisible: boolean,
): Map<string, string | null> {
  // From a context, `self` refs stay in it; `org` and `other` are absolute.
  const value = (
    ctx: 'self' | 'org' | 'other',
    name: string,
    path: string[],
  ): { text: string; height: number } | null => {
    if (ctx === 'other' && !otherVisible) return null;
    const s = ctxs[ctx].find((m) => m.name === name);
    if (!s) return null;
    const key = `${ctx}:${name}`;
    if (path.includes(key)) return null;
    let text = '';
    let height = 0;
    const pieces: Part[] = s.alias ? [s.alias] : (s.parts ?? [s.text]);
    for (const p of pieces) {
      if (typeof p === 'string') {
        text += p;
        continue;
      }
      const target = p.ctx === 'self' ? ctx : p.ctx;
      const r = value(target, p.name, [...path, key]);
      if (r === null || r.height + 1 > MAX_REFERENCE_DEPTH) return null;
      text += r.text;
      height = Math.max(height, r.height + 1);
    }
    return { text, height };
  };
  return new Map(ctxs.self.map((s) => [s.name, value('self', s.name, [])?.text ?? null]));
}

describe('buildContext against the reference model', () => {
  it('builds the same values and fails the same names, never from an invisible context', () => {
    fc.assert(
      fc.property(contextArb, contextArb, contextArb, fc.boolean(), (mine, org, other, visible) => {
        const v = views(
          toView('self', mine),
          toView('org', org),
          toView('tiles.prod', other, visible ? undefined : 'tiles/prod is not visible'),
        );
        const built = new Map(buildContext(v).map((b) => [b.name, b]));
        const expected = model({ self: mine, org, other }, visible);
        expect([...built.keys()].sort()).toEqual([...expected.keys()].sort());
        for (const [name, text] of expected) {
          const b = built.get(name)!;
          if (text === null) expect(b.problem, name).toBeDefined();
          else {
            expect(b.problem, `${name}: ${b.problem?.message}`).toBeUndefined();
            expect(b.value).toEqual({ kind: 'env', value: text });
            if (!visible) expect(b.from.some((f) => f.context === 'tiles.prod')).toBe(false);
          }
        }
      }),
      { numRuns: 3000 },
    );
  });
});
