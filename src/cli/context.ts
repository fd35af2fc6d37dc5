import type { Command } from 'commander';

import { ApiClient, CliError } from './api-client.js';
import { printable } from './output.js';

export interface GlobalOptions {
  url?: string;
  json?: boolean;
}

/** The global options (--url, --json) of any command. */
export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/** A REST client for the command's --url / HUSH_URL and saved or HUSH_TOKEN credential. */
export function clientFor(cmd: Command): ApiClient {
  return new ApiClient({ url: globals(cmd).url });
}

/** The organization slug: --org, HUSH_ORG, or the caller's only organization. */
export async function resolveOrg(client: ApiClient, org: string | undefined): Promise<string> {
  const chosen = org ?? process.env.HUSH_ORG;
  if (chosen) return chosen;
  const orgs = await client.get<{ slug: string }[]>('/orgs');
  if (orgs.length === 1 && orgs[0]) return orgs[0].slug;
  if (orgs.length === 0)
    throw new CliError('you belong to no organization; create one with "hush org create SLUG"');
  throw new CliError(
    `you belong to ${orgs.length} organizations; choose one with --org (${orgs.map((o) => o.slug).join(', ')})`,
  );
}

/** Path segment for an organization. */
export function orgPath(org: string): string {
  return `/orgs/${encodeURIComponent(org)}`;
}

/** Path segment for a project of an organization. */
export function projectPath(org: string, project: string): string {
  return `${orgPath(org)}/projects/${encodeURIComponent(project)}`;
}

/**
 * Stops the command with a usage error, reported as commander reports one (`error: …` and a
 * pointer to --help on stderr, {@link printable}: it may quote an argument) with exit code 2:
 * the command line, not the server, is wrong.
 */
export function usageError(cmd: Command, message: string): never {
  cmd.error(`error: ${printable(message)}`, { exitCode: 2, code: 'hush.usage' });
}

/** Collects a repeatable option into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
