/** The machine's own floors, measured in the same run: AES-256-GCM decryption and bare HTTP. */
import { spawn } from 'node:child_process';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

import { hashPassword, verifyPassword } from '../src/domain/accounts/credentials.js';
import { loadHttp } from './http-load.js';

/** Median wall time of 1,000 AES-256-GCM decryptions of 32-byte values (fresh decipher each). */
export function floorDecrypt1000Ms(runs: number): number {
  const key = randomBytes(32);
  const items = Array.from({ length: 1000 }, () => {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', key, iv);
    c.setAAD(Buffer.from('id:1'));
    const data = Buffer.concat([c.update(randomBytes(32)), c.final()]);
    return { iv, data, tag: c.getAuthTag() };
  });
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    for (const it of items) {
      const d = createDecipheriv('aes-256-gcm', key, it.iv);
      d.setAAD(Buffer.from('id:1'));
      d.setAuthTag(it.tag);
      Buffer.concat([d.update(it.data), d.final()]);
    }
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? NaN;
}

const BARE_SERVER = `
import Fastify from 'fastify';
const body = JSON.stringify({ value: 'x'.repeat(2048 - 12) });
const app = Fastify({ logger: false });
app.get('/', (_req, reply) => reply.type('application/json').send(body));
const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(address + '\\n');
`;

/** Requests/s of a bare Fastify route returning 2 KiB, in its own process, 32 connections. */
export async function floorHttp2kRps(durationSeconds: number): Promise<number> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', BARE_SERVER], {
    cwd: process.cwd(),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()));
      child.once('exit', (code) => reject(new Error(`floor server exited with ${code}`)));
    });
    const result = await loadHttp({ url, connections: 32, durationSeconds });
    return result.rps;
  } finally {
    child.kill('SIGTERM');
  }
}

/**
 * Median time of one password check with the parameters Hush stores (scrypt): what every
 * sign-in costs before the brake, the session and the audit event are added.
 */
export async function floorPasswordCheckMs(runs: number): Promise<number> {
  const stored = await hashPassword('bench password');
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    await verifyPassword('bench password', stored);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? NaN;
}
