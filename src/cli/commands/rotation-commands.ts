import type { Command } from 'commander';

import { CliError } from '../api-client.js';
import { clientFor, globals, orgPath, resolveOrg } from '../context.js';
import { output, printTable, shown } from '../output.js';
import { levelFields, type LevelOpts, requireLevel, withLevel } from './secret-level.js';

type Row = Record<string, unknown>;

interface RotationRow extends Row {
  name: string;
  secret: { name: string; level: string };
  strategy: string;
  roles: string[] | null;
  every: number | null;
  at: string | null;
  paused: boolean;
  nextRunAt: string | null;
  lastRunAt: string | null;
  failures: number;
  lastError: string | null;
  runs?: Row[];
}

/** `30d` for 2,592,000 seconds: the largest unit that divides it. */
function durationText(seconds: number | null): string {
  if (seconds === null) return 'by hand';
  for (const [unit, size] of [
    ['w', 604_800],
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

function scheduleOf(r: RotationRow): string {
  return r.every === null
    ? 'by hand'
    : `every ${durationText(r.every)}${r.at ? ` at ${r.at} UTC` : ''}`;
}

function stateOf(r: RotationRow): string {
  if (r.paused) return 'paused';
  return r.failures > 0 ? `failing (${r.failures})` : 'ok';
}

const rotationPath = (org: string, name: string) =>
  `${orgPath(org)}/rotations/${encodeURIComponent(name)}`;

/** `hush rotation …`: automatic password rotation of pgservice secrets. */
export function registerRotationCommands(program: Command): void {
  const rotation = program
    .command('rotation')
    .description("Rotate pgservice secrets' passwords in PostgreSQL, by hand or on a schedule");

  withLevel(
    rotation
      .command('add <name>')
      .description(
        'Rotate the password of pg service SERVICE at a level: Hush sets a new one on its role through the admin pg service, then stores it as the next version',
      )
      .requiredOption('--secret <service>', 'the pg service to rotate (at the level given)')
      .requiredOption(
        '--admin-service <name>',
        'a pg service at that level or above whose user may ALTER ROLE (never given to jobs by this)',
      )
      .option(
        '--strategy <strategy>',
        'single (one role, new password) or dual (two roles alternate)',
        'single',
      )
      .option('--roles <a,b>', 'dual: the two login roles, one of them the one it uses now')
      .option('--every <duration>', 'run on a schedule: 30d, 12h, 2w (default: by hand only)')
      .option('--at <HH:MM>', 'with --every in days: the UTC time of day to run at')
      .option('--length <n>', 'characters of a new password (16-128, default 32)')
      .option('--alphabet <chars>', 'characters a new password draws from (default A-Z a-z 0-9)'),
  ).action(
    async (
      name: string,
      opts: LevelOpts & {
        secret: string;
        adminService: string;
        strategy: string;
        roles?: string;
        every?: string;
        at?: string;
        length?: string;
        alphabet?: string;
      },
      cmd: Command,
    ) => {
      requireLevel(cmd, opts, 'rotation add');
      if (opts.strategy !== 'single' && opts.strategy !== 'dual')
        throw new CliError('--strategy: single or dual');
      const length = opts.length === undefined ? undefined : Number(opts.length);
      if (length !== undefined && !Number.isInteger(length))
        throw new CliError('--length: a whole number of characters');
      const client = clientFor(cmd);
      const org = await resolveOrg(client, opts.org);
      const created = await client.post<RotationRow>(`${orgPath(org)}/rotations`, {
        name,
        secret: opts.secret,
        ...levelFields(opts),
        adminService: opts.adminService,
        strategy: opts.strategy,
        roles: opts.roles?.split(',').map((r) => r.trim()),
        every: opts.every,
        at: opts.at,
        length,
        alphabet: opts.alphabet,
      });
      output(!!globals(cmd).json, created, () =>
        process.stdout.write(
          shown`Added ${created.strategy} rotation ${name} of pg service ${created.secret.name} (${scheduleOf(created)}${created.nextRunAt ? `, next ${created.nextRunAt}` : ''})` +
            '\n',
        ),
      );
    },
  );

  rotation
    .command('list')
    .description('Rotations you may read, with their state')
    .option('--org <slug>', 'organization')
    .action(async (opts: { org?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      const org = await resolveOrg(client, opts.org);
      const rows = await client.get<RotationRow[]>(`${orgPath(org)}/rotations`);
      output(!!globals(cmd).json, rows, () =>
        printTable(
          rows.map((r) => ({
            ...r,
            secret: `${r.secret.name} (${r.secret.level})`,
            schedule: scheduleOf(r),
            state: stateOf(r),
          })),
          ['name', 'secret', 'strategy', 'schedule', 'state', 'lastRunAt', 'nextRunAt'],
        ),
      );
    });

  rotation
    .command('show <name>')
    .description('A rotation, its last error and its latest runs')
    .option('--org <slug>', 'organization')
    .action(async (name: string, opts: { org?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      const org = await resolveOrg(client, opts.org);
      const r = await client.get<RotationRow>(rotationPath(org, name));
      output(!!globals(cmd).json, r, () => {
        const lines = [
          `Rotation ${r.name}: ${r.strategy} rotation of pg service ${r.secret.name} (${r.secret.level})`,
          `  admin service: ${String(r.adminService)}`,
          ...(r.roles ? [`  roles: ${r.roles.join(', ')}`] : []),
          `  schedule: ${scheduleOf(r)}; state: ${stateOf(r)}`,
          `  last run: ${r.lastRunAt ?? 'never'}; next run: ${r.nextRunAt ?? '-'}`,
          ...(r.lastError ? [`  last error: ${r.lastError}`] : []),
        ];
        for (const l of lines) process.stdout.write(shown`${l}` + '\n');
        process.stdout.write('Runs (newest first):\n');
        printTable(r.runs ?? [], [
          'startedAt',
          'trigger',
          'requestedBy',
          'outcome',
          'role',
          'version',
          'error',
        ]);
      });
    });

  rotation
    .command('run <name>')
    .description('Rotate now; exits 1 with the reason when the database refuses (recorded)')
    .option('--org <slug>', 'organization')
    .action(async (name: string, opts: { org?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      const org = await resolveOrg(client, opts.org);
      const run = await client.post<Row & { role: string; version: number }>(
        `${rotationPath(org, name)}/run`,
        {},
      );
      output(!!globals(cmd).json, run, () =>
        process.stdout.write(
          shown`Rotated ${name}: role ${run.role} has a new password, stored as version ${run.version}` +
            '\n',
        ),
      );
    });

  for (const [verb, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    rotation
      .command(`${verb} <name>`)
      .description(
        paused ? 'Stop running it on its schedule' : 'Run it on its schedule again, from now',
      )
      .option('--org <slug>', 'organization')
      .action(async (name: string, opts: { org?: string }, cmd: Command) => {
        const client = clientFor(cmd);
        const org = await resolveOrg(client, opts.org);
        const r = await client.patch<RotationRow>(rotationPath(org, name), { paused });
        output(!!globals(cmd).json, r, () =>
          process.stdout.write(shown`${paused ? 'Paused' : 'Resumed'} rotation ${name}` + '\n'),
        );
      });
  }

  rotation
    .command('rm <name>')
    .description('Remove a rotation (the secret and its versions stay)')
    .option('--org <slug>', 'organization')
    .action(async (name: string, opts: { org?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      const org = await resolveOrg(client, opts.org);
      await client.delete(rotationPath(org, name));
      output(!!globals(cmd).json, { removed: name }, () =>
        process.stdout.write(shown`Removed rotation ${name}` + '\n'),
      );
    });
}

interface Report {
  organization: string;
  olderThanDays: number;
  inactiveDays: number;
  withheld: string[];
  secrets?: Row[];
  secretsTruncated?: boolean;
  idleTokens?: Row[];
  tokensWithoutExpiry?: Row[];
  inactiveMembers?: Row[];
  expiredInvitations?: Row[];
  rotations?: Row[];
}

/** `hush report`: the hygiene report. */
export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description(
      'Hygiene report: secrets not rotated lately, idle tokens, tokens without expiry, inactive members, expired invitations, failing or paused rotations',
    )
    .option('--older-than <duration>', 'a secret is old when its version is older than this', '90d')
    .option('--inactive <duration>', 'a token or member is idle after this long unused', '90d')
    .option('--org <slug>', 'organization')
    .action(async (opts: { olderThan: string; inactive: string; org?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      const org = await resolveOrg(client, opts.org);
      const query = new URLSearchParams({ olderThan: opts.olderThan, inactive: opts.inactive });
      const r = await client.get<Report>(`${orgPath(org)}/report?${query.toString()}`);
      output(!!globals(cmd).json, r, () => {
        const section = (title: string, rows: Row[] | undefined, columns: string[]) => {
          if (rows === undefined) return;
          process.stdout.write(shown`\n${title} (${rows.length})` + '\n');
          printTable(rows, columns);
        };
        process.stdout.write(shown`Hygiene report of ${r.organization}` + '\n');
        section(`Secrets not rotated for ${r.olderThanDays} days`, r.secrets, [
          'where',
          'name',
          'kind',
          'version',
          'ageDays',
          'lastRotatedBy',
        ]);
        if (r.secretsTruncated) process.stdout.write('(the oldest 1000 shown; --json for all)\n');
        section(`Tokens unused for ${r.inactiveDays} days or never`, r.idleTokens, [
          'name',
          'kind',
          'owner',
          'lastUsedAt',
          'createdAt',
        ]);
        section('Tokens without expiry', r.tokensWithoutExpiry, [
          'name',
          'kind',
          'owner',
          'createdAt',
        ]);
        section(`Members who have not signed in for ${r.inactiveDays} days`, r.inactiveMembers, [
          'email',
          'role',
          'lastSignInAt',
          'memberSince',
        ]);
        section('Invitations past expiry', r.expiredInvitations, ['email', 'role', 'expiresAt']);
        section('Rotations paused or failing', r.rotations, [
          'name',
          'secret',
          'paused',
          'failures',
          'lastError',
        ]);
        if (r.withheld.length > 0)
          process.stdout.write(
            shown`\nNot shown (your role may not read them): ${r.withheld.join(', ')}` + '\n',
          );
      });
    });
}
