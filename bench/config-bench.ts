import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import {
  benchOrganization,
  type Dialect,
  type Figures,
  median,
  progress,
  record,
  SYSTEM,
  withDatabase,
} from './common.js';

const TYPES = ['production', 'staging', 'development', 'preview'] as const;

/** A hush.yaml of `projects` projects × 4 environments × 5 services per environment. */
export function benchConfigFile(projects: number): string {
  const lines = ['organization: bench', 'projects:'];
  for (let p = 0; p < projects; p++) {
    lines.push(`  proj-${p}:`, '    environments:');
    for (const type of TYPES) lines.push(`      ${type}: { type: ${type} }`);
    lines.push('    services:');
    for (const type of TYPES) {
      for (let s = 0; s < 5; s++) {
        lines.push(
          `      ${type}-svc-${s}:`,
          `        command: "qgis_process run native:buffer --INPUT=layer-${s}.gpkg"`,
          `        environment: ${type}`,
          '        timeout: 30m',
        );
      }
    }
  }
  return lines.join('\n') + '\n';
}

/**
 * `apply_first_ms` (a file of 50 projects × 4 environments × 5 services applied to an empty
 * organization: 1,250 creates with their audit events in one transaction) and `apply_noop_ms` /
 * `plan_noop_ms` (the same file again: parse, validate, read the state, diff; nothing written).
 */
export async function configBench(dialect: Dialect, quick: boolean, figures: Figures) {
  progress(`${dialect}: hush apply of 50 projects × 4 environments × 5 services`);
  await withDatabase(dialect, async (settings) => {
    const app = await createApp(loadConfig({ ...settings, logLevel: 'silent' }, {}));
    try {
      await benchOrganization(app);
      const input = { file: 'hush.yaml', source: benchConfigFile(50), prune: false };
      const config = app.services.config;
      let t0 = process.hrtime.bigint();
      const first = await config.apply(SYSTEM, 'bench', input);
      const firstMs = Number(process.hrtime.bigint() - t0) / 1e6;
      if (first.summary.create !== 50 * (1 + 4 + 20))
        throw new Error('first apply created too little');
      const runs = quick ? 5 : 20;
      const apply: number[] = [];
      const plan: number[] = [];
      for (let i = 0; i < runs + 2; i++) {
        t0 = process.hrtime.bigint();
        const again = await config.apply(SYSTEM, 'bench', input);
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (again.changes.length !== 0) throw new Error('a second apply found changes');
        t0 = process.hrtime.bigint();
        await config.plan(SYSTEM, 'bench', input);
        const planMs = Number(process.hrtime.bigint() - t0) / 1e6;
        if (i >= 2) {
          apply.push(ms);
          plan.push(planMs);
        }
      }
      record(figures, 'apply_first_ms', { dialect, value: +firstMs.toFixed(1), unit: 'ms' });
      record(figures, 'apply_noop_ms', { dialect, value: +median(apply).toFixed(1), unit: 'ms' });
      record(figures, 'plan_noop_ms', { dialect, value: +median(plan).toFixed(1), unit: 'ms' });
    } finally {
      await app.close();
    }
  });
}
