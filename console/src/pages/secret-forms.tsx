import { useId, useMemo, useState } from 'react';

import { ApiError, seg } from '../api.js';
import type { PgRotateBody, PgServiceSettingsView } from '../types.js';
import { ErrorNotice, Loading, SelectField, TextAreaField, TextField, useResource } from '../ui.js';
import { SENSITIVITY_LABELS, SSL_MODES } from '../vocabulary.js';

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
  passwordHint,
}: {
  value: PgFields;
  onChange: (v: PgFields) => void;
  error?: ApiError | undefined;
  withName?: boolean;
  passwordHint?: string | undefined;
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
        hint={passwordHint}
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

/** The simple editor's fields for a service's current settings: the password left empty. */
export function pgFieldsOf(settings: Record<string, string>): PgFields {
  const known = new Set(['host', 'port', 'dbname', 'user', 'password', 'sslmode']);
  const get = (k: string) => (Object.hasOwn(settings, k) ? (settings[k] ?? '') : '');
  return {
    name: '',
    host: get('host'),
    port: get('port'),
    dbname: get('dbname'),
    user: get('user'),
    password: '',
    sslmode: get('sslmode'),
    extra: Object.entries(settings)
      .filter(([k]) => !known.has(k))
      .map(([key, value]) => ({ key, value })),
  };
}

/**
 * What the edits change, as a partial rotation: the settings typed in anew (a password only
 * when one is typed: empty keeps it) and the ones emptied.
 */
export function pgPatch(initial: PgFields, edited: PgFields): PgRotateBody {
  const before = new Map(Object.entries(pgSettings(initial)));
  const after = new Map(Object.entries(pgSettings(edited)));
  const set: Record<string, string> = {};
  for (const [k, v] of after) if (before.get(k) !== v) set[k] = v;
  const unset = [...before.keys()].filter((k) => !after.has(k));
  return { kind: 'pgservice', set, unset };
}

/** A rotation that changes nothing yet. */
export const emptyPgPatch = (): PgRotateBody => ({ kind: 'pgservice', set: {}, unset: [] });

/** The API's `set.port` / `unset.0` fields as the editor's `settings.port`. */
function patchError(error: ApiError | undefined, body: PgRotateBody): ApiError | undefined {
  if (!error) return undefined;
  const fields = error.fields.map((f) => {
    const bare = f.field.replace(/^body\./, '');
    const set = /^set\.(.+)$/.exec(bare)?.[1];
    const unset = /^unset\.(\d+)$/.exec(bare)?.[1];
    const key = set ?? (unset === undefined ? undefined : body.unset[Number(unset)]);
    return key === undefined ? f : { ...f, field: `settings.${key}` };
  });
  return new ApiError(error.status, error.code, error.message, fields);
}

/**
 * The pgservice part of the Rotate dialog: the current settings filled in (read without the
 * password), the password empty meaning "keep it"; reports the partial rotation the edits make.
 */
export function PgRotateEditor({
  org,
  secretId,
  onChange,
  error,
}: {
  org: string;
  secretId: string;
  onChange: (body: PgRotateBody) => void;
  error?: ApiError | undefined;
}) {
  const current = useResource<PgServiceSettingsView>(
    `/orgs/${seg(org)}/secrets/${seg(secretId)}/settings`,
  );
  const initial = useMemo(
    () => (current.data ? pgFieldsOf(current.data.settings) : undefined),
    [current.data],
  );
  const [edited, setEdited] = useState<PgFields | undefined>();
  const [body, setBody] = useState<PgRotateBody>(emptyPgPatch);
  if (current.error) return <ErrorNotice error={current.error} />;
  if (!initial || !current.data) return <Loading what="the current settings" />;
  const hasPassword = current.data.withheld.includes('password');
  const others = current.data.withheld.filter((k) => k !== 'password');
  return (
    <>
      <p className="muted">
        Only what you change is stored anew; every other setting of version {current.data.version}{' '}
        is kept.{others.length > 0 && ` ${others.join(', ')} stays as it is.`}
      </p>
      <PgSimpleEditor
        value={edited ?? initial}
        withName={false}
        error={patchError(error, body)}
        passwordHint={
          hasPassword
            ? 'Leave empty to keep the current password.'
            : 'No password is set; type one to add it.'
        }
        onChange={(v) => {
          const next = pgPatch(initial, v);
          setEdited(v);
          setBody(next);
          onChange(next);
        }}
      />
    </>
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

/**
 * The secret/plain choice of an env or file secret, each saying what it means for jobs: named
 * by its word alone ("Secret"), described by the rest.
 */
export function Sensitivity({
  value,
  onChange,
}: {
  value: 'secret' | 'plain';
  onChange: (v: 'secret' | 'plain') => void;
}) {
  const id = useId();
  return (
    <fieldset className="radios">
      <legend>Sensitivity</legend>
      {(['secret', 'plain'] as const).map((choice) => (
        <label key={choice}>
          <input
            type="radio"
            name="sensitivity"
            checked={value === choice}
            onChange={() => onChange(choice)}
            aria-labelledby={`${id}-${choice}`}
            aria-describedby={`${id}-${choice}-means`}
          />
          <span id={`${id}-${choice}`}>{SENSITIVITY_LABELS[choice].name}</span>:{' '}
          <span id={`${id}-${choice}-means`}>{SENSITIVITY_LABELS[choice].means}</span>
        </label>
      ))}
    </fieldset>
  );
}
