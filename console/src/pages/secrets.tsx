import { useState } from 'react';

import { api, qs, seg } from '../api.js';
import { Refusal, usePermissions } from '../permissions.js';
import type {
  Member,
  PgRotateBody,
  Rotation,
  RotationRun,
  Secret,
  SecretVersion,
} from '../types.js';
import {
  Age,
  ConfirmButton,
  Dialog,
  ErrorNotice,
  Loading,
  SelectField,
  shownText,
  TableWrap,
  TextAreaField,
  TextField,
  useAction,
  useResource,
  UserText,
} from '../ui.js';
import { KIND_LABELS } from '../vocabulary.js';
import { RotationCell, scheduleText, SetUpRotationForm } from './rotations.js';
import {
  emptyPg,
  emptyPgPatch,
  FileContent,
  pgConfText,
  type PgFields,
  PgRotateEditor,
  pgSettings,
  PgSimpleEditor,
  Sensitivity,
} from './secret-forms.js';
import { ImportForm, type ImportSummary } from './secret-import.js';

/** Where secrets are listed and added: the organization, or a project with an environment or service. */
export interface LevelRef {
  project?: string | undefined;
  env?: string | undefined;
  service?: string | undefined;
}

export function levelLabel(level: LevelRef): string {
  if (level.service) return `service ${level.service}`;
  if (level.env) return `environment ${level.env}`;
  if (level.project) return `project ${level.project}`;
  return 'the organization';
}

const CANNOT_SHOW_AGAIN =
  'After you save, a secret value cannot be shown again: Hush keeps it encrypted and only jobs and service tokens receive it.';

/** The Secrets tab at one level: list, add, rotate, history with rollback, remove. */
export function SecretsPanel({ org, level }: { org: string; level: LevelRef }) {
  const path = `/orgs/${seg(org)}/secrets${qs({ project: level.project, env: level.env, service: level.service })}`;
  const perms = usePermissions(org, level);
  // Listing organization-level secrets needs project:read, any other level environment:read.
  const reading = level.project ? 'environment:read' : 'project:read';
  const secrets = useResource<Secret[]>(perms.can(reading) ? path : null);
  const writing = perms.gate('secrets:write');
  const members = useResource<Member[]>(`/orgs/${seg(org)}/members`);
  const [adding, setAdding] = useState(false);
  const [importing, setImporting] = useState(false);
  const [rotating, setRotating] = useState<Secret | null>(null);
  const [historyOf, setHistoryOf] = useState<Secret | null>(null);
  const [flash, setFlash] = useState<string | undefined>();
  // Rotations are asked once the list holds a pg service, once per load of the page (and after
  // a run). A refusal only means the caller sees no rotation column.
  const rotations = useResource<Rotation[]>(
    secrets.data?.some((s) => s.kind === 'pgservice') ? `/orgs/${seg(org)}/rotations` : null,
  );
  const rotationOf = (s: Secret) =>
    s.kind === 'pgservice' ? rotations.data?.find((r) => r.secret.id === s.id) : undefined;
  // The column shows once the rotations are known: a rotation on its row, or Set up rotation.
  const withRotations =
    rotations.data !== undefined && (secrets.data ?? []).some((s) => s.kind === 'pgservice');
  const [settingUp, setSettingUp] = useState<Secret | null>(null);
  const rotationAction = useAction();
  const reloadRotations = () => {
    secrets.reload();
    rotations.reload();
  };
  const runRotation = (s: Secret, r: Rotation) =>
    void rotationAction.run(async () => {
      setFlash(undefined);
      try {
        const run = await api<RotationRun>(
          'POST',
          `/orgs/${seg(org)}/rotations/${seg(r.name)}/run`,
        );
        setFlash(
          `Rotated ${s.name} (rotation ${r.name}${run.role ? `, role ${run.role}` : ''}): version ${run.version ?? '?'} is current.`,
        );
      } finally {
        // A failed run is recorded too: its count and error show in the badge.
        reloadRotations();
      }
    });
  const pauseRotation = (r: Rotation, paused: boolean) =>
    void rotationAction.run(async () => {
      setFlash(undefined);
      await api<Rotation>('PATCH', `/orgs/${seg(org)}/rotations/${seg(r.name)}`, { paused });
      setFlash(
        paused
          ? `Paused rotation ${r.name}: it runs only when resumed.`
          : `Resumed rotation ${r.name}.`,
      );
      reloadRotations();
    });
  const removeRotation = async (r: Rotation) => {
    setFlash(undefined);
    await api('DELETE', `/orgs/${seg(org)}/rotations/${seg(r.name)}`);
    setFlash(`Removed rotation ${r.name}; the pg service ${r.secret.name} stays.`);
    reloadRotations();
  };
  // The admin service a rotation may use: another unassigned pg service of this level.
  const adminServicesFor = (s: Secret) =>
    (secrets.data ?? [])
      .filter((o) => o.kind === 'pgservice' && o.assignee === null && o.id !== s.id)
      .map((o) => o.name)
      .filter((name, i, all) => all.indexOf(name) === i);

  return (
    <div>
      <div className="toolbar">
        <p className="muted">Secrets stored at {levelLabel(level)}.</p>
        <div className="actions" style={{ margin: 0 }}>
          <button type="button" {...writing} onClick={() => setImporting(true)}>
            Import from .env
          </button>
          <button type="button" className="primary" {...writing} onClick={() => setAdding(true)}>
            Add a new secret
          </button>
        </div>
      </div>
      <Refusal reason={perms.reason(reading)} />
      {flash && (
        <p className="notice ok" role="status">
          {flash}
        </p>
      )}
      <ErrorNotice error={secrets.error} />
      <ErrorNotice error={rotations.error?.status === 403 ? undefined : rotations.error} />
      <ErrorNotice error={rotationAction.error} />
      {perms.loaded && !perms.can(reading) ? null : secrets.loading && !secrets.data ? (
        <Loading what="secrets" />
      ) : secrets.data?.length === 0 ? (
        <p className="empty">No secrets at this level yet.</p>
      ) : (
        <TableWrap label="Secrets">
          <thead>
            <tr>
              <th>Name</th>
              <th>Kind</th>
              <th>Level</th>
              <th>Assignee</th>
              <th>Preview</th>
              <th>Version</th>
              <th>Age</th>
              {withRotations && <th>Rotation</th>}
              <th>
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(secrets.data ?? []).map((s) => (
              <tr key={s.id} data-secret={s.name}>
                <td>
                  <code>{s.name}</code>
                  {s.fileName && (
                    <small className="muted">
                      {' '}
                      → <UserText text={s.fileName} />
                    </small>
                  )}
                </td>
                <td>{KIND_LABELS[s.kind] ?? s.kind}</td>
                <td>{s.level}</td>
                <td>{s.assignee ? <UserText text={s.assignee} /> : '—'}</td>
                <td>
                  <code className="preview">
                    <Preview secret={s} />
                  </code>
                </td>
                <td>v{s.version}</td>
                <td>
                  <Age iso={s.updatedAt} />
                </td>
                {withRotations && (
                  <td>
                    <RotationCell
                      secret={s}
                      rotation={rotationOf(s)}
                      writing={writing}
                      busy={rotationAction.busy}
                      onRun={runRotation}
                      onPause={pauseRotation}
                      onRemove={removeRotation}
                      onSetUp={setSettingUp}
                    />
                  </td>
                )}
                <td className="row-actions">
                  <button
                    type="button"
                    {...writing}
                    onClick={() => setRotating(s)}
                    aria-label={`Rotate ${s.name}`}
                  >
                    Rotate
                  </button>
                  <button
                    type="button"
                    onClick={() => setHistoryOf(s)}
                    aria-label={`History of ${s.name}`}
                  >
                    History
                  </button>
                  <ConfirmButton
                    label="Remove"
                    ariaLabel={`Remove ${s.name}`}
                    disabled={writing.disabled}
                    tooltip={writing.title}
                    className="danger"
                    danger
                    title={`Remove ${s.name}?`}
                    message={
                      <p>
                        This deletes <code>{s.name}</code> at {s.level} level with all {s.version}{' '}
                        versions. Jobs will no longer receive it. This cannot be undone.
                      </p>
                    }
                    confirmLabel="Remove secret"
                    onConfirm={async () => {
                      await api('DELETE', `/orgs/${seg(org)}/secrets/${seg(s.id)}`);
                      setFlash(`Removed ${s.name}.`);
                      secrets.reload();
                    }}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </TableWrap>
      )}
      <Dialog title="Add a new secret" open={adding} onClose={() => setAdding(false)} wide>
        <AddSecretForm
          org={org}
          level={level}
          members={members.data ?? []}
          onDone={(created) => {
            setAdding(false);
            const names = created.map((s) => s.name).join(', ');
            // A plain value is listed with the secret: only a secret one is gone for good.
            const hidden = created.some((s) => s.sensitivity === 'secret' && s.kind !== 'alias');
            const warnings = created.flatMap((s) => s.warnings ?? []);
            setFlash(
              `Saved ${names}.${hidden ? ' The value cannot be shown again.' : ''}${warnings.length > 0 ? ` Note: ${warnings.join('; ')}.` : ''}`,
            );
            secrets.reload();
          }}
        />
      </Dialog>
      <Dialog title="Import from .env" open={importing} onClose={() => setImporting(false)} wide>
        <ImportForm
          org={org}
          level={level}
          levelName={levelLabel(level)}
          onDone={(summary) => {
            setImporting(false);
            setFlash(importedText(summary));
            secrets.reload();
          }}
        />
      </Dialog>
      <Dialog
        title={`Rotate ${rotating?.name ?? ''}`}
        open={rotating !== null}
        onClose={() => setRotating(null)}
        wide
      >
        {rotating && (
          <RotateForm
            org={org}
            secret={rotating}
            onDone={(version) => {
              setFlash(`Rotated ${rotating.name}: version ${version} is current.`);
              setRotating(null);
              secrets.reload();
            }}
          />
        )}
      </Dialog>
      <Dialog
        title={`Set up rotation of ${settingUp?.name ?? ''}`}
        open={settingUp !== null}
        onClose={() => setSettingUp(null)}
        wide
      >
        {settingUp && (
          <SetUpRotationForm
            org={org}
            level={level}
            levelName={levelLabel(level)}
            secret={settingUp}
            adminServices={adminServicesFor(settingUp)}
            onDone={(r) => {
              setSettingUp(null);
              setFlash(
                `Set up rotation ${r.name} of ${r.secret.name} (${r.strategy}, ${scheduleText(r)}).`,
              );
              reloadRotations();
            }}
          />
        )}
      </Dialog>
      <Dialog
        title={`History of ${historyOf?.name ?? ''}`}
        open={historyOf !== null}
        onClose={() => setHistoryOf(null)}
        wide
      >
        {historyOf && (
          <History
            org={org}
            secret={historyOf}
            writing={writing}
            onRolledBack={(version) => {
              setFlash(`Rolled ${historyOf.name} back: version ${version} is current.`);
              setHistoryOf(null);
              secrets.reload();
            }}
          />
        )}
      </Dialog>
    </div>
  );
}

/** What an import did, in counts; a secret value it wrote cannot be shown again. */
function importedText(summary: ImportSummary): string {
  const n = summary.secrets.length;
  const hidden = summary.secrets.some(
    (s) => s.action !== 'unchanged' && s.sensitivity === 'secret',
  );
  return `Imported ${n === 1 ? '1 variable' : `${n} variables`} at ${summary.level}: ${summary.created} created, ${summary.rotated} rotated, ${summary.unchanged} unchanged.${hidden ? ' The values cannot be shown again.' : ''}`;
}

type Kind = 'env' | 'pgservice' | 'file' | 'alias';

function AddSecretForm({
  org,
  level,
  members,
  onDone,
}: {
  org: string;
  level: LevelRef;
  members: Member[];
  onDone: (created: Secret[]) => void;
}) {
  const [kind, setKind] = useState<Kind | null>(null);
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const [sensitivity, setSensitivity] = useState<'secret' | 'plain'>('secret');
  const [pg, setPg] = useState<PgFields>(emptyPg);
  const [pgMode, setPgMode] = useState<'simple' | 'advanced'>('simple');
  const [confText, setConfText] = useState('');
  const [fileName, setFileName] = useState('');
  const [content, setContent] = useState<{ base64: string; fileName?: string } | null>(null);
  const [assignee, setAssignee] = useState('');
  const [literal, setLiteral] = useState(false);
  const [exportEnv, setExportEnv] = useState(false);
  const [target, setTarget] = useState('');
  const { busy, error, run } = useAction();

  if (!kind) {
    return (
      <div className="dialog-body">
        <p id="kind-question">What kind of secret?</p>
        <div className="kind-choice" role="group" aria-labelledby="kind-question">
          <button type="button" onClick={() => setKind('env')}>
            <strong>Environment variable</strong>
            <small>NAME=value in the job&apos;s environment</small>
          </button>
          <button type="button" onClick={() => setKind('pgservice')}>
            <strong>pg_service</strong>
            <small>a PostgreSQL connection in pg_service.conf</small>
          </button>
          <button type="button" onClick={() => setKind('file')}>
            <strong>File</strong>
            <small>a file in the job&apos;s private directory</small>
          </button>
          <button type="button" onClick={() => setKind('alias')}>
            <strong>Alias</strong>
            <small>another name of the context, under a name a tool expects</small>
          </button>
        </div>
      </div>
    );
  }

  const body = () => {
    const where = {
      project: level.project,
      env: level.env,
      service: level.service,
      assignee: assignee || undefined,
    };
    switch (kind) {
      case 'env':
        return {
          ...where,
          secret: { kind, name, value, sensitivity, ...(literal ? { expand: false } : {}) },
        };
      case 'alias':
        return { ...where, secret: { kind, name, target } };
      case 'file':
        return {
          ...where,
          secret: {
            kind,
            name,
            fileName: fileName || content?.fileName || '',
            contentBase64: content?.base64 ?? '',
            sensitivity,
          },
        };
      case 'pgservice':
        return pgMode === 'simple'
          ? { ...where, secret: { kind, name: pg.name, settings: pgSettings(pg), exportEnv } }
          : { ...where, secret: { kind: 'pgservice-conf', text: confText, exportEnv } };
    }
  };

  const nameField = (hint: string) => (
    <TextField
      label="Name"
      value={name}
      required
      autoFocus
      onChange={(e) => setName(e.target.value)}
      hint={hint}
      error={error?.fieldMessage('name')}
    />
  );

  // Field errors sit next to their field; anything the form does not show goes in one notice.
  const shown =
    kind === 'env'
      ? ['name', 'value']
      : kind === 'alias'
        ? ['name', 'target']
        : kind === 'file'
          ? ['name', 'fileName', 'contentBase64']
          : pgMode === 'simple'
            ? ['name', 'settings', ...Object.keys(pgSettings(pg))]
            : ['text'];
  const unshown = error?.fields.filter((f) => {
    const bare = f.field.replace(/^secret\./, '').split('.')[0] ?? '';
    return bare !== 'assignee' && !shown.includes(bare);
  });
  const notice =
    error && (error.fields.length === 0 || unshown?.length)
      ? kind === 'pgservice' && pgMode === 'advanced' && error.fields.length === 0
        ? undefined
        : error
      : undefined;

  return (
    <form
      className="dialog-body"
      onSubmit={(e) => {
        e.preventDefault();
        void run(async () => {
          const created = await api<Secret[]>('POST', `/orgs/${seg(org)}/secrets`, body());
          onDone(created);
        });
      }}
    >
      <p className="muted">
        {KIND_LABELS[kind]} at {levelLabel(level)}.{' '}
        <button type="button" className="link" onClick={() => setKind(null)}>
          Change kind
        </button>
      </p>
      {kind === 'env' && (
        <>
          {nameField('capitals, digits and _, e.g. API_KEY')}
          <TextAreaField
            label="Value"
            rows={2}
            value={value}
            spellCheck={false}
            autoComplete="off"
            onChange={(e) => setValue(e.target.value)}
            hint="${NAME} takes another value of the job's context, ${org.NAME} the organization's, ${project.env.NAME} another environment's; $${ is a literal ${"
            error={error?.fieldMessage('value')}
          />
          <div className="field">
            <label>
              <input
                type="checkbox"
                checked={literal}
                onChange={(e) => setLiteral(e.target.checked)}
              />
              Keep ${'{'}…{'}'} as text (no references)
            </label>
          </div>
          <Sensitivity value={sensitivity} onChange={setSensitivity} />
        </>
      )}
      {kind === 'alias' && (
        <>
          {nameField('the name a tool expects, e.g. DATABASE_URL')}
          <TextField
            label="Stands for"
            value={target}
            required
            onChange={(e) => setTarget(e.target.value)}
            hint="a name of the job's context, e.g. HUSH_PG_MAIN_URL"
            error={error?.fieldMessage('target')}
          />
        </>
      )}
      {kind === 'pgservice' && (
        <>
          <div className="segmented" role="group" aria-label="Editor">
            <button
              type="button"
              aria-pressed={pgMode === 'simple'}
              onClick={() => setPgMode('simple')}
            >
              Simple editor
            </button>
            <button
              type="button"
              aria-pressed={pgMode === 'advanced'}
              onClick={() => {
                if (!confText) setConfText(pgConfText(pg));
                setPgMode('advanced');
              }}
            >
              Advanced editor
            </button>
          </div>
          {pgMode === 'simple' ? (
            <PgSimpleEditor value={pg} onChange={setPg} error={error} />
          ) : (
            <TextAreaField
              label="pg_service.conf"
              rows={10}
              spellCheck={false}
              value={confText}
              onChange={(e) => setConfText(e.target.value)}
              className="mono"
              hint="one or more [service] sections of key=value lines; each becomes one secret"
              error={
                error?.fieldMessage('text') ??
                (error && !error.fields.length ? error.message : undefined)
              }
            />
          )}
          <div className="field">
            <label>
              <input
                type="checkbox"
                checked={exportEnv}
                onChange={(e) => setExportEnv(e.target.checked)}
              />
              Also give jobs its HUSH_PG_* variables
            </label>
            <small className="hint">
              HUSH_PG_&lt;NAME&gt;_HOST, _PORT, _DBNAME, _USER, _PASSWORD, _SSLMODE and _URL, for
              tools that read no pg_service.conf
            </small>
          </div>
        </>
      )}
      {kind === 'file' && (
        <>
          {nameField('how jobs refer to it, e.g. TLS_CERT')}
          <TextField
            label="File name"
            value={fileName}
            onChange={(e) => setFileName(e.target.value)}
            placeholder={content?.fileName}
            hint="the name in the job's directory, e.g. client.pem"
            error={error?.fieldMessage('fileName')}
          />
          <FileContent
            onChange={setContent}
            error={error?.fieldMessage('contentBase64', 'content')}
          />
          <Sensitivity value={sensitivity} onChange={setSensitivity} />
        </>
      )}
      <SelectField
        label="Assign to member (optional)"
        value={assignee}
        onChange={(e) => setAssignee(e.target.value)}
        options={[
          { value: '', label: 'Nobody: everyone at this level' },
          ...members.map((m) => ({ value: m.email, label: shownText(m.email) })),
        ]}
        error={error?.fieldMessage('assignee')}
      />
      {kind !== 'alias' && (kind === 'pgservice' || sensitivity === 'secret') && (
        <p className="notice warn">{CANNOT_SHOW_AGAIN}</p>
      )}
      <ErrorNotice error={notice} />
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          Save secret
        </button>
      </div>
    </form>
  );
}

/** A list row as the API sends it: a plain environment variable carries its value. */
type ListedSecret = Secret & { value?: string };

const PREVIEW_CHARS = 60;

/** A plain value itself (its start when long), else the masked preview. */
function Preview({ secret }: { secret: ListedSecret }) {
  if (secret.sensitivity === 'plain' && secret.value !== undefined) {
    const chars = Array.from(secret.value); // by code point: a cut never splits a pair
    const shown =
      chars.length > PREVIEW_CHARS ? `${chars.slice(0, PREVIEW_CHARS).join('')}…` : secret.value;
    return <UserText text={shown} />;
  }
  return <>{secret.preview ?? (secret.sensitivity === 'secret' ? '••••••' : '')}</>;
}

function RotateForm({
  org,
  secret,
  onDone,
}: {
  org: string;
  secret: Secret;
  onDone: (version: number) => void;
}) {
  const [value, setValue] = useState('');
  const [pg, setPg] = useState<PgRotateBody>(emptyPgPatch);
  const [content, setContent] = useState<{ base64: string } | null>(null);
  const [confirming, setConfirming] = useState(false);
  const { busy, error, run } = useAction();
  const body = () =>
    secret.kind === 'env'
      ? { kind: 'env', value }
      : secret.kind === 'alias'
        ? { kind: 'alias', target: value }
        : secret.kind === 'file'
          ? { kind: 'file', contentBase64: content?.base64 ?? '' }
          : pg;
  return (
    <form
      className="dialog-body"
      onSubmit={(e) => {
        e.preventDefault();
        if (!confirming) return setConfirming(true);
        void run(async () => {
          const updated = await api<Secret>(
            'POST',
            `/orgs/${seg(org)}/secrets/${seg(secret.id)}/rotate`,
            body(),
          );
          onDone(updated.version);
        });
      }}
    >
      <p>
        Rotating stores version {secret.version + 1} of <code>{secret.name}</code>; version{' '}
        {secret.version} stays in its history for rollback.
      </p>
      {secret.kind === 'env' && (
        <TextAreaField
          label="New value"
          rows={2}
          value={value}
          autoFocus
          spellCheck={false}
          onChange={(e) => setValue(e.target.value)}
          error={error?.fieldMessage('value')}
        />
      )}
      {secret.kind === 'alias' && (
        <TextField
          label="Stands for"
          value={value}
          autoFocus
          required
          onChange={(e) => setValue(e.target.value)}
          error={error?.fieldMessage('target')}
        />
      )}
      {secret.kind === 'file' && (
        <FileContent onChange={setContent} error={error?.fieldMessage('contentBase64')} />
      )}
      {secret.kind === 'pgservice' && (
        <PgRotateEditor org={org} secretId={secret.id} onChange={setPg} error={error} />
      )}
      {secret.sensitivity === 'secret' && <p className="notice warn">{CANNOT_SHOW_AGAIN}</p>}
      <ErrorNotice error={error} />
      {confirming ? (
        <div className="actions confirm" role="alert">
          <span>Store the new value as version {secret.version + 1}?</span>
          <button type="button" onClick={() => setConfirming(false)}>
            Back
          </button>
          <button type="submit" className="primary" disabled={busy}>
            Yes, rotate
          </button>
        </div>
      ) : (
        <div className="actions">
          <button type="submit" className="primary">
            Rotate
          </button>
        </div>
      )}
    </form>
  );
}

function History({
  org,
  secret,
  writing,
  onRolledBack,
}: {
  org: string;
  secret: Secret;
  /** Whether the caller may roll back (a secret write): disabled, with the reason, if not. */
  writing: { disabled: boolean; title: string | undefined };
  onRolledBack: (v: number) => void;
}) {
  const versions = useResource<SecretVersion[]>(
    `/orgs/${seg(org)}/secrets/${seg(secret.id)}/history`,
  );
  return (
    <div className="dialog-body">
      <ErrorNotice error={versions.error} />
      {versions.loading && !versions.data ? (
        <Loading what="versions" />
      ) : (
        <TableWrap label="Versions">
          <thead>
            <tr>
              <th>Version</th>
              <th>Source</th>
              <th>By</th>
              <th>Tool</th>
              <th>When</th>
              <th>
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(versions.data ?? []).map((v) => (
              <tr key={v.version}>
                <td>
                  v{v.version}
                  {v.current && <strong> (current)</strong>}
                </td>
                <td>
                  {v.source === 'rollback' ? `rollback to v${v.fromVersion ?? '?'}` : v.source}
                </td>
                <td>
                  <UserText text={v.createdBy} />
                </td>
                <td>{v.tool}</td>
                <td>
                  <Age iso={v.createdAt} />
                </td>
                <td className="row-actions">
                  {!v.current && v.restorable && (
                    <ConfirmButton
                      label="Roll back"
                      ariaLabel={`Roll back to version ${v.version}`}
                      disabled={writing.disabled}
                      tooltip={writing.title}
                      title={`Roll back to version ${v.version}?`}
                      message={
                        <p>
                          The value of version {v.version} becomes current again as a new version;
                          nothing is deleted.
                        </p>
                      }
                      confirmLabel="Roll back"
                      onConfirm={async () => {
                        const updated = await api<Secret>(
                          'POST',
                          `/orgs/${seg(org)}/secrets/${seg(secret.id)}/rollback`,
                          { version: v.version },
                        );
                        onRolledBack(updated.version);
                      }}
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </TableWrap>
      )}
    </div>
  );
}
