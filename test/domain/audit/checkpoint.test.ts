import { describe, expect, it } from 'vitest';

import { deriveAuditKeys } from '../../../src/domain/audit/audit-key.js';
import {
  type AuditCheckpoint,
  CHECKPOINT_FORMAT,
  checkpointSignatureValid,
  signCheckpoint,
} from '../../../src/domain/audit/checkpoint.js';

const keys = deriveAuditKeys(Buffer.alloc(32, 3));

const checkpoint = signCheckpoint(keys.checkpoint, {
  format: CHECKPOINT_FORMAT,
  organizationId: 'org-1',
  organization: 'acme',
  seq: 42,
  hash: 'a'.repeat(64),
  timestamp: '2026-01-01T00:00:00.000Z',
  signedAt: '2026-01-02T00:00:00.000Z',
  keyId: keys.id,
});

/** Every signed field and an edit of it. */
const EDITS: [keyof AuditCheckpoint, (c: AuditCheckpoint) => AuditCheckpoint][] = [
  ['format', (c) => ({ ...c, format: 'hush-audit-checkpoint/2' as typeof CHECKPOINT_FORMAT })],
  ['organizationId', (c) => ({ ...c, organizationId: 'org-2' })],
  ['organization', (c) => ({ ...c, organization: 'other' })],
  ['seq', (c) => ({ ...c, seq: 41 })],
  ['hash', (c) => ({ ...c, hash: 'b'.repeat(64) })],
  ['timestamp', (c) => ({ ...c, timestamp: null })],
  ['signedAt', (c) => ({ ...c, signedAt: '2030-01-01T00:00:00.000Z' })],
  ['keyId', (c) => ({ ...c, keyId: 'ak_0000000000000000' })],
  ['signature', (c) => ({ ...c, signature: 'f'.repeat(64) })],
];

describe('an audit checkpoint', () => {
  it('verifies under the key that signed it', () => {
    expect(checkpoint.signature).toMatch(/^[0-9a-f]{64}$/);
    expect(checkpointSignatureValid(keys.checkpoint, checkpoint)).toBe(true);
  });

  it('covers every field', () => {
    expect(EDITS.map(([f]) => f).sort()).toEqual(Object.keys(checkpoint).sort());
  });

  it.each(EDITS)('is refused when its %s was edited', (_field, edit) => {
    expect(checkpointSignatureValid(keys.checkpoint, edit(checkpoint))).toBe(false);
  });

  it('is refused under another key, and under the event or head key of the same root', () => {
    expect(
      checkpointSignatureValid(deriveAuditKeys(Buffer.alloc(32, 4)).checkpoint, checkpoint),
    ).toBe(false);
    expect(checkpointSignatureValid(keys.event, checkpoint)).toBe(false);
    expect(checkpointSignatureValid(keys.head, checkpoint)).toBe(false);
  });
});
