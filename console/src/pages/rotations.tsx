import { useState } from 'react';

import { api, type ApiError, seg } from '../api.js';
import type { Rotation, Secret } from '../types.js';
import { ConfirmButton, ErrorNotice, SelectField, shownText, TextField, useAction } from '../ui.js';

/** Where the rotated pg service is, as the secrets page's level is. */
export interface RotationLevel {
  project?: string | undefined;
  env?: string | undefined;
  service?: string | undefined;
}

type Gate = { disabled: boolean; title: string | undefined };

/** Seconds as the shortest duration the API takes back: `30d`, `2w`, `12h`, `90m`. */
function durationText(seconds: number): string {
  if (seconds % 604_800 === 0) return `${seconds / 604_800}w`;
  if (seconds % 86_400 === 0) return `${seconds / 86_400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  return `${Math.round(seconds / 60)}m`;
}

/** When a rotation runs: `every 30d at 03:00 UTC`, or `by hand`. */
export function scheduleText(r: Rotation): string {
  if (r.every === null) return 'by hand';
  return `every ${durationText(r.every)}${r.at ? ` at ${r.at} UTC` : ''}`;
}

/** A rotation's name: a slug (a-z, 0-9 and "-", 2-63 characters), here made of the secret's. */
export function defaultRotationName(secretName: string): string {
  const slug = `${secretName}-pw`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+/, '')
    .replace(/-{2,}/g, '-');
  return slug.slice(0, 63);
}

/**
 * The Rotation cell of a secret's row: for a pg service with a rotation, its name, strategy,
 * schedule and state with Rotate now, Pause or Resume and Remove; for an unassigned pg service
 * without one, Set up rotation. Every button names the rotation or the secret it acts on.
 */
export function RotationCell({
  secret,
  rotation,
  writing,
  busy,
  onRun,
  onPause,
  onRemove,
  onSetUp,
}: {
  secret: Secret;
  rotation: Rotation | undefined;
  writing: Gate;
  busy: boolean;
  onRun: (secret: Secret, rotation: Rotation) => void;
  onPause: (rotation: Rotation, paused: boolean) => void;
  onRemove: (rotation: Rotation) => Promise<void>;
  onSetUp: (secret: Secret) => void;
}) {
  if (secret.kind !== 'pgservice') return <span className="muted">—</span>;
  if (!rotation) {
    // A rotation rotates an unassigned pg service: an assigned one is a member's own copy.
    if (secret.assignee) return <span className="muted">—</span>;
    return (
      <button
        type="button"
        {...writing}
        aria-label={`Set up rotation of ${secret.name}`}
        onClick={() => onSetUp(secret)}
      >
        Set up rotation
      </button>
    );
  }
  return (
    <div className="rotation" data-testid={`rotation-${secret.name}`}>
      <code>{rotation.name}</code>{' '}
      <span className="muted">
        {rotation.strategy}, {scheduleText(rotation)}
      </span>{' '}
      {rotation.paused ? (
        <span className="status paused">paused</span>
      ) : rotation.failures > 0 ? (
        <span className="status failed" title={rotation.lastError ?? undefined}>
          failing ({rotation.failures})
        </span>
      ) : (
        <span className="status succeeded">ok</span>
      )}
      <span className="rotation-actions">
        <button
          type="button"
          aria-label={`Rotate now (rotation ${rotation.name})`}
          title={writing.title}
          disabled={writing.disabled || busy}
          onClick={() => onRun(secret, rotation)}
        >
          Rotate now
        </button>
        <button
          type="button"
          aria-label={`${rotation.paused ? 'Resume' : 'Pause'} rotation ${rotation.name}`}
          title={writing.title}
          disabled={writing.disabled || busy}
          onClick={() => onPause(rotation, !rotation.paused)}
        >
          {rotation.paused ? 'Resume' : 'Pause'}
        </button>
        <ConfirmButton
          label="Remove"
          ariaLabel={`Remove rotation ${rotation.name}`}
          disabled={writing.disabled || busy}
          tooltip={writing.title}
          className="danger"
          danger
          title={`Remove rotation ${rotation.name}?`}
          message={
            <p>
              Its schedule and its runs go (the audit log keeps them); the pg service{' '}
              <code>{secret.name}</code>, its current password and all its versions stay.
            </p>
          }
          confirmLabel="Remove rotation"
          onConfirm={() => onRemove(rotation)}
        />
      </span>
    </div>
  );
}

// No pg service is called this: a section name of pg_service.conf holds no brackets.
const OTHER = '[other]';

/** The message for `name` or one of its items (`roles.1`), or the one field a refusal names. */
function messageFor(error: ApiError | undefined, name: string): string | undefined {
  if (!error) return undefined;
  return error.fieldMessage(name) ?? (error.field === name ? error.message : undefined);
}

/**
 * Set up the rotation of one pg service (`POST /orgs/:org/rotations`): its name, the admin pg
 * service that runs ALTER ROLE, the strategy (dual with its two roles) and an optional
 * schedule. Adding connects to nothing: a bad admin service shows on the first run.
 */
export function SetUpRotationForm({
  org,
  level,
  levelName,
  secret,
  adminServices,
  onDone,
}: {
  org: string;
  level: RotationLevel;
  /** How the page names its level: `project web`. */
  levelName: string;
  secret: Secret;
  /** The other unassigned pg services of this level, offered as the admin service. */
  adminServices: string[];
  onDone: (rotation: Rotation) => void;
}) {
  const [name, setName] = useState(() => defaultRotationName(secret.name));
  const [adminChoice, setAdminChoice] = useState(adminServices.length > 0 ? '' : OTHER);
  const [adminOther, setAdminOther] = useState('');
  const [strategy, setStrategy] = useState<'single' | 'dual'>('single');
  const [roleA, setRoleA] = useState('');
  const [roleB, setRoleB] = useState('');
  const [every, setEvery] = useState('');
  const [at, setAt] = useState('');
  const [length, setLength] = useState('');
  const [alphabet, setAlphabet] = useState('');
  const { busy, error, run } = useAction();

  const adminService = adminChoice === OTHER ? adminOther.trim() : adminChoice;
  const body = () => ({
    name: name.trim(),
    secret: secret.name,
    project: level.project,
    env: level.env,
    service: level.service,
    adminService,
    strategy,
    ...(strategy === 'dual' ? { roles: [roleA.trim(), roleB.trim()] } : {}),
    ...(every.trim() ? { every: every.trim() } : {}),
    ...(at.trim() ? { at: at.trim() } : {}),
    ...(length.trim() ? { length: Number(length) } : {}),
    ...(alphabet ? { alphabet } : {}),
  });

  // Field errors sit next to their input; anything the form does not show goes in one notice.
  const shown = [
    'name',
    'secret',
    'adminService',
    'strategy',
    'every',
    'at',
    'length',
    'alphabet',
    ...(strategy === 'dual' ? ['roles'] : []),
  ];
  const top = (field: string) => field.replace(/^body\./, '').split('.')[0] ?? '';
  const notice =
    error &&
    (error.fields.length === 0
      ? !(error.field && shown.includes(error.field))
      : error.fields.some((f) => !shown.includes(top(f.field))))
      ? error
      : undefined;
  const adminError = messageFor(error, 'adminService');

  return (
    <form
      className="dialog-body"
      onSubmit={(e) => {
        e.preventDefault();
        void run(async () => {
          onDone(await api<Rotation>('POST', `/orgs/${seg(org)}/rotations`, body()));
        });
      }}
    >
      <p className="muted">
        Each run sets a new random password in PostgreSQL through the admin service, then stores it
        as the next version of <code>{secret.name}</code>. Setting up connects to nothing.
      </p>
      <TextField
        label="pg service"
        value={secret.name}
        readOnly
        hint={`at ${levelName}`}
        error={messageFor(error, 'secret')}
      />
      <TextField
        label="Rotation name"
        value={name}
        required
        autoFocus
        spellCheck={false}
        onChange={(e) => setName(e.target.value)}
        hint='a-z, 0-9 and "-", e.g. main-pw'
        error={messageFor(error, 'name')}
      />
      {adminServices.length > 0 && (
        <SelectField
          label="Admin service"
          value={adminChoice}
          required
          onChange={(e) => setAdminChoice(e.target.value)}
          options={[
            { value: '', label: 'Choose a pg service' },
            ...adminServices.map((s) => ({ value: s, label: shownText(s) })),
            { value: OTHER, label: 'Another, by name (from a level above)' },
          ]}
          hint="a pg service whose user may ALTER ROLE this one's (CREATEROLE, or a superuser)"
          error={adminChoice === OTHER ? undefined : adminError}
        />
      )}
      {adminChoice === OTHER && (
        <TextField
          label={adminServices.length > 0 ? 'Admin service name' : 'Admin service'}
          value={adminOther}
          required
          spellCheck={false}
          onChange={(e) => setAdminOther(e.target.value)}
          hint="a pg service visible here or at a level above whose user may ALTER ROLE this one's"
          error={adminError}
        />
      )}
      <SelectField
        label="Strategy"
        value={strategy}
        onChange={(e) => setStrategy(e.target.value === 'dual' ? 'dual' : 'single')}
        options={[
          { value: 'single', label: 'single: a new password for the same role' },
          { value: 'dual', label: 'dual: two login roles take turns' },
        ]}
        error={messageFor(error, 'strategy')}
      />
      {strategy === 'dual' && (
        <fieldset className="grid2">
          <legend>Login roles</legend>
          <TextField
            label="First role"
            value={roleA}
            required
            spellCheck={false}
            onChange={(e) => setRoleA(e.target.value)}
            hint="one of the two is the role the pg service connects as now"
            error={messageFor(error, 'roles.0') ?? messageFor(error, 'roles')}
          />
          <TextField
            label="Second role"
            value={roleB}
            required
            spellCheck={false}
            onChange={(e) => setRoleB(e.target.value)}
            hint="with the same privileges (members of one group role)"
            error={messageFor(error, 'roles.1')}
          />
        </fieldset>
      )}
      <fieldset className="grid2">
        <legend>Schedule (optional)</legend>
        <TextField
          label="Every"
          value={every}
          spellCheck={false}
          placeholder="30d"
          onChange={(e) => setEvery(e.target.value)}
          hint="m, h, d or w; empty: by hand only, with Rotate now"
          error={messageFor(error, 'every')}
        />
        <TextField
          label="At"
          value={at}
          spellCheck={false}
          placeholder="03:00"
          onChange={(e) => setAt(e.target.value)}
          hint="HH:MM UTC, with every in whole days"
          error={messageFor(error, 'at')}
        />
      </fieldset>
      <fieldset className="grid2">
        <legend>New passwords (optional)</legend>
        <TextField
          label="Length"
          type="number"
          min={16}
          max={128}
          value={length}
          placeholder="32"
          onChange={(e) => setLength(e.target.value)}
          hint="16 to 128 characters"
          error={messageFor(error, 'length')}
        />
        <TextField
          label="Alphabet"
          value={alphabet}
          spellCheck={false}
          placeholder="A-Z a-z 0-9"
          onChange={(e) => setAlphabet(e.target.value)}
          hint="the characters to draw from: letters, digits and _ . ~ ! ^ * + -"
          error={messageFor(error, 'alphabet')}
        />
      </fieldset>
      <ErrorNotice error={notice} />
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          Set up rotation
        </button>
      </div>
    </form>
  );
}
