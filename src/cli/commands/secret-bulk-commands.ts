import fs from 'node:fs';
import path from 'node:path';

import { type Command, Option } from 'commander';

import type { MaterialSecret } from '../../jobs/materialize.js';
import { CliError } from '../api-client.js';
import { clientFor, globals, orgPath, resolveOrg, usageError } from '../context.js';
import { output, printJson, readStdin, shown } from '../output.js';
import { readFileArg } from './secret-input.js';
import { levelFields, type LevelOpts, requireLevel, withLevel } from './secret-level.js';

interface SetOutcome {
  name: string;
  action: 'created' | 'rotated' | 'unchanged';
  id: string | null;
  version: number;
  line?: number;
  warnings?: string[];
}

interface SetSummary {
  level: string;
  dryRun: boolean;
  created: number;
  rotated: number;
  unchanged: number;
  secrets: SetOutcome[];
}

interface BulkOpts extends LevelOpts {
  plain?: boolean;
  dryRun?: boolean;
}

const SET_HELP = `
Each NAME is created at the level, or rotated when its value differs, or left alone when it is
the same; all in one transaction: one bad name and nothing is written. NAME=- reads that value
from standard input (prefer it for real secrets: command lines reach shell history).
  hush secret set LOG_LEVEL=debug REGION=eu-west-1 --project maps --env prod
  printf %s "$KEY" | hush secret set API_KEY=- --project maps --env prod
Without level flags the directory's defaults apply (hush setup); --org SLUG alone is the
organization level.
`;

const IMPORT_HELP = `
FILE is a dotenv file (KEY=value, quotes, multi-line values in quotes, "export" prefixes,
comments), a JSON object of strings or a YAML map (by its extension, or --format); - reads
standard input. Like "secret set": created, rotated or left, in one transaction, and a bad name
is reported with its line while nothing is written.
  hush import .env --project maps --env dev --dry-run
`;

/** What each name of a bulk set did, a line each, then the counts. */
function printSummary(summary: SetSummary): void {
  const verb = summary.dryRun
    ? { created: 'would create', rotated: 'would rotate', unchanged: 'unchanged' }
    : { created: 'created', rotated: 'rotated', unchanged: 'unchanged' };
  for (const s of summary.secrets) {
    const version = s.action === 'unchanged' ? `(version ${s.version})` : `version ${s.version}`;
    process.stdout.write(shown`${verb[s.action].padEnd(12)} ${s.name} ${version}\n`);
  }
  const counts = `${summary.created} created, ${summary.rotated} rotated, ${summary.unchanged} unchanged`;
  process.stdout.write(
    shown`${summary.dryRun ? 'Dry run, nothing written' : 'Done'} at ${summary.level}: ${counts}\n`,
  );
}

/** A reference to a name no secret has is stored all the same, and said on standard error. */
function printWarnings(summary: SetSummary): void {
  for (const s of summary.secrets)
    for (const w of s.warnings ?? [])
      process.stderr.write(
        shown`warning: ${s.line !== undefined ? `line ${s.line}: ` : ''}${s.name}: ${w}` + '\n',
      );
}

/** Splits NAME=VALUE arguments; NAME=- takes standard input (once). */
async function pairs(cmd: Command, args: string[]) {
  const entries: { name: string; value: string }[] = [];
  let stdinUsed = false;
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0)
      usageError(cmd, `${arg}: write NAME=VALUE (or NAME=- to read the value from stdin)`);
    const name = arg.slice(0, eq);
    let value = arg.slice(eq + 1);
    if (value === '-') {
      if (stdinUsed) usageError(cmd, 'only one NAME=- can read standard input');
      stdinUsed = true;
      value = await readStdin();
    }
    entries.push({ name, value });
  }
  return entries;
}

function formatOf(file: string, given: string | undefined): 'dotenv' | 'json' | 'yaml' {
  if (given) return given as 'dotenv' | 'json' | 'yaml';
  const ext = path.extname(file).toLowerCase();
  return ext === '.json' ? 'json' : ext === '.yaml' || ext === '.yml' ? 'yaml' : 'dotenv';
}

/** `hush secret get` and `hush secret set`. */
export function registerSecretValueCommands(secret: Command): void {
  secret
    .command('get <name>')
    .description(
      "Print one resolved value of a context (the caller's view): plain values for whoever may read it, others for service tokens",
    )
    .option('--org <slug>', 'organization')
    .option('--project <slug>', 'project (default: the directory, see hush setup)')
    .option('--env <slug>', 'environment')
    .option('--service <name>', 'service (resolves through its environment)')
    .addOption(
      new Option('--kind <kind>', 'when an env variable and a pg service share the name').choices([
        'env',
        'file',
        'pgservice',
      ]),
    )
    .option('--plain', 'print the value exactly, without a newline added')
    .action(
      async (name: string, opts: LevelOpts & { kind?: string; plain?: boolean }, cmd: Command) => {
        if (!opts.project) usageError(cmd, 'secret get needs --project (or hush setup)');
        const client = clientFor(cmd);
        const org = await resolveOrg(client, opts.org);
        const one = await client.get<MaterialSecret & Record<string, unknown>>(
          `${orgPath(org)}/secrets/value`,
          { project: opts.project, env: opts.env, service: opts.service, name, kind: opts.kind },
        );
        if (globals(cmd).json) return printJson(one);
        const text =
          one.kind === 'env'
            ? (one.value ?? '')
            : one.kind === 'file'
              ? Buffer.from(one.contentBase64 ?? '', 'base64')
              : Object.entries(one.settings ?? {})
                  .map(([k, v]) => `${k}=${v}\n`)
                  .join('');
        process.stdout.write(text);
        const last = typeof text === 'string' ? text.at(-1) : String.fromCharCode(text.at(-1) ?? 0);
        if (!opts.plain && last !== '\n') process.stdout.write('\n');
      },
    );

  withLevel(
    secret
      .command('set <pairs...>')
      .description('Create or rotate env secrets by name at a level, in one transaction'),
  )
    .option('--assignee <email>', "the member's own secrets at the level")
    .option('--plain', 'create new ones as plain (readable) variables; existing ones keep theirs')
    .option('--dry-run', 'print what would be created, rotated or left; write nothing')
    .addHelpText('after', SET_HELP)
    .action(async (args: string[], opts: BulkOpts, cmd: Command) => {
      requireLevel(cmd, opts, 'secret set');
      const entries = await pairs(cmd, args);
      const client = clientFor(cmd);
      const org = await resolveOrg(client, opts.org);
      const summary = await client.post<SetSummary>(`${orgPath(org)}/secrets/set`, {
        ...levelFields(opts),
        assignee: opts.assignee,
        sensitivity: opts.plain ? 'plain' : undefined,
        dryRun: opts.dryRun || undefined,
        secrets: entries,
      });
      output(!!globals(cmd).json, summary, () => printSummary(summary));
      printWarnings(summary);
    });
}

/** `hush import` and `hush export`. */
export function registerImportExportCommands(program: Command): void {
  withLevel(
    program
      .command('import <file>')
      .description('Import env secrets from a dotenv, JSON or YAML file at a level'),
  )
    .addOption(
      new Option(
        '--format <format>',
        'the file format (default: by extension, else dotenv)',
      ).choices(['dotenv', 'json', 'yaml']),
    )
    .option('--assignee <email>', "the member's own secrets at the level")
    .option('--plain', 'create new ones as plain (readable) variables; existing ones keep theirs')
    .option('--dry-run', 'print what would be created, rotated or left; write nothing')
    .addHelpText('after', IMPORT_HELP)
    .action(async (file: string, opts: BulkOpts & { format?: string }, cmd: Command) => {
      requireLevel(cmd, opts, 'import');
      let text: string;
      try {
        text = file === '-' ? await readStdin() : fs.readFileSync(file, 'utf8');
      } catch {
        throw new CliError(`cannot read ${file}`);
      }
      const client = clientFor(cmd);
      const org = await resolveOrg(client, opts.org);
      const summary = await client.post<SetSummary>(`${orgPath(org)}/secrets/import`, {
        ...levelFields(opts),
        assignee: opts.assignee,
        sensitivity: opts.plain ? 'plain' : undefined,
        dryRun: opts.dryRun || undefined,
        format: formatOf(file, opts.format),
        text,
      });
      output(!!globals(cmd).json, summary, () => printSummary(summary));
      printWarnings(summary);
    });

  program
    .command('export')
    .description(
      "Print a context's resolved env values as dotenv, JSON, YAML or shell, or through a template (service tokens; audited as ACCESS)",
    )
    .option('--org <slug>', 'organization')
    .option('--project <slug>', 'project (default: the directory, see hush setup)')
    .option('--env <slug>', 'environment')
    .option('--service <name>', 'service (resolves through its environment)')
    .addOption(
      new Option('--format <format>', 'output format')
        .choices(['dotenv', 'json', 'yaml', 'shell'])
        .default('dotenv'),
    )
    .option('--template <file>', 'render this file instead: {{ NAME }}, {{ NAME | shell }}, …')
    .option('-o, --output <file>', 'write to this file (mode 0600) instead of standard output')
    .addHelpText(
      'after',
      `
Only env values are exported (file and pgservice secrets are named on stderr and left out).
--format shell writes export NAME='value' lines, quoted for eval:
  eval "$(hush export --format shell --project maps --env prod)"
A template copies its text and replaces {{ NAME }} by the value; | shell, | json and | dotenv
quote it for that syntax; {{{{ writes {{. An unknown name is an error. Nothing else runs.
`,
    )
    .action(
      async (
        opts: LevelOpts & { format: string; template?: string; output?: string },
        cmd: Command,
      ) => {
        if (!opts.project) usageError(cmd, 'export needs --project (or hush setup)');
        const client = clientFor(cmd);
        const org = await resolveOrg(client, opts.org);
        const secrets = await client.get<MaterialSecret[]>(`${orgPath(org)}/runtime/secrets`, {
          project: opts.project,
          env: opts.env,
          service: opts.service,
        });
        const values = secrets.flatMap((s) =>
          s.kind === 'env' ? [{ name: s.name, value: s.value ?? '' }] : [],
        );
        const left = secrets.filter((s) => s.kind !== 'env').map((s) => `${s.name} (${s.kind})`);
        if (left.length > 0)
          process.stderr.write(shown`hush: not exported (not env values): ${left.join(', ')}\n`);
        const { formatExport, renderTemplate } = await import('../export-format.js');
        const text = opts.template
          ? renderTemplate(
              readFileArg(opts.template).toString('utf8'),
              new Map(values.map((v) => [v.name, v.value])),
            )
          : formatExport(values, opts.format as 'dotenv' | 'json' | 'yaml' | 'shell');
        if (!opts.output) {
          process.stdout.write(text);
          return;
        }
        // Written beside the target with mode 0600 from its first byte, then moved over it.
        const tmp = `${opts.output}.${process.pid}.tmp`;
        try {
          fs.writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
          fs.renameSync(tmp, opts.output);
        } catch (error) {
          fs.rmSync(tmp, { force: true });
          throw new CliError(
            `cannot write ${opts.output} (${(error as NodeJS.ErrnoException).code})`,
          );
        }
        process.stderr.write(shown`hush: wrote ${values.length} values to ${opts.output}\n`);
      },
    );
}
