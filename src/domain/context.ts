import type { OrganizationVersion } from '../store/audit-store.js';

/**
 * Which client made a request; the CLI and the console say so in the X-Hush-Tool header. `apply`
 * is set by the service itself for every change `hush apply` makes, whoever sends the file.
 */
export const TOOLS = ['console', 'cli', 'api', 'system', 'apply'] as const;
export type Tool = (typeof TOOLS)[number];

/** Who acts: a person (session or personal token), a service token, or Hush itself. */
export type Actor =
  | {
      kind: 'user';
      userId: string;
      email: string;
      /** Set when the person authenticated with a personal API token. */
      tokenId?: string;
      sessionId?: string;
    }
  | {
      kind: 'service-token';
      tokenId: string;
      name: string;
      orgId: string;
      role: string;
      scope: TokenScope;
      /**
       * The token's organization and the seq of its last change, as read by the statement that
       * authenticated this request (never kept beyond it).
       */
      organization?: OrganizationVersion;
    }
  /** Hush itself; `name` says which part of it (`rotation:NAME`), `system` when absent. */
  | { kind: 'system'; name?: string }
  | { kind: 'anonymous' };

/** Project/environment ids a service token is limited to; empty lists mean no limit. */
export interface TokenScope {
  projects: string[];
  environments: string[];
}

/** Everything a service call needs to know about the request behind it. */
export interface RequestContext {
  actor: Actor;
  tool: Tool;
  ip: string | null;
  requestId?: string;
}

/** The name an audit event records for an actor: an e-mail, a token name, or `system`. */
export function actorName(actor: Actor): string {
  switch (actor.kind) {
    case 'user':
      return actor.email;
    case 'service-token':
      return `token:${actor.name}`;
    case 'system':
      return actor.name ?? 'system';
    case 'anonymous':
      return 'anonymous';
  }
}

/** The id an audit event records for an actor (user id or token id). */
export function actorId(actor: Actor): string | null {
  switch (actor.kind) {
    case 'user':
      return actor.userId;
    case 'service-token':
      return actor.tokenId;
    default:
      return null;
  }
}

/** A context for background work done by Hush itself. */
export const SYSTEM_CONTEXT: RequestContext = Object.freeze({
  actor: Object.freeze({ kind: 'system' as const }),
  tool: 'system' as const,
  ip: null,
});

let clock: () => Date = () => new Date();

/**
 * Makes {@link now} read `next` until the returned function restores the real clock: tests move
 * time forward (old secret versions, idle tokens, due rotations) instead of sleeping.
 */
export function useClock(next: () => Date): () => void {
  const before = clock;
  clock = next;
  return () => {
    clock = before;
  };
}

/** The current time by the clock (the system's, unless a test moved it). */
export function currentTime(): Date {
  return clock();
}

/** Current time as the ISO-8601 text every table stores. */
export function now(): string {
  return clock().toISOString();
}
