/**
 * Realistic data through the domain services, in process, before the server starts on it: an
 * organization with many projects and secrets, the measured contexts, and a service token.
 */
import { randomBytes } from 'node:crypto';

import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { SecretInput } from '../src/domain/secrets/secret-values.js';
import { type DatabaseSettings, progress, SYSTEM } from './common.js';

export const ORG = 'bench';

export interface SeedSize {
  /** Projects in all (the measured ones included). */
  projects: number;
  /** Secrets in all (the measured ones included). */
  secrets: number;
}

const OWNER = { email: 'bench@example.com', password: 'bench password' };

export interface Seeded {
  token: string;
  /** The Owner's sign-in, for the login figure. */
  email: string;
  password: string;
  secretCount: number;
  projectCount: number;
}

function envInputs(prefix: string, from: number, to: number): SecretInput[] {
  const out: SecretInput[] = [];
  for (let i = from; i < to; i++)
    out.push({
      kind: 'env',
      name: `VAR_${i}`,
      value: `${prefix}-${randomBytes(16).toString('hex')}`,
      sensitivity: 'secret',
    });
  return out;
}

/**
 * Measured contexts: project `one` holds one secret; projects `env100` and `env1000` hold 100 and
 * 1,000 names over three levels; `imports` and `watch` are empty, for the workflow bench (project, environment `prod`, service `api`), each level
 * overriding part of the one above. Filler projects take the rest of the secrets.
 */
export async function seed(settings: DatabaseSettings, size: SeedSize): Promise<Seeded> {
  const t0 = Date.now();
  const app = await createApp(loadConfig({ ...settings, logLevel: 'silent' }, {}));
  try {
    const s = app.services;
    await s.setup.bootstrap(SYSTEM, { ...OWNER, org: ORG });
    let secretCount = 0;
    const add = async (
      ref: { project: string; env?: string; service?: string },
      inputs: SecretInput[],
    ) => {
      for (let i = 0; i < inputs.length; i += 200) {
        await s.secrets.add(SYSTEM, ORG, ref, inputs.slice(i, i + 200));
      }
      secretCount += inputs.length;
    };
    await s.projects.createProject(SYSTEM, ORG, { slug: 'one' });
    await add({ project: 'one' }, envInputs('one', 0, 1));
    // Empty until the workflow bench imports into the one and watches the other.
    await s.projects.createProject(SYSTEM, ORG, { slug: 'imports' });
    await s.projects.createProject(SYSTEM, ORG, { slug: 'watch' });
    for (const n of [100, 1000]) {
      const p = `env${n}`;
      await s.projects.createProject(SYSTEM, ORG, { slug: p });
      await s.projects.createEnvironment(SYSTEM, ORG, p, { slug: 'prod', type: 'production' });
      await s.projects.createService(SYSTEM, ORG, p, {
        name: 'api',
        environment: 'prod',
        command: 'true',
        timeoutSeconds: 60,
      });
      await add({ project: p }, envInputs('project', 0, Math.round(n / 3)));
      await add({ project: p, env: 'prod' }, envInputs('env', 0, Math.round((2 * n) / 3)));
      await add({ project: p, service: 'api' }, envInputs('service', 0, n));
    }
    const fillers = Math.max(0, size.projects - 3);
    const perFiller =
      fillers > 0 ? Math.max(0, Math.floor((size.secrets - secretCount) / fillers)) : 0;
    for (let i = 0; i < fillers; i++) {
      const p = `filler-${i}`;
      await s.projects.createProject(SYSTEM, ORG, { slug: p });
      await add({ project: p }, envInputs(p, 0, perFiller));
      if (i % 100 === 99)
        progress(`seeded ${i + 1}/${fillers} filler projects (${secretCount} secrets)`);
    }
    const created = await s.tokens.createServiceToken(SYSTEM, ORG, {
      name: 'bench-runtime',
      role: 'devops',
      projects: [],
      environments: [],
    });
    progress(
      `seeded ${size.projects} projects, ${secretCount} secrets in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    return { token: created.token, ...OWNER, secretCount, projectCount: 3 + fillers };
  } finally {
    await app.close();
  }
}
