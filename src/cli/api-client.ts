import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';

import { readCredentials } from './credentials.js';
import { printable } from './output.js';

/**
 * A failure the CLI prints as one line on stderr before exiting non-zero. Its message goes
 * through {@link printable}: it often quotes the server (an error's code and message, a redirect's
 * target, organization slugs), and a control character in it must not reach the terminal.
 */
export class CliError extends Error {
  /** Lines printed under the message, indented: each problem of a refused import, say. */
  readonly lines: string[];

  constructor(
    message: string,
    readonly exitCode = 1,
    readonly code?: string,
    lines: readonly string[] = [],
  ) {
    super(printable(message));
    this.name = 'CliError';
    this.lines = lines.map((l) => printable(l));
  }
}

export interface ClientOptions {
  url?: string | undefined;
  token?: string | undefined;
}

/** A successful answer whose body is read as it arrives (exports). */
export interface StreamedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Readable;
}

type Query = Record<string, string | number | undefined>;

const DEFAULT_URL = 'http://127.0.0.1:8080';

/**
 * The REST client every CLI command uses; the CLI never touches the database. It speaks
 * node:http (node:https for https URLs) rather than fetch: fetch's first request loads undici
 * and compiles its WebAssembly HTTP parser, which was the largest cost of `hush run` after the
 * server modules (~150 ms of a ~260 ms start).
 */
export class ApiClient {
  readonly baseUrl: string;
  private readonly token: string | undefined;

  constructor(options: ClientOptions = {}) {
    const saved = readCredentials();
    this.baseUrl = (options.url ?? process.env.HUSH_URL ?? saved?.url ?? DEFAULT_URL).replace(
      /\/+$/,
      '',
    );
    this.token =
      options.token ??
      (process.env.HUSH_TOKEN || undefined) ??
      (saved && (!options.url || options.url === saved.url) ? saved.token : undefined);
  }

  private async send(
    method: string,
    path: string,
    body?: unknown,
    query?: Query,
    extraHeaders: Record<string, string> = {},
  ): Promise<IncomingMessage> {
    const url = new URL(this.baseUrl + '/api/v1' + path);
    for (const [k, v] of Object.entries(query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { ...extraHeaders, 'x-hush-tool': 'cli' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    try {
      // https (and tls with it) is loaded only for an https server.
      const { request } =
        url.protocol === 'https:' ? await import('node:https') : await import('node:http');
      return await new Promise<IncomingMessage>((resolve, reject) => {
        const req = request(url, { method, headers }, resolve);
        req.once('error', reject);
        req.end(payload);
      });
    } catch (error) {
      throw new CliError(
        `cannot reach Hush at ${this.baseUrl} (${codeOf(error)}); is "hush serve" running? set --url or HUSH_URL`,
      );
    }
  }

  /** The whole body as text; a connection lost half-way is a CliError, not a short answer. */
  private async text(response: IncomingMessage): Promise<string> {
    response.setEncoding('utf8');
    let text = '';
    try {
      for await (const chunk of response) text += chunk as string;
    } catch (error) {
      throw new CliError(`lost the connection to Hush at ${this.baseUrl} (${codeOf(error)})`);
    }
    return text;
  }

  private parse(response: IncomingMessage, text: string): unknown {
    const status = response.statusCode ?? 0;
    if (status >= 300 && status < 400) {
      // fetch followed redirects but dropped the credential on the way; name the target instead.
      throw new CliError(
        `Hush at ${this.baseUrl} answered HTTP ${status} (redirect to ${response.headers.location ?? 'nowhere'}); set --url or HUSH_URL to the server's own address`,
      );
    }
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      throw new CliError(`unexpected answer from ${this.baseUrl} (HTTP ${status})`);
    }
    if (status < 200 || status > 299) {
      const err = (
        parsed as
          | {
              error?: {
                code?: string;
                message?: string;
                details?: {
                  fields?: { field: string; message: string }[];
                  suggestions?: unknown;
                };
              };
            }
          | undefined
      )?.error;
      let message = err?.message ?? `HTTP ${status}`;
      if (err?.code === 'UNAUTHENTICATED' || err?.code === 'SESSION_EXPIRED')
        message += ' (run "hush login")';
      message += didYouMean(err?.details?.suggestions);
      // Several problems at once (an import's bad lines): each on its own line under the message.
      const fields = Array.isArray(err?.details?.fields) ? err.details.fields : [];
      const lines =
        fields.length > 1
          ? fields.map((f) =>
              f.field === 'text' || f.field.startsWith('secrets.')
                ? f.message
                : `${f.field}: ${f.message}`,
            )
          : [];
      throw new CliError(`${err?.code ?? 'ERROR'}: ${message}`, 1, err?.code, lines);
    }
    return parsed;
  }

  /** Sends a request; a non-2xx answer becomes a CliError carrying the server's message. */
  async request<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
    const response = await this.send(method, path, body, query);
    if (response.statusCode === 204) {
      // Drained so that the kept-alive connection can serve the next request.
      response.resume();
      return undefined as T;
    }
    return this.parse(response, await this.text(response)) as T;
  }

  /** A GET whose successful body is read as a stream (exports); errors as {@link request}. */
  async stream(path: string, query?: Query): Promise<StreamedResponse> {
    const response = await this.send('GET', path, undefined, query);
    const status = response.statusCode ?? 0;
    if (status < 200 || status > 299) this.parse(response, await this.text(response));
    return { status, headers: response.headers, body: response };
  }

  /**
   * A conditional GET (If-None-Match, and `Prefer: wait=N` for a long poll): the body of a 200
   * with its ETag, or status 304 and no body. Errors as {@link request}.
   */
  async getConditional<T>(
    path: string,
    query: Query,
    headers: Record<string, string>,
  ): Promise<{ status: number; etag: string | undefined; body: T | undefined }> {
    const response = await this.send('GET', path, undefined, query, headers);
    const etag = response.headers.etag;
    if (response.statusCode === 304) {
      response.resume();
      return { status: 304, etag, body: undefined };
    }
    const body = this.parse(response, await this.text(response)) as T;
    return { status: response.statusCode ?? 0, etag, body };
  }

  get<T>(path: string, query?: Query) {
    return this.request<T>('GET', path, undefined, query);
  }
  post<T>(path: string, body: unknown = {}) {
    return this.request<T>('POST', path, body);
  }
  patch<T>(path: string, body: unknown) {
    return this.request<T>('PATCH', path, body);
  }
  delete<T>(path: string) {
    return this.request<T>('DELETE', path);
  }
}

/**
 * `; did you mean a, b or c?` for the names a not-found answer suggests (none: nothing). Only
 * strings are taken, and a few: the answer comes from the server.
 */
export function didYouMean(suggestions: unknown): string {
  if (!Array.isArray(suggestions)) return '';
  const names = suggestions.filter((s): s is string => typeof s === 'string' && s !== '');
  if (names.length === 0) return '';
  const shown = names.slice(0, 5);
  const last = shown.pop()!;
  return `; did you mean ${shown.length > 0 ? `${shown.join(', ')} or ${last}` : last}?`;
}

function codeOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message ?? 'network error';
}
