import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { CONFIG_SOURCES, configSchema } from '../../src/config.js';
import { configJsonSchema } from '../../src/domain/config/config-schema.js';
import { ERROR_CODES } from '../../src/errors.js';

function tableRows(file: string): string[][] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) =>
      l
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim().replace(/^`|`$/g, '')),
    );
}

describe('docs/errors.md', () => {
  it('lists exactly the registered error codes with their HTTP status', () => {
    const documented = tableRows('docs/errors.md').map(([code, status]) => [code, Number(status)]);
    const registered = Object.entries(ERROR_CODES).map(([code, e]) => [code, e.status]);
    expect(documented).toEqual(registered);
  });
});

describe('docs/config.md', () => {
  it('lists every configuration key with its variable, flag and description', () => {
    const documented = tableRows('docs/config.md').map(([key, env, flag]) => ({ key, env, flag }));
    const shape = configSchema.shape;
    const expected = Object.keys(shape).map((key) => ({
      key,
      env: CONFIG_SOURCES[key as keyof typeof CONFIG_SOURCES].env,
      flag: CONFIG_SOURCES[key as keyof typeof CONFIG_SOURCES].flag,
    }));
    expect(documented).toEqual(expected);
    for (const [key, schema] of Object.entries(shape)) {
      expect(schema.description, key).toBeTruthy();
    }
  });
});

describe('links in the README and docs/', () => {
  it('point at files of this repository that exist (a clone carries its own docs)', () => {
    const files = [
      'README.md',
      ...fs
        .readdirSync('docs')
        .filter((f) => f.endsWith('.md'))
        .map((f) => `docs/${f}`),
    ];
    const broken: string[] = [];
    for (const file of files) {
      const dir = file.includes('/') ? file.slice(0, file.lastIndexOf('/')) : '.';
      for (const [, target] of fs.readFileSync(file, 'utf8').matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!) || target!.startsWith('#')) continue;
        const relative = target!.split('#')[0]!;
        const resolved = path.normalize(`${dir}/${relative}`);
        if (resolved.startsWith('..') || path.isAbsolute(resolved) || !fs.existsSync(resolved))
          broken.push(`${file}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });
});

describe('docs/hush.schema.json', () => {
  it('is the JSON Schema the zod schemas of hush.yaml produce (npm run schema writes it)', () => {
    const written = JSON.parse(fs.readFileSync('docs/hush.schema.json', 'utf8')) as unknown;
    expect(written).toEqual(configJsonSchema());
  });
});
