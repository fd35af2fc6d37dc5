import { Command, CommanderError } from 'commander';

import { CliError } from './cli/api-client.js';
import { registerAuditCommands } from './cli/commands/audit-commands.js';
import { registerCompletionCommands } from './cli/commands/completion-commands.js';
import { registerConfigCommands } from './cli/commands/config-commands.js';
import { registerJobCommands } from './cli/commands/job-commands.js';
import { registerOrgCommands } from './cli/commands/org-commands.js';
import { registerProjectCommands } from './cli/commands/project-commands.js';
import { registerRoleCommands } from './cli/commands/role-commands.js';
import {
  registerReportCommand,
  registerRotationCommands,
} from './cli/commands/rotation-commands.js';
import { registerRunCommand } from './cli/commands/run-command.js';
import { registerImportExportCommands } from './cli/commands/secret-bulk-commands.js';
import { registerSecretCommands } from './cli/commands/secret-commands.js';
import { registerServerCommands } from './cli/commands/server-commands.js';
import { registerSessionCommands } from './cli/commands/session-commands.js';
import { registerSetupCommand } from './cli/commands/setup-command.js';
import { registerTokenCommands } from './cli/commands/token-commands.js';
import {
  type ContextLayers,
  contextLayers,
  dropStaleDefaults,
  fillContextOptions,
} from './cli/directory-context.js';
import { HushError } from './errors.js';
import { VERSION } from './version.js';

/** Builds the `hush` command tree. */
export function buildProgram(): Command {
  const program = new Command('hush')
    .description('Hush: self-hosted secrets for jobs that need credentials')
    .version(VERSION)
    .option(
      '--url <url>',
      'Hush server URL (HUSH_URL; default: saved login or http://127.0.0.1:8080)',
    )
    .option('--json', 'print JSON instead of tables')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerServerCommands(program);
  registerSessionCommands(program);
  registerSetupCommand(program);
  registerOrgCommands(program);
  registerProjectCommands(program);
  registerSecretCommands(program);
  registerImportExportCommands(program);
  registerJobCommands(program);
  registerRunCommand(program);
  registerTokenCommands(program);
  registerRotationCommands(program);
  registerReportCommand(program);
  registerRoleCommands(program);
  registerAuditCommands(program);
  registerConfigCommands(program);
  registerCompletionCommands(program);
  // Positional options keep the program's --version from swallowing `rollback --version N`;
  // every leaf command takes --json and --url itself, so they work after the subcommand too.
  program.enablePositionalOptions();
  const finish = (cmd: Command) => {
    cmd.exitOverride();
    if (cmd !== program && cmd.commands.length === 0) {
      if (!cmd.options.some((o) => o.long === '--json'))
        cmd.option('--json', 'print JSON instead of tables');
      if (!cmd.options.some((o) => o.long === '--url'))
        cmd.option('--url <url>', 'Hush server URL (HUSH_URL)');
    }
    cmd.commands.forEach(finish);
  };
  finish(program);
  withDirectoryContext(program);
  return program;
}

/**
 * The directory's context (`.hush.json`, HUSH_ORG/HUSH_PROJECT/HUSH_ENV/HUSH_SERVICE) fills the
 * context options of the leaf command about to parse (so that a required --project is met), and
 * after parsing, defaults the command line moved away from are dropped. `hush setup` reads the
 * file itself, so that it can show or rewrite a broken one.
 */
function withDirectoryContext(program: Command): void {
  let layers: ContextLayers | undefined;
  const visit = (cmd: Command) => {
    cmd.hook('preSubcommand', (_parent, sub) => {
      if (sub.commands.length > 0 || sub.name() === 'setup') return;
      layers ??= contextLayers();
      fillContextOptions(sub, layers);
    });
    cmd.commands.filter((c) => c.commands.length > 0).forEach(visit);
  };
  visit(program);
  program.hook('preAction', (_program, action) => {
    if (layers) dropStaleDefaults(action, layers);
  });
}

/** Whether an error is one Hush reports by its message alone (not an unexpected one). */
async function isExpected(error: unknown): Promise<boolean> {
  if (error instanceof CliError || error instanceof HushError) return true;
  // Only the server commands load the configuration (and zod with it); importing it here, on the
  // failure path only, keeps it out of every other command's start.
  const { ConfigError } = await import('./config.js');
  return error instanceof ConfigError;
}

/** Runs the CLI: one line on stderr and a non-zero exit for every failure. */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Usage errors (an unknown option, a missing argument) exit 2 like the CLI's own usage
      // refusals; --help and --version exit 0.
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    const message = (await isExpected(error))
      ? (error as Error).message
      : `unexpected error: ${(error as Error).message}`;
    if (message) process.stderr.write(`hush: ${message}\n`);
    if (error instanceof CliError)
      for (const line of error.lines) process.stderr.write(`  ${line}\n`);
    process.exitCode = error instanceof CliError ? error.exitCode : 1;
  }
}
