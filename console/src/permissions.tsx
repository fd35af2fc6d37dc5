// What the caller may do, as the server's policy answers it (GET /orgs/:org/permissions): the
// console keeps no copy of the role table. A control whose action is not allowed is disabled
// with the reason as its tooltip, or replaced by a note saying why.

import { useEffect, useState } from 'react';

import { api, type ApiError, qs, seg } from './api.js';
import type { Permissions } from './types.js';
import { toApiError } from './ui.js';

/** How a refusal names each action: "Your role (DevOps) cannot create projects". */
const PHRASES: Record<string, string> = {
  'org:edit': 'rename the organization',
  'org:delete': 'delete the organization',
  'billing:manage': 'change the plan or the audit retention',
  'members:manage': 'manage members, invitations and roles',
  'ownership:transfer': 'transfer ownership',
  'project:read': 'read projects or organization-level secrets',
  'project:create': 'create projects',
  'project:edit': 'edit or delete this project',
  'environment:read': 'read environments, services, jobs or secrets',
  'environment:create': 'create environments or services',
  'environment:edit': 'edit or delete environments or services',
  'secrets:write': 'add, rotate or remove secrets',
  'jobs:run': 'run or cancel jobs',
  'jobs:shell': 'run ad-hoc commands',
  'audit:read': 'view audit logs',
  'tokens:manage': 'manage service tokens',
};

/** Where permissions are asked: the organization, or a project, one environment or one service of it. */
export interface PermissionLevel {
  project?: string | undefined;
  env?: string | undefined;
  service?: string | undefined;
}

/**
 * Where inside the level asked an action happens: one environment of a project-level answer
 * (a slug; null or absent: the level itself), or a new environment of a type (creating one).
 */
export type At = { env?: string | null | undefined } | { type: string };

// Answers shared by the components mounted at the same time (the page, its tabs, the frame):
// kept while one of them uses it, dropped with the last, and all dropped on refreshPermissions.
const entries = new Map<string, { promise: Promise<Permissions>; users: number }>();
const listeners = new Set<() => void>();

function acquire(path: string) {
  let entry = entries.get(path);
  if (!entry) {
    const created = { promise: api<Permissions>('GET', path), users: 0 };
    created.promise.catch(() => {
      if (entries.get(path) === created) entries.delete(path);
    });
    entries.set(path, created);
    entry = created;
  }
  entry.users++;
  return entry;
}

function release(path: string, entry: { users: number }) {
  entry.users--;
  if (entry.users <= 0 && entries.get(path) === entry) entries.delete(path);
}

/** Asks the server again everywhere: after a navigation, a role change or a transfer of ownership. */
export function refreshPermissions(): void {
  entries.clear();
  listeners.forEach((l) => l());
}

export interface PermissionView {
  /** Whether the server has answered. Until it has, every action counts as not allowed. */
  loaded: boolean;
  /** Why the server did not answer (an unknown project, say); every action stays not allowed. */
  error: ApiError | undefined;
  roleLabel: string;
  /** Whether the caller may list the organization's projects. */
  listProjects: boolean;
  can(action: string, at?: At): boolean;
  /** Why the action is not allowed ("Your role (DevOps) cannot create projects"); undefined when it is, or before the answer. */
  reason(action: string, at?: At): string | undefined;
  /** Props for the control of an action: disabled, with the reason as its tooltip, unless allowed. */
  gate(action: string, at?: At): { disabled: boolean; title: string | undefined };
}

function allowedAt(data: Permissions, at: At | undefined): readonly string[] {
  if (at && 'type' in at) return data.environmentTypes?.[at.type] ?? [];
  if (at?.env) return data.environments?.[at.env] ?? [];
  return data.allowed;
}

function where(at: At | undefined): string {
  if (at && 'type' in at) return ` of type ${at.type}`;
  return at?.env ? ` in environment ${at.env}` : '';
}

/**
 * The caller's permissions in an organization (`org` empty: none asked), or at a project, an
 * environment or a service of it. A project-level answer also covers each of its environments
 * (`can('jobs:run', { env: 'prod' })`) and new environments by type.
 */
export function usePermissions(org: string, level: PermissionLevel = {}): PermissionView {
  const path = org
    ? `/orgs/${seg(org)}/permissions${qs({ project: level.project, env: level.env, service: level.service })}`
    : null;
  const [state, setState] = useState<
    { path: string; data?: Permissions; error?: ApiError } | undefined
  >();
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    const listener = () => setGeneration((g) => g + 1);
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }, []);
  useEffect(() => {
    if (path === null) return;
    let live = true;
    const entry = acquire(path);
    entry.promise.then(
      (data) => live && setState({ path, data }),
      (error: unknown) => live && setState({ path, error: toApiError(error) }),
    );
    return () => {
      live = false;
      release(path, entry);
    };
  }, [path, generation]);
  const data = state?.path === path ? state.data : undefined;
  const error = state?.path === path ? state.error : undefined;
  const can = (action: string, at?: At) => (data ? allowedAt(data, at).includes(action) : false);
  const reason = (action: string, at?: At) =>
    data && !can(action, at)
      ? `Your role (${data.roleLabel}) cannot ${PHRASES[action] ?? action}${where(at)}`
      : undefined;
  return {
    loaded: data !== undefined,
    error,
    roleLabel: data?.roleLabel ?? '',
    listProjects: data?.listProjects ?? false,
    can,
    reason,
    gate: (action, at) => ({ disabled: !can(action, at), title: reason(action, at) }),
  };
}

/** A note saying why part of a page is not offered; nothing while the action is allowed. */
export function Refusal({ reason }: { reason: string | undefined }) {
  if (!reason) return null;
  return (
    <p className="notice refusal" data-testid="refusal">
      {reason}.
    </p>
  );
}
