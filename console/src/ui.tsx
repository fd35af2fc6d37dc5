import {
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
  useCallback,
  useEffect,
  useId,
  useRef,
  useState,
} from 'react';

import { api, ApiError } from './api.js';
import { Link } from './router.js';

/** A GET of the API, reloadable; `path` null waits. */
export function useResource<T>(path: string | null) {
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean }>({
    loading: true,
  });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (path === null) return;
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    api<T>('GET', path).then(
      (data) => live && setState({ data, loading: false }),
      (error: unknown) => live && setState({ error: toApiError(error), loading: false }),
    );
    return () => {
      live = false;
    };
  }, [path, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

export function toApiError(error: unknown): ApiError {
  return error instanceof ApiError
    ? error
    : new ApiError(0, 'CLIENT', error instanceof Error ? error.message : String(error));
}

/** Runs an async action with a busy flag and the error it threw. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const run = useCallback(async (action: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, setError, run };
}

export function ErrorNotice({ error }: { error?: ApiError | undefined }) {
  if (!error) return null;
  const unnamed = error.fields.length ? '' : ` (${error.code})`;
  return (
    <p className="notice error" role="alert">
      {/* A message may quote a name (`… is already a member`): isolated, its invisibles shown. */}
      <UserText text={error.message} />
      {unnamed}
    </p>
  );
}

// The server's rule for the names a person reads (`invisibleCharacters` in
// src/domain/validation.ts), copied because the console cannot import server code;
// test/e2e/bidi.test.ts checks that the two agree. Controls, format characters (zero-width
// space and joiners, bidi marks, embeddings, overrides and isolates, soft hyphen, BOM, tags, …),
// line and paragraph separators and the other default-ignorable code points.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u;
const PICTOGRAPH = /^[\p{Extended_Pictographic}\p{Emoji_Modifier}]$/u;
const EMOJI = /^\p{Emoji}$/u;

/** Whether the invisible character at `i` draws an emoji (`☁️`, `👩‍💻`) rather than hiding anything. */
function inEmoji(chars: readonly string[], i: number): boolean {
  const before = chars[i - 1] ?? '';
  if (chars[i] === '\ufe0f') return EMOJI.test(before);
  if (chars[i] !== '\u200d') return false;
  return (PICTOGRAPH.test(before) || before === '\ufe0f') && PICTOGRAPH.test(chars[i + 1] ?? '');
}

/** A character as a JSON or JavaScript string writes it: `\u202e`, a pair for an astral one. */
function escapeOf(ch: string): string {
  let out = '';
  for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
}

/**
 * `text` cut into what a person can read and the invisible or direction-changing characters in
 * it, each written as its escape (`\u200b`, `\u202e`): `owner\u200b@example.com` no longer
 * reads as `owner@example.com`, and an override reorders nothing. `keepLines` keeps LF and TAB.
 */
export function visibleParts(
  text: string,
  keepLines = false,
): { text: string; invisible: boolean }[] {
  if (!INVISIBLE.test(text)) return [{ text, invisible: false }];
  const chars = Array.from(text);
  const parts: { text: string; invisible: boolean }[] = [];
  chars.forEach((ch, i) => {
    const hidden =
      INVISIBLE.test(ch) && !inEmoji(chars, i) && !(keepLines && (ch === '\n' || ch === '\t'));
    const last = parts[parts.length - 1];
    if (hidden) parts.push({ text: escapeOf(ch), invisible: true });
    else if (last && !last.invisible) last.text += ch;
    else parts.push({ text: ch, invisible: false });
  });
  return parts;
}

/** `text` with its invisible characters written out (see {@link visibleParts}), for a plain string: an option, a label. */
export function shownText(text: string, keepLines = false): string {
  return visibleParts(text, keepLines)
    .map((p) => p.text)
    .join('');
}

/**
 * A string someone typed (an e-mail, a name, a file name, a command, an audit entry): in a
 * `<bdi>`, so that its direction cannot reorder what surrounds it, with its invisible characters
 * shown and marked (see {@link visibleParts}). Names made before the server refused them too.
 */
export function UserText({ text }: { text: string | null | undefined }) {
  if (text === null || text === undefined) return null;
  return (
    <bdi className="user-text">
      {visibleParts(text).map((p, i) =>
        p.invisible ? (
          <span
            key={i}
            className="invisible-char"
            title="an invisible or direction-changing character"
          >
            {p.text}
          </span>
        ) : (
          p.text
        ),
      )}
    </bdi>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  );
}

interface FieldProps {
  label: string;
  error?: string | undefined;
  hint?: ReactNode;
}

function FieldShell({
  id,
  label,
  error,
  hint,
  children,
}: FieldProps & { id: string; children: ReactNode }) {
  return (
    <div className={error ? 'field invalid' : 'field'}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && (
        <small id={`${id}-hint`} className="hint">
          {hint}
        </small>
      )}
      {error && (
        <small id={`${id}-error`} className="field-error" role="alert">
          {error}
        </small>
      )}
    </div>
  );
}

function describedBy(id: string, p: FieldProps) {
  return (
    [p.hint ? `${id}-hint` : '', p.error ? `${id}-error` : ''].filter(Boolean).join(' ') ||
    undefined
  );
}

export function TextField(props: FieldProps & InputHTMLAttributes<HTMLInputElement>) {
  const generated = useId();
  const { label, error, hint, ...input } = props;
  const id = input.id ?? generated;
  return (
    <FieldShell id={id} label={label} error={error} hint={hint}>
      <input
        {...input}
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, props)}
      />
    </FieldShell>
  );
}

export function TextAreaField(props: FieldProps & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const generated = useId();
  const { label, error, hint, ...input } = props;
  const id = input.id ?? generated;
  return (
    <FieldShell id={id} label={label} error={error} hint={hint}>
      <textarea
        {...input}
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, props)}
      />
    </FieldShell>
  );
}

export function SelectField(
  props: FieldProps &
    SelectHTMLAttributes<HTMLSelectElement> & {
      options: readonly (string | { value: string; label: string })[];
    },
) {
  const generated = useId();
  const { label, error, hint, options, ...select } = props;
  const id = select.id ?? generated;
  return (
    <FieldShell id={id} label={label} error={error} hint={hint}>
      <select
        {...select}
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, props)}
      >
        {options.map((o) => {
          const opt = typeof o === 'string' ? { value: o, label: o } : o;
          return (
            <option key={opt.value} value={opt.value}>
              {opt.label}
            </option>
          );
        })}
      </select>
    </FieldShell>
  );
}

/** A modal dialog on the native <dialog>: focus stays inside, Escape closes it. */
export function Dialog({
  title,
  open,
  onClose,
  children,
  wide,
}: {
  title: ReactNode;
  open: boolean;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      className={wide ? 'wide' : undefined}
      aria-labelledby={titleId}
      onClose={onClose}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      {open && (
        <>
          <header className="dialog-head">
            <h2 id={titleId}>{title}</h2>
            <button type="button" className="icon" aria-label="Close" onClick={onClose}>
              ×
            </button>
          </header>
          {children}
        </>
      )}
    </dialog>
  );
}

/** A button that asks first: the action runs only after "confirm" in a dialog. */
export function ConfirmButton({
  label,
  title,
  message,
  confirmLabel,
  onConfirm,
  danger,
  className,
  ariaLabel,
  disabled,
  tooltip,
}: {
  label: string;
  title: ReactNode;
  message: ReactNode;
  confirmLabel: string;
  onConfirm: () => Promise<void>;
  danger?: boolean;
  className?: string;
  ariaLabel?: string;
  /** Not offered (the caller may not): the button is disabled, `tooltip` says why. */
  disabled?: boolean;
  tooltip?: string | undefined;
}) {
  const [open, setOpen] = useState(false);
  const { busy, error, setError, run } = useAction();
  return (
    <>
      <button
        type="button"
        className={className}
        aria-label={ariaLabel}
        disabled={disabled}
        title={tooltip}
        onClick={() => setOpen(true)}
      >
        {label}
      </button>
      <Dialog
        title={title}
        open={open}
        onClose={() => {
          setOpen(false);
          setError(undefined);
        }}
      >
        <div className="dialog-body">{message}</div>
        <ErrorNotice error={error} />
        <div className="actions">
          <button type="button" onClick={() => setOpen(false)}>
            Cancel
          </button>
          <button
            type="button"
            className={danger ? 'danger' : 'primary'}
            disabled={busy}
            onClick={() =>
              void run(async () => {
                await onConfirm();
                setOpen(false);
              })
            }
          >
            {confirmLabel}
          </button>
        </div>
      </Dialog>
    </>
  );
}

export function Tabs({
  tabs,
  current,
}: {
  tabs: { href: string; label: string; key: string }[];
  current: string;
}) {
  return (
    <nav className="tabs" aria-label="Sections">
      {tabs.map((t) => (
        <Link key={t.key} href={t.href} aria-current={t.key === current ? 'page' : undefined}>
          {t.label}
        </Link>
      ))}
    </nav>
  );
}

/** A horizontally scrollable table wrapper, so narrow screens keep every column. */
export function TableWrap({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-wrap" role="region" aria-label={label} tabIndex={0}>
      <table>{children}</table>
    </div>
  );
}

/** "3 min ago" style age of an ISO time, with the exact time as a tooltip. */
export function Age({ iso }: { iso: string }) {
  return (
    <time dateTime={iso} title={new Date(iso).toLocaleString()}>
      {ageOf(iso)}
    </time>
  );
}

export function ageOf(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** A once-only value (a new token): shown with a copy button and a warning. */
export function ShownOnce({ label, value }: { label: string; value: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="notice once" role="status">
      <p>
        <strong>{label}</strong> It is shown this once: copy it now.
      </p>
      <code className="secret-once" data-testid="shown-once">
        {value}
      </code>
      <button
        type="button"
        onClick={() =>
          void navigator.clipboard?.writeText(value).then(
            () => setCopied(true),
            () => undefined,
          )
        }
      >
        {copied ? 'Copied' : 'Copy'}
      </button>
    </div>
  );
}
