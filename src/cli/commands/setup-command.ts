import path from 'node:path';
import { createInterface } from 'node:readline/promises';

import type { Command } from 'commander';

import { type ApiClient, CliError } from '../api-client.js';
import { clientFor, globals, orgPath, projectPath, resolveOrg } from '../context.js';
import {
  CONTEXT_ENV,
  CONTEXT_FILE,
  CONTEXT_KEYS,
  type ContextKey,
  type ContextValues,
  findContextFile,
  readContextFile,
  writeContextFile,
} from '../directory-context.js';
import { output, printTable, shown } from '../output.js';

const SETUP_HELP = `
Every command run in this directory or below it then takes these as its defaults. Where a
value comes from, first match wins:
  1. a flag on the command line (--org, --project, --env, --service)
  2. HUSH_ORG, HUSH_PROJECT, HUSH_ENV, HUSH_SERVICE
  3. ${CONTEXT_FILE} here or in the nearest parent directory (what setup writes)
  4. the organization: your only one
A default belongs to its context: --project other drops the file's env, --org other its project.
The file holds names only, never a credential; commit it if your team shares the layout.
  hush setup --project maps --env prod
  hush setup --show
`;

interface SetupOpts extends ContextValues {
  show?: boolean;
}

/** Each context key with its effective value and where it comes from, as commands see them. */
function effective(flags: ContextValues) {
  const file = findContextFile();
  const fromFile = file ? readContextFile(file) : {};
  return CONTEXT_KEYS.map((key) => {
    const env = process.env[CONTEXT_ENV[key]];
    const [value, source] =
      flags[key] !== undefined
        ? [flags[key], `--${key}`]
        : env
          ? [env, CONTEXT_ENV[key]]
          : fromFile[key] !== undefined
            ? [fromFile[key], path.relative(process.cwd(), file!) || CONTEXT_FILE]
            : [undefined, key === 'org' ? 'your only organization' : 'none'];
    return { key, value: value ?? null, source };
  });
}

/** Asks for one value on the terminal, offering what the server lists; empty keeps `fallback`. */
async function ask(
  rl: ReturnType<typeof createInterface>,
  what: string,
  choices: string[],
  fallback: string | undefined,
): Promise<string | undefined> {
  const offer = choices.length > 0 ? ` (${choices.slice(0, 20).join(', ')})` : '';
  const dflt = fallback ? ` [${fallback}]` : '';
  const answer = (await rl.question(`${what}${offer}${dflt}: `)).trim();
  return answer || fallback;
}

async function names(client: ApiClient, pathname: string, field: 'slug' | 'name') {
  const rows = await client.get<Record<string, string>[]>(pathname);
  return rows.map((r) => r[field]!).filter(Boolean);
}

/** Fills what the flags left out by asking on the terminal, with the server's names offered. */
async function interactive(client: ApiClient, given: ContextValues): Promise<ContextValues> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const values = { ...given };
    const orgs = await names(client, '/orgs', 'slug');
    // Your only organization is not asked for.
    const org =
      values.org ?? (orgs.length === 1 ? orgs[0] : await ask(rl, 'Organization', orgs, undefined));
    if (!org) throw new CliError('an organization is needed');
    // Your only organization need not be written down: it is the default anyway.
    if (orgs.length !== 1 || org !== orgs[0]) values.org = org;
    const projects = await names(client, `${orgPath(org)}/projects`, 'slug');
    values.project ??= await ask(rl, 'Project', projects, projects[0]);
    if (!values.project) return values;
    if (values.env === undefined && values.service === undefined) {
      const p = projectPath(org, values.project);
      const envs = await names(client, `${p}/environments`, 'slug');
      values.env = await ask(rl, 'Environment (empty: none)', envs, undefined);
      if (!values.env) {
        const services = await names(client, `${p}/services`, 'name');
        values.service = await ask(rl, 'Service (empty: none)', services, undefined);
      }
    }
    return values;
  } finally {
    rl.close();
  }
}

/** Checks that the names exist on the server (its 404 names the near ones: did you mean …?). */
async function check(client: ApiClient, values: ContextValues): Promise<void> {
  const org = await resolveOrg(client, values.org);
  if (!values.project) {
    await client.get(orgPath(org));
    return;
  }
  // Resolving the context loads project, environment and service, and says which is missing.
  await client.get(`${orgPath(org)}/secrets/resolve`, {
    project: values.project,
    env: values.env,
    service: values.service,
  });
}

/** `hush setup`: a directory's default organization, project, environment or service. */
export function registerSetupCommand(program: Command): void {
  program
    .command('setup')
    .description(
      `Save this directory's default organization, project and environment (or service) in ${CONTEXT_FILE}`,
    )
    .option('--org <slug>', 'organization')
    .option('--project <slug>', 'project')
    .option('--env <slug>', 'environment')
    .option('--service <name>', 'service (instead of an environment: it resolves through its own)')
    .option('--show', 'print the defaults in effect here and where each comes from; write nothing')
    .addHelpText('after', SETUP_HELP)
    .action(async (opts: SetupOpts, cmd: Command) => {
      const flags: ContextValues = {};
      for (const key of CONTEXT_KEYS) if (opts[key] !== undefined) flags[key] = opts[key];
      if (opts.show) {
        const rows = effective(flags);
        output(!!globals(cmd).json, rows, () => printTable(rows, ['key', 'value', 'source']));
        return;
      }
      if (flags.env && flags.service)
        throw new CliError('give --env or --service, not both (a service has its environment)');
      const client = clientFor(cmd);
      const values =
        process.stdin.isTTY && !flags.project ? await interactive(client, flags) : flags;
      if (!values.project && !values.org)
        throw new CliError('give at least --project (and --org, --env or --service)');
      await check(client, values);
      const file = path.join(process.cwd(), CONTEXT_FILE);
      writeContextFile(file, values);
      output(!!globals(cmd).json, { file, ...values }, () =>
        process.stdout.write(
          shown`Wrote ${file}: ${CONTEXT_KEYS.filter((k: ContextKey) => values[k])
            .map((k) => `${k} ${values[k]}`)
            .join(', ')}\n`,
        ),
      );
    });
}
