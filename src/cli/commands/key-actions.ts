/**
 * What `hush admin master-key …`, `rotate-master-key` and `rotate-data-keys` do: the node's
 * keyring and the database's keys, opened like every admin command (see server-actions.ts).
 */
import fs from 'node:fs';

import type { Command } from 'commander';

import { keyFilePath } from '../../app.js';
import { loadConfig } from '../../config.js';
import {
  addKeyToFile,
  generateMasterKey,
  removeKeyFromFile,
  retireKeysInFile,
} from '../../crypto/key-file.js';
import { CliError } from '../api-client.js';
import { globals } from '../context.js';
import { output, readStdin } from '../output.js';
import { CLI_CONTEXT, configFlags, type ServerFlags, withApp } from './server-actions.js';

/** `hush admin rotate-master-key`: one node's shortcut of add, activate (and retire). */
export async function rotateMasterKey(
  opts: ServerFlags & { retireOld?: boolean },
  cmd: Command,
): Promise<void> {
  const { retireOld, ...flags } = opts;
  const config = loadConfig(configFlags(flags));
  if (config.masterKey)
    throw new CliError(
      'HUSH_MASTER_KEY is set: rotate in phases instead (hush admin master-key generate, then HUSH_MASTER_KEY_PREVIOUS on every node, activate, retire; docs/operations.md)',
    );
  const file = keyFilePath(config);
  const { newKeyId } = addKeyToFile(file);
  const { count, retired } = await withApp(flags, async (app) => {
    const keys = app.services.keys;
    const n = await keys.activateMasterKey(app.database.db, newKeyId);
    const old: string[] = [];
    if (retireOld) {
      for (const k of (await keys.masterKeyStatus(app.database.db)).keys) {
        if (k.id === newKeyId || k.state === 'retired') continue;
        await keys.retireMasterKey(app.database.db, k.id);
        old.push(k.id);
      }
    }
    return { count: n, retired: old };
  });
  if (retireOld) retireKeysInFile(file, [newKeyId]);
  output(!!globals(cmd).json, { masterKeyId: newKeyId, rewrapped: count, retired }, () =>
    process.stdout.write(
      `Master key ${newKeyId} is active; re-wrapped ${count} data keys${retireOld ? `; retired ${retired.join(', ') || 'no key'} and removed the old keys from ${file}` : ''}\n`,
    ),
  );
}

/** `hush admin master-key generate`: a new key as id:base64, for HUSH_MASTER_KEY*; nothing stored. */
export function generateKey(cmd: Command): void {
  const { id, value } = generateMasterKey();
  output(!!globals(cmd).json, { id, key: value }, () => process.stdout.write(`${value}\n`));
}

/** `hush admin master-key add [--stdin]`: stages a key in this node's key file. */
export async function addKey(opts: ServerFlags & { stdin?: boolean }, cmd: Command): Promise<void> {
  const { stdin, ...flags } = opts;
  const config = loadConfig(configFlags(flags));
  if (config.masterKey)
    throw new CliError(
      'HUSH_MASTER_KEY is set: stage the key by adding it to HUSH_MASTER_KEY_PREVIOUS (id:base64) and restarting the node',
    );
  const file = keyFilePath(config);
  if (!fs.existsSync(file)) throw new CliError(`no master key file at ${file} (see --data-dir)`);
  const { newKeyId } = addKeyToFile(file, stdin ? (await readStdin()).trim() : undefined);
  output(!!globals(cmd).json, { masterKeyId: newKeyId, file }, () =>
    process.stdout.write(
      `Master key ${newKeyId} is staged in ${file}. Once every node holds it (GET /readyz lists the keys of each), run: hush admin master-key activate ${newKeyId}\n`,
    ),
  );
}

/** `hush admin master-key list`: the cluster's master keys, what each wraps, which this node holds. */
export async function listKeys(flags: ServerFlags, cmd: Command): Promise<void> {
  const status = await withApp(flags, (app) => app.services.keys.masterKeyStatus(app.database.db));
  output(!!globals(cmd).json, status, () => {
    const rows = status.keys.map((k) =>
      [k.id, k.state ?? '-', String(k.dataKeys), String(k.auditKeys), k.held ? 'yes' : 'NO'].join(
        '\t',
      ),
    );
    process.stdout.write(['ID\tSTATE\tDATA KEYS\tAUDIT KEY\tHELD HERE', ...rows].join('\n') + '\n');
  });
}

/** `hush admin master-key activate ID`: every node wraps with ID from now; all re-wrapped. */
export async function activateKey(id: string, flags: ServerFlags, cmd: Command): Promise<void> {
  const count = await withApp(flags, (app) =>
    app.services.keys.activateMasterKey(app.database.db, id),
  );
  output(!!globals(cmd).json, { masterKeyId: id, rewrapped: count }, () =>
    process.stdout.write(
      `Master key ${id} is active on every node; re-wrapped ${count} data keys. When you are ready, retire the old key: hush admin master-key retire OLD_ID\n`,
    ),
  );
}

/** `hush admin master-key retire ID`: no node wraps with ID again; what it wrapped is re-wrapped. */
export async function retireKey(id: string, flags: ServerFlags, cmd: Command): Promise<void> {
  const config = loadConfig(configFlags(flags));
  const { count, active } = await withApp(flags, async (app) => {
    const n = await app.services.keys.retireMasterKey(app.database.db, id);
    const status = await app.services.keys.masterKeyStatus(app.database.db);
    return { count: n, active: status.active };
  });
  const file = config.masterKey ? null : keyFilePath(config);
  if (file && active) removeKeyFromFile(file, id, active);
  output(!!globals(cmd).json, { masterKeyId: id, rewrapped: count, removedFrom: file }, () =>
    process.stdout.write(
      `Master key ${id} is retired; re-wrapped ${count} more data keys. ${file ? `Removed it from ${file}; remove` : 'Remove'} it from every other node's key file or HUSH_MASTER_KEY_PREVIOUS.\n`,
    ),
  );
}

/**
 * `hush admin rotate-data-keys [--org O]`: a new data key per organization, every value
 * re-encrypted online in batches (a progress line per organization; a bar on a terminal).
 * Resumable: run it again after a crash and it carries on.
 */
export async function rotateDataKeys(
  opts: ServerFlags & { org?: string; batchSize?: string },
  cmd: Command,
): Promise<void> {
  const { org, batchSize, ...flags } = opts;
  const size = batchSize === undefined ? 500 : Number(batchSize);
  if (!Number.isInteger(size) || size < 1 || size > 10_000)
    throw new CliError('--batch-size: must be a whole number from 1 to 10000');
  const json = !!globals(cmd).json;
  const tty = !json && process.stderr.isTTY;
  const results = await withApp(flags, (app) =>
    app.services.dataKeys.rotate(CLI_CONTEXT, {
      ...(org === undefined ? {} : { org }),
      batchSize: size,
      onProgress: ({ organization, done, total }) => {
        if (json) return;
        if (tty) {
          const filled = total === 0 ? 20 : Math.round((done / total) * 20);
          process.stderr.write(
            `\r${organization} [${'#'.repeat(filled)}${'.'.repeat(20 - filled)}] ${done}/${total}`,
          );
        } else if (done === total || done % (size * 20) === 0) {
          process.stderr.write(`${organization}: ${done}/${total} values re-encrypted\n`);
        }
      },
    }),
  );
  if (tty) process.stderr.write('\n');
  output(json, results, () => {
    for (const r of results) {
      process.stdout.write(
        `${r.organization}: data key ${r.dataKeyId}${r.resumed ? ' (resumed)' : ''}; re-encrypted ${r.reencrypted} values; deleted ${r.deletedKeys} older keys\n`,
      );
    }
  });
}
