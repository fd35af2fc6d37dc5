import type { Command } from 'commander';

import { clientFor, globals, orgPath, projectPath, resolveOrg } from '../context.js';
import { output, printTable, shown } from '../output.js';

type Row = Record<string, unknown>;

/** `hush project …`, `hush env …`, `hush service …`. */
export function registerProjectCommands(program: Command): void {
  const project = program.command('project').description('Projects');
  project
    .command('create <slug>')
    .description('Create a project')
    .option('--org <slug>', 'organization (default: your only one)')
    .option('--name <name>', 'display name')
    .action(async (slug: string, opts: { org?: string; name?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      const row = await client.post<Row>(
        `${orgPath(await resolveOrg(client, opts.org))}/projects`,
        { slug, name: opts.name },
      );
      output(!!globals(cmd).json, row, () =>
        process.stdout.write(shown`Created project ${slug}\n`),
      );
    });
  project
    .command('list')
    .description('Projects of the organization')
    .option('--org <slug>', 'organization')
    .action(async (opts: { org?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      const rows = await client.get<Row[]>(
        `${orgPath(await resolveOrg(client, opts.org))}/projects`,
      );
      output(!!globals(cmd).json, rows, () => printTable(rows, ['slug', 'name', 'createdAt']));
    });
  project
    .command('delete <slug>')
    .description('Delete a project with its environments and services')
    .option('--org <slug>', 'organization')
    .action(async (slug: string, opts: { org?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      await client.delete(projectPath(await resolveOrg(client, opts.org), slug));
      output(!!globals(cmd).json, { deleted: slug }, () =>
        process.stdout.write(shown`Deleted project ${slug}\n`),
      );
    });

  const env = program.command('env').description('Environments of a project');
  env
    .command('create <slug>')
    .description('Create an environment')
    .requiredOption('--project <slug>', 'project')
    .requiredOption('--type <type>', 'production, staging, development or preview')
    .option('--org <slug>', 'organization')
    .action(
      async (slug: string, opts: { project: string; type: string; org?: string }, cmd: Command) => {
        const client = clientFor(cmd);
        const row = await client.post<Row>(
          `${projectPath(await resolveOrg(client, opts.org), opts.project)}/environments`,
          { slug, type: opts.type },
        );
        output(!!globals(cmd).json, row, () =>
          process.stdout.write(
            shown`Created ${opts.type} environment ${slug} in ${opts.project}\n`,
          ),
        );
      },
    );
  env
    .command('list')
    .description('Environments of a project')
    .requiredOption('--project <slug>', 'project')
    .option('--org <slug>', 'organization')
    .action(async (opts: { project: string; org?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      const rows = await client.get<Row[]>(
        `${projectPath(await resolveOrg(client, opts.org), opts.project)}/environments`,
      );
      output(!!globals(cmd).json, rows, () => printTable(rows, ['slug', 'type', 'createdAt']));
    });
  env
    .command('delete <slug>')
    .description('Delete an environment')
    .requiredOption('--project <slug>', 'project')
    .option('--org <slug>', 'organization')
    .action(async (slug: string, opts: { project: string; org?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      await client.delete(
        `${projectPath(await resolveOrg(client, opts.org), opts.project)}/environments/${encodeURIComponent(slug)}`,
      );
      output(!!globals(cmd).json, { deleted: slug }, () =>
        process.stdout.write(shown`Deleted environment ${slug}\n`),
      );
    });

  const service = program.command('service').description('Services: job definitions of a project');
  service
    .command('create <name>')
    .description('Create a service')
    .requiredOption('--project <slug>', 'project')
    .requiredOption('--command <cmd>', 'command line, run with /bin/sh -c')
    .option('--env <slug>', 'environment the service belongs to')
    .option('--timeout <duration>', 'job timeout: seconds or 30s, 10m, 1h, 1d', '1h')
    .option('--working-dir <dir>', 'working directory of its jobs')
    .option('--org <slug>', 'organization')
    .action(
      async (
        name: string,
        opts: {
          project: string;
          command: string;
          env?: string;
          timeout: string;
          workingDir?: string;
          org?: string;
        },
        cmd: Command,
      ) => {
        const client = clientFor(cmd);
        const row = await client.post<Row>(
          `${projectPath(await resolveOrg(client, opts.org), opts.project)}/services`,
          {
            name,
            environment: opts.env,
            command: opts.command,
            timeout: opts.timeout,
            workingDir: opts.workingDir,
          },
        );
        output(!!globals(cmd).json, row, () =>
          process.stdout.write(shown`Created service ${name} in ${opts.project}\n`),
        );
      },
    );
  service
    .command('list')
    .description('Services of a project')
    .requiredOption('--project <slug>', 'project')
    .option('--org <slug>', 'organization')
    .action(async (opts: { project: string; org?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      const rows = await client.get<Row[]>(
        `${projectPath(await resolveOrg(client, opts.org), opts.project)}/services`,
      );
      output(!!globals(cmd).json, rows, () =>
        printTable(rows, ['name', 'environment', 'command', 'timeoutSeconds']),
      );
    });
  service
    .command('delete <name>')
    .description('Delete a service')
    .requiredOption('--project <slug>', 'project')
    .option('--org <slug>', 'organization')
    .action(async (name: string, opts: { project: string; org?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      await client.delete(
        `${projectPath(await resolveOrg(client, opts.org), opts.project)}/services/${encodeURIComponent(name)}`,
      );
      output(!!globals(cmd).json, { deleted: name }, () =>
        process.stdout.write(shown`Deleted service ${name}\n`),
      );
    });
}
