import type { Command } from 'commander';

import { CliError } from '../api-client.js';
import { clientFor, collect, globals, orgPath, resolveOrg } from '../context.js';
import { output, printTable, shown } from '../output.js';

interface Role {
  name: string;
  grants: { project: string; type: string; level: string }[];
}

/** Parses `PROJECT:TYPE=LEVEL`. */
function parseGrant(text: string) {
  const m = /^([^:=]+):([a-z]+)=([a-z-]+)$/.exec(text);
  if (!m)
    throw new CliError(`--grant ${text}: use PROJECT:TYPE=LEVEL, e.g. maps:production=deploy`);
  return { project: m[1], type: m[2], level: m[3] };
}

/** `hush role …`. */
export function registerRoleCommands(program: Command): void {
  const role = program
    .command('role')
    .description('Custom roles: a level per project and environment type');
  role
    .command('create <name>')
    .description('Create a custom role (levels: none, read-only, deploy, manage, full)')
    .option(
      '--grant <PROJECT:TYPE=LEVEL>',
      'a grant; TYPE: production, staging, development or preview (repeatable)',
      collect,
      [],
    )
    .option('--org <slug>', 'organization')
    .action(async (name: string, opts: { grant: string[]; org?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      const created = await client.post<Role>(
        `${orgPath(await resolveOrg(client, opts.org))}/roles`,
        { name, grants: opts.grant.map(parseGrant) },
      );
      output(!!globals(cmd).json, created, () =>
        process.stdout.write(shown`Created role ${name} with ${created.grants.length} grants\n`),
      );
    });
  role
    .command('list')
    .description('Custom roles of the organization')
    .option('--org <slug>', 'organization')
    .action(async (opts: { org?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      const rows = await client.get<Role[]>(`${orgPath(await resolveOrg(client, opts.org))}/roles`);
      output(!!globals(cmd).json, rows, () =>
        printTable(
          rows.map((r) => ({
            ...r,
            grants: r.grants.map((g) => `${g.project}:${g.type}=${g.level}`).join(' '),
          })),
          ['name', 'grants'],
        ),
      );
    });
  role
    .command('show <name>')
    .description('A custom role and its grants')
    .option('--org <slug>', 'organization')
    .action(async (name: string, opts: { org?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      const row = await client.get<Role>(
        `${orgPath(await resolveOrg(client, opts.org))}/roles/${encodeURIComponent(name)}`,
      );
      output(!!globals(cmd).json, row, () => printTable(row.grants, ['project', 'type', 'level']));
    });
  role
    .command('delete <name>')
    .description('Delete a custom role nobody holds')
    .option('--org <slug>', 'organization')
    .action(async (name: string, opts: { org?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      await client.delete(
        `${orgPath(await resolveOrg(client, opts.org))}/roles/${encodeURIComponent(name)}`,
      );
      output(!!globals(cmd).json, { deleted: name }, () =>
        process.stdout.write(shown`Deleted role ${name}\n`),
      );
    });
}
