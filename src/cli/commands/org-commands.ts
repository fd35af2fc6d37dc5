import type { Command } from 'commander';

import { ApiClient, CliError } from '../api-client.js';
import { clientFor, globals, orgPath, resolveOrg } from '../context.js';
import { writeCredentials } from '../credentials.js';
import { output, printTable, readStdin, shown } from '../output.js';

type Row = Record<string, unknown>;

/** `hush org …` and `hush member …`. */
export function registerOrgCommands(program: Command): void {
  const org = program.command('org').description('Organizations');
  org
    .command('create <slug>')
    .description('Create an organization; you become its Owner')
    .option('--name <name>', 'display name')
    .action(async (slug: string, opts: { name?: string }, cmd: Command) => {
      const created = await clientFor(cmd).post<Row>('/orgs', { slug, name: opts.name });
      output(!!globals(cmd).json, created, () =>
        process.stdout.write(shown`Created organization ${slug}\n`),
      );
    });
  org
    .command('list')
    .description('Organizations you belong to')
    .action(async (_opts: unknown, cmd: Command) => {
      const rows = await clientFor(cmd).get<Row[]>('/orgs');
      output(!!globals(cmd).json, rows, () => printTable(rows, ['slug', 'name', 'role', 'plan']));
    });
  org
    .command('show [slug]')
    .description('Show an organization (default: your only one)')
    .action(async (slug: string | undefined, _opts: unknown, cmd: Command) => {
      const client = clientFor(cmd);
      const row = await client.get<Row>(orgPath(await resolveOrg(client, slug)));
      output(!!globals(cmd).json, row, () =>
        printTable([row], ['slug', 'name', 'plan', 'auditRetentionDays', 'createdAt']),
      );
    });
  org
    .command('retention <days>')
    .description(
      'Keep audit events this many days (1-36500), or "forever"; older ones are purged hourly (Owner, Admin, Billing Manager)',
    )
    .option('--org <slug>', 'organization')
    .action(async (days: string, opts: { org?: string }, cmd: Command) => {
      const value = days === 'forever' ? null : Number(days);
      if (value !== null && !(Number.isInteger(value) && value >= 1 && value <= 36500))
        throw new CliError(`retention must be whole days from 1 to 36500, or "forever": ${days}`);
      const client = clientFor(cmd);
      const row = await client.patch<Row>(
        `${orgPath(await resolveOrg(client, opts.org))}/billing`,
        {
          auditRetentionDays: value,
        },
      );
      output(!!globals(cmd).json, row, () =>
        process.stdout.write(
          value === null
            ? 'Audit events are kept forever\n'
            : `Audit events older than ${value} days will be purged\n`,
        ),
      );
    });
  org
    .command('delete <slug>')
    .description('Delete an organization with everything in it (Owner only)')
    .action(async (slug: string, _opts: unknown, cmd: Command) => {
      await clientFor(cmd).delete(orgPath(slug));
      output(!!globals(cmd).json, { deleted: slug }, () =>
        process.stdout.write(shown`Deleted organization ${slug}\n`),
      );
    });

  const member = program.command('member').description('Members and invitations');
  member
    .command('invite <email>')
    .description('Invite an e-mail address; prints the one-time invitation token')
    .requiredOption(
      '--role <role>',
      'Admin, DevOps, "Billing Manager", Viewer (any case, or as slugs: billing-manager) or a custom role',
    )
    .option('--org <slug>', 'organization (default: your only one)')
    .action(async (email: string, opts: { role: string; org?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      const slug = await resolveOrg(client, opts.org);
      const inv = await client.post<Row & { token: string }>(`${orgPath(slug)}/invitations`, {
        email,
        role: opts.role,
      });
      output(!!globals(cmd).json, inv, () =>
        process.stdout.write(
          shown`Invited ${String(inv.email)} as ${String(inv.role)}. Give them this one-time token (shown once):\n${inv.token}\nThey run: hush member accept TOKEN --password-stdin\n`,
        ),
      );
    });
  member
    .command('accept <token>')
    .description(
      'Accept an invitation: creates your account (or joins with your existing one) and signs in',
    )
    .option('--password-stdin', 'read the password from standard input')
    .action(async (token: string, _opts: unknown, cmd: Command) => {
      const { url, json } = globals(cmd);
      const password = await readStdin();
      const client = new ApiClient({ url, token: '' });
      const session = await client.post<{
        token: string;
        user: { email: string };
        expiresAt: string;
      }>('/invitations/accept', { token, password });
      writeCredentials({ url: client.baseUrl, token: session.token, email: session.user.email });
      output(!!json, { user: session.user, expiresAt: session.expiresAt }, () =>
        process.stdout.write(shown`Joined; signed in as ${session.user.email}\n`),
      );
    });
  member
    .command('list')
    .description('Members of the organization')
    .option('--org <slug>', 'organization')
    .action(async (opts: { org?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      const rows = await client.get<Row[]>(
        `${orgPath(await resolveOrg(client, opts.org))}/members`,
      );
      output(!!globals(cmd).json, rows, () => printTable(rows, ['email', 'role', 'joinedAt']));
    });
  member
    .command('set-role <email> <role>')
    .description(
      'Change a member\'s role: Admin, DevOps, "Billing Manager", Viewer (any case, or as slugs) or a custom role',
    )
    .option('--org <slug>', 'organization')
    .action(async (email: string, role: string, opts: { org?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      const row = await client.patch<Row>(
        `${orgPath(await resolveOrg(client, opts.org))}/members/${encodeURIComponent(email)}`,
        { role },
      );
      output(!!globals(cmd).json, row, () =>
        process.stdout.write(shown`${String(row.email)} is now ${String(row.role)}\n`),
      );
    });
  member
    .command('transfer-ownership <email>')
    .description('Make a member the Owner; you (the Owner) become an Admin')
    .option('--org <slug>', 'organization')
    .action(async (email: string, opts: { org?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      const row = await client.post<Row>(
        `${orgPath(await resolveOrg(client, opts.org))}/members/${encodeURIComponent(email)}/transfer-ownership`,
      );
      output(!!globals(cmd).json, row, () =>
        process.stdout.write(shown`${email} is now the Owner\n`),
      );
    });
  member
    .command('invitations')
    .description('Pending invitations')
    .option('--org <slug>', 'organization')
    .action(async (opts: { org?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      const rows = await client.get<Row[]>(
        `${orgPath(await resolveOrg(client, opts.org))}/invitations`,
      );
      output(!!globals(cmd).json, rows, () =>
        printTable(rows, ['id', 'email', 'role', 'expiresAt']),
      );
    });
  member
    .command('revoke-invitation <id>')
    .description('Revoke a pending invitation; its token stops working')
    .option('--org <slug>', 'organization')
    .action(async (id: string, opts: { org?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      await client.delete(
        `${orgPath(await resolveOrg(client, opts.org))}/invitations/${encodeURIComponent(id)}`,
      );
      output(!!globals(cmd).json, { revoked: id }, () =>
        process.stdout.write(shown`Revoked invitation ${id}\n`),
      );
    });
  member
    .command('remove <email>')
    .description('Remove a member from the organization')
    .option('--org <slug>', 'organization')
    .action(async (email: string, opts: { org?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      await client.delete(
        `${orgPath(await resolveOrg(client, opts.org))}/members/${encodeURIComponent(email)}`,
      );
      output(!!globals(cmd).json, { removed: email }, () =>
        process.stdout.write(shown`Removed ${email}\n`),
      );
    });
}
