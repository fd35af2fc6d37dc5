import type { Command } from 'commander';

import { ApiClient, CliError } from '../api-client.js';
import { globals } from '../context.js';
import { deleteCredentials, readCredentials, writeCredentials } from '../credentials.js';
import { output, printJson, promptHidden, readStdin, shown } from '../output.js';

interface Whoami {
  kind: string;
  email?: string;
  name?: string;
  organizations: { slug?: string; id: string; role: string }[];
}

/** `hush login`, `hush logout`, `hush whoami`. */
export function registerSessionCommands(program: Command): void {
  program
    .command('login')
    .description(
      'Sign in (e-mail and password, or an API token) and save the credential (mode 0600)',
    )
    .option('--email <email>', 'your e-mail address')
    .option('--password-stdin', 'read the password from standard input')
    .option('--token <token>', 'save an API token instead of signing in with a password')
    .action(
      async (opts: { email?: string; passwordStdin?: boolean; token?: string }, cmd: Command) => {
        const { url, json } = globals(cmd);
        if (opts.token) {
          const client = new ApiClient({ url, token: opts.token });
          const me = await client.get<Whoami>('/auth/whoami');
          writeCredentials({ url: client.baseUrl, token: opts.token, email: me.email });
          output(!!json, me, () =>
            process.stdout.write(
              shown`Signed in to ${client.baseUrl} as ${me.email ?? `token ${me.name}`}\n`,
            ),
          );
          return;
        }
        if (!opts.email) throw new CliError('give --email (or --token)');
        const password = opts.passwordStdin ? await readStdin() : await promptHidden('Password: ');
        const client = new ApiClient({ url, token: '' });
        const session = await client.post<{
          token: string;
          expiresAt: string;
          user: { email: string };
        }>('/auth/login', {
          email: opts.email,
          password,
        });
        writeCredentials({ url: client.baseUrl, token: session.token, email: session.user.email });
        output(
          !!json,
          { user: session.user, expiresAt: session.expiresAt, url: client.baseUrl },
          () =>
            process.stdout.write(shown`Signed in to ${client.baseUrl} as ${session.user.email}\n`),
        );
      },
    );

  program
    .command('logout')
    .description('Revoke the saved session on the server and forget it locally')
    .action(async (_opts: unknown, cmd: Command) => {
      const saved = readCredentials();
      if (saved) {
        try {
          await new ApiClient({ url: saved.url, token: saved.token }).post('/auth/logout');
        } finally {
          deleteCredentials();
        }
      }
      if (globals(cmd).json) printJson({ signedOut: true });
      else process.stdout.write('Signed out\n');
    });

  program
    .command('whoami')
    .description('Show who the current credential belongs to')
    .action(async (_opts: unknown, cmd: Command) => {
      const { url, json } = globals(cmd);
      const me = await new ApiClient({ url }).get<Whoami>('/auth/whoami');
      output(!!json, me, () => {
        process.stdout.write(shown`${me.email ?? `token ${me.name}`}\n`);
        for (const org of me.organizations)
          process.stdout.write(shown`  ${org.slug ?? org.id}: ${org.role}\n`);
      });
    });
}
