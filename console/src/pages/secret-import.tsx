import { useId, useState } from 'react';

import { api, type ApiError, type FieldError, seg } from '../api.js';
import {
  ErrorNotice,
  SelectField,
  TableWrap,
  TextAreaField,
  TextField,
  useAction,
  UserText,
} from '../ui.js';
import type { LevelRef } from './secrets.js';

/** The formats POST /orgs/:org/secrets/import reads. */
type ImportFormat = 'dotenv' | 'json' | 'yaml';

/** What an import did (or, dry, would do) with one name: never its value. */
interface ImportOutcome {
  name: string;
  action: 'created' | 'rotated' | 'unchanged';
  id: string | null;
  version: number;
  sensitivity: 'secret' | 'plain';
  line?: number;
}

/** The answer of POST /orgs/:org/secrets/import. */
export interface ImportSummary {
  level: string;
  dryRun: boolean;
  created: number;
  rotated: number;
  unchanged: number;
  secrets: ImportOutcome[];
}

const FORMATS = [
  { value: 'dotenv', label: 'dotenv (NAME=value lines)' },
  { value: 'json', label: 'JSON (an object of names to strings)' },
  { value: 'yaml', label: 'YAML (a mapping of names to strings)' },
];

const WOULD: Record<ImportOutcome['action'], string> = {
  created: 'would create',
  rotated: 'would rotate',
  unchanged: 'unchanged',
};

/** The format a file name suggests: .json, .yaml or .yml, anything else (.env, .env.prod) dotenv. */
function formatOf(fileName: string): ImportFormat {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.json')) return 'json';
  if (lower.endsWith('.yaml') || lower.endsWith('.yml')) return 'yaml';
  return 'dotenv';
}

/** One problem as a sentence: import problems name their line already, the rest their field. */
function problemText(f: FieldError): string {
  const field = f.field.replace(/^body\./, '');
  if (field === 'text') return /^line \d+/.test(f.message) ? f.message : `The text ${f.message}`;
  if (/^secrets\.\d+\./.test(field)) return f.message;
  if (field === 'secrets') return `The text has no variables: ${f.message}`;
  return `${field}: ${f.message}`;
}

/** Every problem the server found, each on its own line; nothing was written. */
function ImportProblems({ error }: { error: ApiError | undefined }) {
  if (!error) return null;
  if (error.fields.length === 0) return <ErrorNotice error={error} />;
  const n = error.fields.length;
  return (
    <div className="notice error" role="alert" data-testid="import-problems">
      <p>
        {n === 1
          ? '1 problem, nothing was written:'
          : n >= 50
            ? 'At least 50 problems, nothing was written. The first 50:'
            : `${n} problems, nothing was written:`}
      </p>
      <ul>
        {error.fields.map((f, i) => (
          <li key={i}>
            <UserText text={problemText(f)} />
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * Import a dotenv, JSON or YAML text at one level: Preview asks the server with `dryRun` (names
 * and actions only), Import writes all of it or nothing. The text lives in this form's state
 * only, gone when the dialog closes; no value is shown anywhere else.
 */
export function ImportForm({
  org,
  level,
  levelName,
  onDone,
}: {
  org: string;
  level: LevelRef;
  /** How the level reads in a sentence: "environment prod". */
  levelName: string;
  onDone: (summary: ImportSummary) => void;
}) {
  const [text, setText] = useState('');
  const [format, setFormat] = useState<ImportFormat>('dotenv');
  const [plain, setPlain] = useState(false);
  const [preview, setPreview] = useState<ImportSummary | null>(null);
  const [readError, setReadError] = useState<string | undefined>();
  const { busy, error, setError, run } = useAction();
  const plainId = useId();

  // Any change makes the last preview stale, and its problems with it.
  const changed = () => {
    setPreview(null);
    setError(undefined);
  };
  const post = (dryRun: boolean) =>
    api<ImportSummary>('POST', `/orgs/${seg(org)}/secrets/import`, {
      project: level.project,
      env: level.env,
      service: level.service,
      sensitivity: plain ? 'plain' : 'secret',
      dryRun,
      format,
      text,
    });

  return (
    <form
      className="dialog-body"
      onSubmit={(e) => {
        e.preventDefault();
        void run(async () => {
          setPreview(null);
          onDone(await post(false));
        });
      }}
    >
      <p className="muted">
        Each variable is created at {levelName}, or rotated when its value differs; all of them or
        none.
      </p>
      <TextField
        label="File"
        type="file"
        hint="read here in the browser; .json, .yaml and .yml pick their format, anything else dotenv"
        error={readError}
        onChange={(e) => {
          const file = e.target.files?.[0];
          setReadError(undefined);
          if (!file) return;
          file.text().then(
            (read) => {
              setText(read);
              setFormat(formatOf(file.name));
              changed();
            },
            () => setReadError('the file could not be read'),
          );
        }}
      />
      <TextAreaField
        label="Text to import"
        rows={8}
        className="mono"
        spellCheck={false}
        autoComplete="off"
        value={text}
        placeholder={'# or paste them here\nAPI_KEY=…'}
        onChange={(e) => {
          setText(e.target.value);
          changed();
        }}
      />
      <SelectField
        label="Format"
        value={format}
        options={FORMATS}
        onChange={(e) => {
          setFormat(e.target.value as ImportFormat);
          changed();
        }}
      />
      <div className="field">
        <label>
          <input
            type="checkbox"
            checked={plain}
            aria-describedby={`${plainId}-hint`}
            onChange={(e) => {
              setPlain(e.target.checked);
              changed();
            }}
          />
          Plain (readable) variables
        </label>
        <small id={`${plainId}-hint`} className="hint">
          the variables this creates are shown to everyone who can read them and never redacted;
          existing ones keep theirs
        </small>
      </div>
      {!plain && (
        <p className="notice warn">
          After you import, a secret value cannot be shown again: Hush keeps it encrypted and only
          jobs and service tokens receive it.
        </p>
      )}
      <ImportProblems error={error} />
      {preview && <ImportPreview summary={preview} />}
      <div className="actions">
        <button
          type="button"
          disabled={busy || !text}
          onClick={() =>
            void run(async () => {
              setPreview(null);
              setPreview(await post(true));
            })
          }
        >
          Preview
        </button>
        <button type="submit" className="primary" disabled={busy || !text}>
          Import
        </button>
      </div>
    </form>
  );
}

/** What an import would do, name by name: its line, name, action and resulting version. */
function ImportPreview({ summary }: { summary: ImportSummary }) {
  return (
    <div data-testid="import-preview">
      <p role="status">
        At {summary.level}: {summary.created} would be created, {summary.rotated} rotated,{' '}
        {summary.unchanged} unchanged. Nothing is written until you import.
      </p>
      <TableWrap label="Import preview">
        <thead>
          <tr>
            <th>Line</th>
            <th>Name</th>
            <th>Result</th>
            <th>Version</th>
          </tr>
        </thead>
        <tbody>
          {summary.secrets.map((s) => (
            <tr key={s.name} data-import={s.name}>
              <td>{s.line ?? '—'}</td>
              <td>
                <code>
                  <UserText text={s.name} />
                </code>
              </td>
              <td>{WOULD[s.action]}</td>
              <td>v{s.version}</td>
            </tr>
          ))}
        </tbody>
      </TableWrap>
    </div>
  );
}
