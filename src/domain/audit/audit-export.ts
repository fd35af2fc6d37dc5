import type { AuditEventRow } from '../../store/schema.js';
import { type AuditEvent, toPublic } from './audit-service.js';

export const EXPORT_FORMATS = ['jsonl', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The CSV columns, in the order of the public event (snake_case as SPEC §6 names them). */
const CSV_COLUMNS: [string, keyof AuditEvent][] = [
  ['id', 'id'],
  ['timestamp', 'timestamp'],
  ['organization', 'organization'],
  ['seq', 'seq'],
  ['event_type', 'eventType'],
  ['target_type', 'targetType'],
  ['target_id', 'targetId'],
  ['target_name', 'targetName'],
  ['change', 'change'],
  ['actor', 'actor'],
  ['tool', 'tool'],
  ['ip', 'ip'],
  ['details', 'details'],
  ['prev_hash', 'prevHash'],
  ['hash', 'hash'],
];

/**
 * RFC 4180: a field holding a comma, quote or line break is quoted, quotes doubled. Against CSV
 * injection (OWASP's advice): a field that a spreadsheet would run as a formula (it starts with
 * `=`, `+`, `-`, `@`, a tab or a carriage return: an e-mail typed at a failed sign-in, a name)
 * gets a leading `'`, and a field holding another separator a spreadsheet may split on (`;`,
 * tab) is quoted too, so `x;=1+1` stays one cell even where `;` separates them. Opening an
 * export never executes what someone typed.
 */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'string' ? value : JSON.stringify(value);
  const formula = /^[=+\-@\t\r]/.test(text);
  if (formula) text = `'${text}`;
  return formula || /[",;\t\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The MIME type and file extension of a format. */
export function exportMedia(format: ExportFormat): { contentType: string; extension: string } {
  return format === 'csv'
    ? { contentType: 'text/csv; charset=utf-8', extension: 'csv' }
    : { contentType: 'application/x-ndjson; charset=utf-8', extension: 'jsonl' };
}

/**
 * Encodes events as JSON Lines (one public event per line) or CSV (a header, then one row per
 * event with `details` as JSON), in chunks of about `chunkEvents` events, so a writer sends
 * few large writes while memory stays constant.
 */
export async function* encodeEvents(
  rows: AsyncIterable<AuditEventRow>,
  format: ExportFormat,
  chunkEvents = 500,
): AsyncGenerator<string> {
  let chunk: string[] = [];
  if (format === 'csv') chunk.push(CSV_COLUMNS.map(([name]) => name).join(',') + '\r\n');
  for await (const row of rows) {
    const event = toPublic(row);
    chunk.push(
      format === 'csv'
        ? CSV_COLUMNS.map(([, key]) => csvField(event[key])).join(',') + '\r\n'
        : JSON.stringify(event) + '\n',
    );
    if (chunk.length >= chunkEvents) {
      yield chunk.join('');
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk.join('');
}
