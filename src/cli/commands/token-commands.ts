import type { Command } from 'commander';

import { CliError } from '../api-client.js';
import { clientFor, collect, globals, orgPath, resolveOrg } from '../context.js';
import { output, printTable, shown } from '../output.js';

type Row = Record<string, unknown>;

function days(expires: string | undefined): number | undefined {
  if (expires === undefined) return undefined;
  const m = /^(\d+)d?$/.exec(expires);
  if (!m?.[1]) throw new CliError('--expires: use a number of days, e.g. 30d');
  return Number(m[1]);
}

/** `hush token …`. */
export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('API tokens (shown once at creation)');
  token
    .command('create <name>')
    .description('Create a personal token (acts as you) or a service token (carries a role)')
    .option('--personal', 'a personal token acting as you')
    .option(
      '--role <role>',
      'role of a service token: Admin, DevOps, "Billing Manager", Viewer (any case, or as slugs: billing-manager) or a custom role',
    )
    .option('--project <slug>', 'limit a service token to this project (repeatable)', collect, [])
    .option(
      '--env <project/env>',
      'limit a service token to this environment (repeatable)',
      collect,
      [],
    )
    .option('--expires <days>', 'expire after N days, e.g. 30d')
    .option('--org <slug>', 'organization of a service token')
    .action(
      async (
        name: string,
        opts: {
          personal?: boolean;
          role?: string;
          project: string[];
          env: string[];
          expires?: string;
          org?: string;
        },
        cmd: Command,
      ) => {
        const client = clientFor(cmd);
        if (opts.personal === !!opts.role)
          throw new CliError('give exactly one of --personal or --role ROLE');
        const expiresInDays = days(opts.expires);
        const created = opts.personal
          ? await client.post<Row & { token: string }>('/me/tokens', { name, expiresInDays })
          : await client.post<Row & { token: string }>(
              `${orgPath(await resolveOrg(client, opts.org))}/tokens`,
              {
                name,
                role: opts.role,
                projects: opts.project,
                environments: opts.env,
                expiresInDays,
              },
            );
        output(!!globals(cmd).json, created, () =>
          process.stdout.write(
            shown`Created token ${name}. Copy it now, it is not shown again:\n${created.token}\n`,
          ),
        );
      },
    );
  token
    .command('list')
    .description('Live service tokens of the organization (or --personal: yours)')
    .option('--personal', 'your personal tokens')
    .option('--org <slug>', 'organization')
    .action(async (opts: { personal?: boolean; org?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      const rows = opts.personal
        ? await client.get<Row[]>('/me/tokens')
        : await client.get<Row[]>(`${orgPath(await resolveOrg(client, opts.org))}/tokens`);
      output(!!globals(cmd).json, rows, () =>
        printTable(rows, ['name', 'kind', 'role', 'createdAt', 'expiresAt']),
      );
    });
  token
    .command('revoke <name>')
    .description('Revoke a token; it stops working on the next request')
    .option('--personal', 'one of your personal tokens')
    .option('--org <slug>', 'organization')
    .action(async (name: string, opts: { personal?: boolean; org?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      await client.delete(
        opts.personal
          ? `/me/tokens/${encodeURIComponent(name)}`
          : `${orgPath(await resolveOrg(client, opts.org))}/tokens/${encodeURIComponent(name)}`,
      );
      output(!!globals(cmd).json, { revoked: name }, () =>
        process.stdout.write(shown`Revoked token ${name}\n`),
      );
    });
}
