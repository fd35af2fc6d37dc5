// The console's only way to the server: the REST API under /api/v1, with the session cookie
// that sign-in sets (HttpOnly, SameSite=Strict). Every call names the tool for the audit log.

import type { JobSandbox } from './types.js';

/** One field the API rejected, as named in `error.details.fields`. */
export interface FieldError {
  field: string;
  message: string;
}

/** An error answer of the API: `{ error: { code, message, details } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: FieldError[] = [],
    /** The one field an error other than a validation names (`details.field`: a taken name). */
    readonly field?: string,
  ) {
    super(message);
  }

  /** The message for a form field, matched with or without the `secret.` / `body.` prefix. */
  fieldMessage(...names: string[]): string | undefined {
    for (const f of this.fields) {
      const bare = f.field.replace(/^(body|secret|query)\./, '');
      if (names.includes(f.field) || names.includes(bare)) return f.message;
    }
    return undefined;
  }
}

type Listener = (reason: 'expired' | 'signed-out') => void;
const listeners = new Set<Listener>();

/** Subscribes to "the session is gone" (expired or revoked): the app sends the user to sign-in. */
export function onSessionLost(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function sessionLost(reason: 'expired' | 'signed-out') {
  for (const l of listeners) l(reason);
}

/** Sends one request; resolves with the parsed body (undefined for 204/304), throws ApiError. */
export async function api<T>(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
  extraHeaders: Record<string, string> = {},
): Promise<T> {
  const headers: Record<string, string> = { ...extraHeaders, 'x-hush-tool': 'console' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'the server did not answer; check that hush serve is running');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const parsed: unknown = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    const err = (parsed as { error?: { code?: string; message?: string; details?: unknown } })
      ?.error;
    const details = err?.details as { fields?: FieldError[]; field?: unknown } | undefined;
    const error = new ApiError(
      res.status,
      err?.code ?? 'HTTP_' + res.status,
      err?.message ?? res.statusText,
      details?.fields ?? [],
      typeof details?.field === 'string' ? details.field : undefined,
    );
    const signingIn = ['/auth/login', '/setup', '/invitations/'].some((p) => path.startsWith(p));
    if (res.status === 401 && !signingIn) {
      sessionLost(error.code === 'SESSION_EXPIRED' ? 'expired' : 'signed-out');
    }
    throw error;
  }
  return parsed as T;
}

/** Query string from the defined, non-empty entries. */
export function qs(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** Encodes one path segment. */
export const seg = encodeURIComponent;

let jobSandbox: Promise<JobSandbox> | undefined;

/**
 * How this server isolates jobs. It changes only when the server restarts, so the console asks
 * once per page load; a failed answer is not kept, the next caller asks again.
 */
export function getJobSandbox(): Promise<JobSandbox> {
  if (!jobSandbox) {
    const asked = api<JobSandbox>('GET', '/jobs/sandbox');
    jobSandbox = asked;
    asked.catch(() => {
      if (jobSandbox === asked) jobSandbox = undefined;
    });
  }
  return jobSandbox;
}
