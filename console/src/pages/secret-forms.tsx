import { useState } from 'react';

import type { ApiError } from '../api.js';
import { SelectField, TextAreaField, TextField } from '../ui.js';
import { SSL_MODES } from '../vocabulary.js';

/** The simple pg_service editor's state: the usual keywords plus extra key/value pairs. */
export interface PgFields {
  name: string;
  dbname: string;
  user: string;
  password: string;
  host: string;
  port: string;
  sslmode: string;
  extra: { key: string; value: string }[];
}

export const emptyPg = (): PgFields => ({
  name: '',
  dbname: '',
  user: '',
  password: '',
  host: '',
  port: '5432',
  sslmode: '',
  extra: [],
});

/** The settings map the API takes (empty fields left out). */
export function pgSettings(pg: PgFields): Record<string, string> {
  const settings: Record<string, string> = {};
  const put = (k: string, v: string) => {
    if (k.trim() && v !== '') settings[k.trim()] = v;
  };
  put('host', pg.host);
  put('port', pg.port);
  put('dbname', pg.dbname);
  put('user', pg.user);
  put('password', pg.password);
  put('sslmode', pg.sslmode);
  for (const e of pg.extra) put(e.key, e.value);
  return settings;
}

/** The same service as pg_service.conf text, for switching to the advanced editor. */
export function pgConfText(pg: PgFields): string {
  const lines = Object.entries(pgSettings(pg)).map(([k, v]) => `${k}=${v}`);
  return pg.name || lines.length ? `[${pg.name}]\n${lines.join('\n')}\n` : '';
}

function settingError(error: ApiError | undefined, key: string) {
  return error?.fieldMessage(`settings.${key}`, key);
}

export function PgSimpleEditor({
  value,
  onChange,
  error,
  withName = true,
}: {
  value: PgFields;
  onChange: (v: PgFields) => void;
  error?: ApiError | undefined;
  withName?: boolean;
}) {
  const set = (patch: Partial<PgFields>) => onChange({ ...value, ...patch });
  return (
    <fieldset className="grid2">
      <legend>Connection</legend>
      {withName && (
        <TextField
          label="Service name"
          value={value.name}
          required
          onChange={(e) => set({ name: e.target.value })}
          hint="the [section] name: psql service=NAME"
          error={error?.fieldMessage('name')}
        />
      )}
      <TextField
        label="Database name"
        value={value.dbname}
        onChange={(e) => set({ dbname: e.target.value })}
        error={settingError(error, 'dbname')}
      />
      <TextField
        label="User"
        value={value.user}
        autoComplete="off"
        onChange={(e) => set({ user: e.target.value })}
        error={settingError(error, 'user')}
      />
      <TextField
        label="Password"
        type="password"
        autoComplete="new-password"
        value={value.password}
        onChange={(e) => set({ password: e.target.value })}
        error={settingError(error, 'password')}
      />
      <TextField
        label="Host"
        value={value.host}
        onChange={(e) => set({ host: e.target.value })}
        error={settingError(error, 'host')}
      />
      <TextField
        label="Port"
        inputMode="numeric"
        value={value.port}
        onChange={(e) => set({ port: e.target.value })}
        error={settingError(error, 'port')}
      />
      <SelectField
        label="SSL mode"
        value={value.sslmode}
        onChange={(e) => set({ sslmode: e.target.value })}
        options={[{ value: '', label: '(libpq default)' }, ...SSL_MODES]}
        error={settingError(error, 'sslmode')}
      />
      {value.extra.map((pair, i) => (
        <div className="extra-pair" key={i}>
          <TextField
            label={`Extra field ${i + 1} name`}
            value={pair.key}
            onChange={(e) =>
              set({
                extra: value.extra.map((p, j) => (j === i ? { ...p, key: e.target.value } : p)),
              })
            }
            error={pair.key ? settingError(error, pair.key) : undefined}
          />
          <TextField
            label={`Extra field ${i + 1} value`}
            value={pair.value}
            onChange={(e) =>
              set({
                extra: value.extra.map((p, j) => (j === i ? { ...p, value: e.target.value } : p)),
              })
            }
          />
          <button
            type="button"
            className="link"
            aria-label={`Remove extra field ${i + 1}`}
            onClick={() => set({ extra: value.extra.filter((_, j) => j !== i) })}
          >
            Remove
          </button>
        </div>
      ))}
      <div className="full">
        <button
          type="button"
          onClick={() => set({ extra: [...value.extra, { key: '', value: '' }] })}
        >
          Add extra pgservice field
        </button>
      </div>
    </fieldset>
  );
}

/** Reads a chosen file as base64. */
export function readFileBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onerror = () => reject(new Error(`could not read ${file.name}`));
    reader.onload = () => {
      const url = reader.result as string;
      resolve(url.slice(url.indexOf(',') + 1));
    };
    reader.readAsDataURL(file);
  });
}

/** UTF-8 text as base64. */
export function textBase64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** A file's content: typed in, or uploaded from disk. */
export function FileContent({
  onChange,
  error,
}: {
  onChange: (c: { base64: string; fileName?: string } | null) => void;
  error?: string | undefined;
}) {
  const [mode, setMode] = useState<'text' | 'upload'>('text');
  return (
    <fieldset>
      <legend>Content</legend>
      <div className="segmented" role="group" aria-label="Content source">
        <button type="button" aria-pressed={mode === 'text'} onClick={() => setMode('text')}>
          Type it
        </button>
        <button type="button" aria-pressed={mode === 'upload'} onClick={() => setMode('upload')}>
          Upload a file
        </button>
      </div>
      {mode === 'text' ? (
        <TextAreaField
          label="File content"
          rows={5}
          spellCheck={false}
          error={error}
          onChange={(e) => onChange({ base64: textBase64(e.target.value) })}
        />
      ) : (
        <TextField
          label="File to upload"
          type="file"
          error={error}
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (!file) return onChange(null);
            void readFileBase64(file).then((base64) => onChange({ base64, fileName: file.name }));
          }}
        />
      )}
    </fieldset>
  );
}
