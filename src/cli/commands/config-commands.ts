import { readFile, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';

import type { Command } from 'commander';

import { type ApiClient, CliError } from '../api-client.js';
import { clientFor, globals, orgPath, resolveOrg } from '../context.js';
import { printable, printJson } from '../output.js';

interface FieldChange {
  field: string;
  from: unknown;
  to: unknown;
}

interface Plan {
  organization: string;
  file: string;
  digest: string;
  state: string;
  prune: boolean;
  changes: {
    action: 'create' | 'update' | 'delete';
    resource: string;
    name: string;
    fields: FieldChange[];
  }[];
  secrets: { secret: Record<string, string | undefined>; problem: string }[];
  summary: { create: number; update: number; delete: number; secretsMissing: number };
}

/** What `hush plan -o` writes and `hush apply --plan-file` reads: the file as planned. */
interface PlanFile {
  hushPlan: 1;
  organization: string;
  file: string;
  source: string;
  prune: boolean;
  state: string;
  digest: string;
}

/** Reads a hush.yaml (`-` is standard input). */
async function readConfig(path: string): Promise<{ file: string; source: string }> {
  try {
    if (path === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return { file: 'stdin', source: Buffer.concat(chunks).toString('utf8') };
    }
    return { file: path, source: await readFile(path, 'utf8') };
  } catch (error) {
    throw new CliError(
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
}

/** The organization a file names on its `organization:` line, when it has one. */
function organizationOf(source: string): string | undefined {
  return /^organization:\s*["']?([a-z0-9-]+)["']?\s*(#.*)?$/m.exec(source)?.[1];
}

function shownValue(v: unknown): string {
  if (v === null || v === undefined) return '(none)';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v))
    return (
      v
        .map((g: { project?: string; type?: string; level?: string }) =>
          g.project ? `${g.project}:${g.type}=${g.level}` : JSON.stringify(g),
        )
        .join(' ') || '(none)'
    );
  return JSON.stringify(v);
}

const SIGN = { create: '+', update: '~', delete: '-' } as const;

/** Prints a plan as `terraform plan` does: grouped by resource, a summary line last. */
function printPlan(plan: Plan): void {
  const out: string[] = [];
  out.push(`Organization ${plan.organization}, from ${plan.file} (${plan.digest.slice(0, 19)}…)`);
  const groups = ['project', 'environment', 'service', 'role', 'member'];
  for (const group of groups) {
    const changes = plan.changes.filter((c) => c.resource === group);
    if (changes.length === 0) continue;
    out.push('', `${group === 'member' ? 'members' : `${group}s`}:`);
    for (const c of changes) {
      out.push(`  ${SIGN[c.action]} ${c.action} ${c.resource} ${c.name}`);
      if (c.action === 'update') {
        for (const f of c.fields)
          out.push(`      ${f.field}: ${shownValue(f.from)} → ${shownValue(f.to)}`);
      } else if (c.action === 'create' && c.resource !== 'project') {
        for (const f of c.fields)
          if (f.to !== null) out.push(`      ${f.field}: ${shownValue(f.to)}`);
      } else if (c.action === 'delete' && c.resource === 'project') {
        out.push(
          `      with ${String(c.fields[0]?.from)} environments and ${String(c.fields[1]?.from)} services`,
        );
      }
    }
  }
  if (plan.secrets.length > 0) {
    out.push(
      '',
      'secrets declared but not present (set them with hush secret set or hush import):',
    );
    for (const { secret, problem } of plan.secrets) {
      const at = secret.project
        ? `${secret.project}${secret.environment ? `/${secret.environment}` : secret.service ? `/${secret.service}` : ''}`
        : 'organization';
      out.push(
        `  ! ${secret.name} (${secret.kind}) at ${at}${secret.assignee ? ` for ${secret.assignee}` : ''}: ${problem}`,
      );
    }
  }
  const { create, update, delete: del } = plan.summary;
  out.push(
    '',
    create + update + del === 0
      ? 'No changes. The organization matches the file.'
      : `Plan: ${create} to create, ${update} to change, ${del} to delete.`,
  );
  process.stdout.write(out.map((l) => printable(l)).join('\n') + '\n');
}

function changed(plan: Plan): boolean {
  return plan.changes.length > 0;
}

/** Asks on the terminal; only `yes` goes on. */
async function confirmed(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim() === 'yes';
  } finally {
    rl.close();
  }
}

async function planOf(
  client: ApiClient,
  org: string,
  input: { file: string; source: string; prune: boolean },
) {
  return client.post<Plan>(`${orgPath(org)}/config/plan`, input);
}

/** `hush plan`, `hush apply`, `hush config export`. */
export function registerConfigCommands(program: Command): void {
  program
    .command('plan')
    .description(
      'Show what applying a hush.yaml would create, change and (with --prune) delete; exit 0: no changes, 2: changes, 1: error',
    )
    .requiredOption('-f, --file <path>', 'the hush.yaml (- for standard input)')
    .option('--prune', 'also delete projects, environments, services and roles the file leaves out')
    .option('-o, --out <path>', 'write the plan, with the file, for hush apply --plan-file')
    .option('--org <slug>', "organization (default: the file's organization)")
    .action(
      async (opts: { file: string; prune?: boolean; out?: string; org?: string }, cmd: Command) => {
        const client = clientFor(cmd);
        const input = { ...(await readConfig(opts.file)), prune: !!opts.prune };
        const org = await resolveOrg(client, opts.org ?? organizationOf(input.source));
        const plan = await planOf(client, org, input);
        if (opts.out) {
          const saved: PlanFile = {
            hushPlan: 1,
            organization: plan.organization,
            file: input.file,
            source: input.source,
            prune: plan.prune,
            state: plan.state,
            digest: plan.digest,
          };
          await writeFile(opts.out, JSON.stringify(saved, null, 2) + '\n', { mode: 0o600 });
        }
        if (globals(cmd).json) printJson(plan);
        else printPlan(plan);
        process.exitCode = changed(plan) ? 2 : 0;
      },
    );

  program
    .command('apply')
    .description('Apply a hush.yaml in one transaction (all or nothing), after showing its plan')
    .option('-f, --file <path>', 'the hush.yaml (- for standard input)')
    .option(
      '--plan-file <path>',
      'apply exactly a plan saved by hush plan -o (refused if the organization changed since)',
    )
    .option('--prune', 'also delete projects, environments, services and roles the file leaves out')
    .option('-y, --yes', 'apply without asking (needed when not on a terminal)')
    .option('--org <slug>', "organization (default: the file's organization)")
    .action(
      async (
        opts: { file?: string; planFile?: string; prune?: boolean; yes?: boolean; org?: string },
        cmd: Command,
      ) => {
        if (!opts.file === !opts.planFile)
          throw new CliError('give -f FILE or --plan-file PLAN (one of them)', 2);
        const client = clientFor(cmd);
        const json = !!globals(cmd).json;
        let input: { file: string; source: string; prune: boolean };
        let org: string;
        let expectedState: string;
        if (opts.planFile) {
          const saved = JSON.parse((await readConfig(opts.planFile)).source) as PlanFile;
          if (saved.hushPlan !== 1)
            throw new CliError(`${opts.planFile} is not a plan written by hush plan -o`);
          input = { file: saved.file, source: saved.source, prune: saved.prune };
          org = saved.organization;
          expectedState = saved.state;
        } else {
          input = { ...(await readConfig(opts.file!)), prune: !!opts.prune };
          org = await resolveOrg(client, opts.org ?? organizationOf(input.source));
          const plan = await planOf(client, org, input);
          if (!json) printPlan(plan);
          if (!changed(plan)) {
            if (json) printJson({ ...plan, applied: false });
            return;
          }
          expectedState = plan.state;
          if (!opts.yes) {
            if (!process.stdin.isTTY)
              throw new CliError('not on a terminal: add --yes to apply without asking', 2);
            if (!(await confirmed(`\nApply these changes to ${org}? Only "yes" applies: `)))
              throw new CliError('apply cancelled; nothing changed');
          }
        }
        const applied = await client.post<Plan>(`${orgPath(org)}/config/apply`, {
          ...input,
          expectedState,
        });
        if (json) printJson({ ...applied, applied: true });
        else {
          const { create, update, delete: del } = applied.summary;
          process.stdout.write(
            printable(
              `Applied ${input.file} to ${org}: ${create} created, ${update} changed, ${del} deleted.`,
            ) + '\n',
          );
        }
      },
    );

  program
    .command('config')
    .description('Configuration as code (hush.yaml)')
    .command('export')
    .description('Write the organization as a hush.yaml (plan then reports no changes)')
    .option('--org <slug>', 'organization')
    .option('-o, --out <path>', 'write to a file instead of standard output')
    .action(async (opts: { org?: string; out?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      const org = await resolveOrg(client, opts.org);
      const exported = await client.get<{ organization: string; source: string }>(
        `${orgPath(org)}/config/export`,
      );
      if (globals(cmd).json) printJson(exported);
      else if (opts.out) await writeFile(opts.out, exported.source);
      else process.stdout.write(exported.source);
    });
}
