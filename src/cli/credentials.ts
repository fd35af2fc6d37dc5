import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What `hush login` saves: the server and the bearer token (mode 0600). */
export interface SavedCredentials {
  url: string;
  token: string;
  email?: string | undefined;
}

function configDir(): string {
  return (
    process.env.HUSH_CONFIG_DIR ??
    path.join(process.env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config'), 'hush')
  );
}

/** Path of the credentials file. */
export function credentialsPath(): string {
  return path.join(configDir(), 'credentials.json');
}

/** The saved credentials, or undefined. */
export function readCredentials(): SavedCredentials | undefined {
  try {
    return JSON.parse(fs.readFileSync(credentialsPath(), 'utf8')) as SavedCredentials;
  } catch {
    return undefined;
  }
}

/** Saves credentials with mode 0600 in a 0700 directory, replacing the file atomically. */
export function writeCredentials(credentials: SavedCredentials): void {
  const file = credentialsPath();
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}

/** Deletes the saved credentials. */
export function deleteCredentials(): void {
  fs.rmSync(credentialsPath(), { force: true });
}
