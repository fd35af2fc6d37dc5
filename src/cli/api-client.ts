import { readCredentials } from './credentials.js';

/** A failure the CLI prints as one line on stderr before exiting non-zero. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface ClientOptions {
  url?: string | undefined;
  token?: string | undefined;
}

const DEFAULT_URL = 'http://127.0.0.1:8080';

/** The REST client every CLI command uses; the CLI never touches the database. */
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
      process.env.HUSH_TOKEN ??
      (saved && (!options.url || options.url === saved.url) ? saved.token : undefined);
  }

  private async send(
    method: string,
    path: string,
    body?: unknown,
    query?: Record<string, string | number | undefined>,
  ): Promise<Response> {
    const url = new URL(this.baseUrl + '/api/v1' + path);
    for (const [k, v] of Object.entries(query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { 'x-hush-tool': 'cli' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? 'network error';
      throw new CliError(
        `cannot reach Hush at ${this.baseUrl} (${cause}); is "hush serve" running? set --url or HUSH_URL`,
      );
    }
  }

  private parse(response: Response, text: string): unknown {
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      throw new CliError(`unexpected answer from ${this.baseUrl} (HTTP ${response.status})`);
    }
    if (!response.ok) {
      const err = (
        parsed as
          | {
              error?: {
                code?: string;
                message?: string;
                details?: { fields?: { field: string; message: string }[] };
              };
            }
          | undefined
      )?.error;
      let message = err?.message ?? `HTTP ${response.status}`;
      if (err?.code === 'UNAUTHENTICATED' || err?.code === 'SESSION_EXPIRED')
        message += ' (run "hush login")';
      throw new CliError(`${err?.code ?? 'ERROR'}: ${message}`, 1, err?.code);
    }
    return parsed;
  }

  /** Sends a request; a non-2xx answer becomes a CliError carrying the server's message. */
  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    query?: Record<string, string | number | undefined>,
  ): Promise<T> {
    const response = await this.send(method, path, body, query);
    if (response.status === 204) return undefined as T;
    return this.parse(response, await response.text()) as T;
  }

  /** A GET whose successful body is read as a stream (exports); errors as {@link request}. */
  async stream(
    path: string,
    query?: Record<string, string | number | undefined>,
  ): Promise<Response & { body: ReadableStream<Uint8Array> }> {
    const response = await this.send('GET', path, undefined, query);
    if (!response.ok || !response.body) this.parse(response, await response.text());
    return response as Response & { body: ReadableStream<Uint8Array> };
  }

  get<T>(path: string, query?: Record<string, string | number | undefined>) {
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
