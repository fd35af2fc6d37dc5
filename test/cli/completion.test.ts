import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  bootstrappedServerEnv,
  type CliResult,
  runHush,
  signedInCli,
  spawnServer,
} from '../helpers/cli.js';
import { tempDir } from '../helpers/databases.js';

/** Runs a real program (a shell) with exactly this environment; killed after `timeoutMs`. */
function run(
  file: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

const lines = (text: string) => text.split('\n').filter(Boolean);

// Calls the function the script registered with `complete -F`, with COMP_* set as readline sets
// them for the words given (its COMP_WORDBREAKS makes a word of each "=").
const BASH_HARNESS = `source <(hush completion bash) || exit 1
fn=$(complete -p hush | sed -E 's/.* -F ([^ ]+) .*/\\1/')
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=\${#COMP_LINE}
COMPREPLY=()
"$fn" hush "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\\n' "\${COMPREPLY[@]}"
`;

// The completion system's own functions stubbed to print what they are given.
const ZSH_HARNESS = `compdef() { print -r -- "compdef $*"; }
_describe() { print -rl -- "\${(@P)\${@[-1]}}"; }
_files() { print -r -- FILES; }
source <(hush completion zsh) || exit 1
words=("$@"); CURRENT=$#
_hush
`;

// Drives an interactive shell in a pseudo-terminal (zsh's zpty): waits for the prompt, types the
// keys, and prints what the terminal showed once it matches the pattern (or after 15 s).
const ZPTY_DRIVER = `zmodload zsh/zpty || exit 1
zpty z "$1"
local out= chunk
integer end=$(( SECONDS + 15 ))
while (( SECONDS < end )) && [[ $out != *READY\\>* ]]; do zpty -r -t z chunk && out+=$chunk || sleep 0.05; done
zpty -w -n z "$2"
out=
while (( SECONDS < end )) && [[ $out != $~3 ]]; do zpty -r -t z chunk && out+=$chunk || sleep 0.05; done
zpty -d z
print -r -- "$out"
`;

// Completion reads names through the REST API only: which database stores them changes nothing
// here (the API's storage is tested on both elsewhere), so this file runs on SQLite alone.
describe('shell completion for hush', () => {
  let server: Awaited<ReturnType<typeof spawnServer>>;
  let shellEnv: Record<string, string>;
  let dir: string;

  beforeAll(async () => {
    const { serverEnv } = await bootstrappedServerEnv('sqlite');
    server = await spawnServer(serverEnv);
    const cliEnv = await signedInCli(server.url);
    for (const args of [
      ['project', 'create', 'maps'],
      ['project', 'create', 'mapping'],
      ['project', 'create', 'roads'],
      ['env', 'create', 'prod', '--project', 'maps', '--type', 'production'],
      ['service', 'create', 'sync', '--project', 'maps', '--command', 'true'],
    ]) {
      const r = await runHush(args, { env: cliEnv });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    // The scripts call `hush` by name: a `hush` on PATH that runs the built binary.
    dir = tempDir('hush-completion-');
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(
      path.join(bin, 'hush'),
      `#!/bin/sh\nexec '${process.execPath}' '${path.resolve('bin/hush.js')}' "$@"\n`,
      { mode: 0o755 },
    );
    shellEnv = {
      ...cliEnv,
      PATH: `${bin}:${process.env.PATH ?? ''}`,
      HOME: dir,
      TERM: 'xterm',
    };
  }, 90_000);
  afterAll(() => server.stop());

  const complete = async (words: string[], env: Record<string, string> = {}) => {
    const r = await runHush(['__complete', '--', ...words], { env: { ...shellEnv, ...env } });
    expect(r.code, r.stderr).toBe(0);
    return lines(r.stdout).map((l) => l.split('\t')[0]);
  };
  const inBash = async (words: string[]) => {
    const r = await run(
      '/usr/bin/bash',
      ['--norc', '--noprofile', '-c', BASH_HARNESS, 'bash', ...words],
      shellEnv,
    );
    expect(r.code, r.stderr).toBe(0);
    return lines(r.stdout).sort();
  };
  const interactive = async (shell: string, keys: string, until: string) => {
    const driver = path.join(dir, 'driver.zsh');
    fs.writeFileSync(driver, ZPTY_DRIVER);
    const r = await run('/usr/bin/zsh', ['-f', driver, shell, keys, until], shellEnv, 30_000);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  };

  describe('in bash', () => {
    it('completes a project name from the server: maps and mapping for "ma", not roads', async () => {
      expect(await inBash(['hush', 'secret', 'list', '--project', 'ma'])).toEqual([
        'mapping',
        'maps',
      ]);
    });

    it('completes a subcommand and a flag of the command', async () => {
      expect(await inBash(['hush', 'sec'])).toEqual(['secret']);
      expect(await inBash(['hush', 'secret', 'list', '--pro'])).toEqual(['--project']);
    });

    it('completes the value of --project=ma, which readline splits at "="', async () => {
      expect(await inBash(['hush', 'secret', 'list', '--project', '=', 'ma'])).toEqual([
        'mapping',
        'maps',
      ]);
      expect(await inBash(['hush', 'secret', 'list', '--project', '='])).toEqual([
        '=mapping',
        '=maps',
        '=roads',
      ]);
    });

    it('completes --project= in an interactive bash, where readline itself splits the words', async () => {
      fs.writeFileSync(path.join(dir, 'bashrc'), `source <(hush completion bash)\nPS1='READY> '\n`);
      // TAB completes the only match; Ctrl-A and "echo " then print the completed line.
      const out = await interactive(
        `bash --rcfile ${path.join(dir, 'bashrc')} -i`,
        'hush secret list --project=ro\t\x01echo \n',
        '*roads*READY>*',
      );
      expect(out).toMatch(/^hush secret list --project=roads\r?$/m);
    });
  });

  describe('in zsh', () => {
    it('registers _hush with compdef and completes a project name', async () => {
      const r = await run(
        '/usr/bin/zsh',
        ['-f', '-c', ZSH_HARNESS, 'zsh', 'hush', 'secret', 'list', '--project', 'ma'],
        shellEnv,
      );
      expect(r.code, r.stderr).toBe(0);
      expect(lines(r.stdout)).toEqual(['compdef _hush hush', 'mapping', 'maps']);
    });

    it('lists maps and mapping, not roads, on TAB in an interactive zsh with compinit', async () => {
      const zdotdir = path.join(dir, 'zdot');
      fs.mkdirSync(zdotdir, { recursive: true });
      fs.writeFileSync(
        path.join(zdotdir, '.zshrc'),
        `autoload -Uz compinit && compinit -u -d "$ZDOTDIR/.zcompdump"\n` +
          `source <(hush completion zsh)\nPS1='READY> '\n`,
      );
      const out = await interactive(
        `env ZDOTDIR=${zdotdir} zsh -i`,
        // The first TAB inserts their common prefix ("map"), the second lists them.
        'hush secret list --project ma\t\t',
        '*mapping*maps*',
      );
      expect(out).toContain('mapping');
      expect(out).toMatch(/\bmaps\b/);
      expect(out).not.toContain('roads');
    });
  });

  describe('in fish', () => {
    it('completes a project name with complete -C', async () => {
      const r = await run(
        '/usr/bin/fish',
        [
          '--no-config',
          '-c',
          'source (hush completion fish | psub); complete -C $argv[1]',
          'hush secret list --project ma',
        ],
        shellEnv,
      );
      expect(r.code, r.stderr).toBe(0);
      expect(lines(r.stdout).sort()).toEqual(['mapping', 'maps']);
    });
  });

  describe('hush __complete', () => {
    it.each([
      [['secret', 'list', '--project', 'maps', '--env', ''], {}, ['prod']],
      [['job', 'run', '--project', 'maps', '--service', ''], {}, ['sync']],
      [['job', 'run', '--service', ''], { HUSH_PROJECT: 'maps' }, ['sync']],
      [['secret', 'add', 'pgservice', '--project', 'maps', '--at-service', ''], {}, ['sync']],
      [['secret', 'list', '--org', ''], {}, ['acme']],
      [['secret', 'list', '--project=ro'], {}, ['--project=roads']],
      [['completion', ''], {}, ['bash', 'zsh', 'fish']],
      [['secret', 'list', '--project', 'maps', '--j'], {}, ['--json']],
    ])('completes %j (env %j) with %j', async (words, env, expected) => {
      expect(await complete(words, env)).toEqual(expected);
    });

    it('offers no Hush service for the pg service name of secret add pgservice', async () => {
      expect(await complete(['secret', 'add', 'pgservice', '--service', ''])).toEqual([]);
    });

    it('offers the global --url and --json, and no flag already given', async () => {
      const flags = await complete(['secret', 'list', '--project', 'maps', '--']);
      expect(flags).toEqual(expect.arrayContaining(['--url', '--json', '--env', '--help']));
      expect(flags).not.toContain('--project');
      expect(await complete(['--'])).toEqual(expect.arrayContaining(['--url', '--json']));
    });

    it('asks the shell for file names after a file option', async () => {
      expect(await complete(['audit', 'export', '--format', 'csv', '-o', ''])).toEqual([':files']);
    });

    it('is hidden from hush --help, where completion is listed', async () => {
      const help = await runHush(['--help'], { env: shellEnv });
      expect(help.stdout).toMatch(/^ {2}completion /m);
      expect(help.stdout).not.toContain('__complete');
      const usage = await runHush(['completion', '--help'], { env: shellEnv });
      expect(usage.stdout).toContain('~/.config/fish/completions/hush.fish');
    });
  });

  describe('without a usable server', () => {
    const listening = async (onConnection: (socket: net.Socket) => void) => {
      const sockets = new Set<net.Socket>();
      const srv = net.createServer((socket) => {
        sockets.add(socket);
        onConnection(socket);
      });
      await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
      const { port } = srv.address() as net.AddressInfo;
      const close = async () => {
        for (const s of sockets) s.destroy();
        await new Promise((resolve) => srv.close(resolve));
      };
      return { url: `http://127.0.0.1:${port}`, close };
    };

    it('completes commands and flags without a credential and asks the server nothing', async () => {
      let connections = 0;
      const srv = await listening(() => connections++);
      try {
        const env = { HUSH_CONFIG_DIR: tempDir('hush-none-'), HUSH_URL: srv.url };
        expect(await complete(['secret', 'list', '--project', ''], env)).toEqual([]);
        expect(await complete(['sec'], env)).toEqual(['secret']);
        expect(await complete(['secret', 'list', '--pro'], env)).toEqual(['--project']);
        expect(connections).toBe(0);
      } finally {
        await srv.close();
      }
    });

    it('gives up on a server that does not answer after about 1.5 s, printing nothing', async () => {
      const srv = await listening(() => undefined);
      try {
        const started = Date.now();
        const names = await complete(['secret', 'list', '--project', ''], {
          HUSH_CONFIG_DIR: tempDir('hush-none-'),
          HUSH_URL: srv.url,
          HUSH_TOKEN: 'hush_any_token',
        });
        const took = Date.now() - started;
        expect(names).toEqual([]);
        expect(took).toBeGreaterThanOrEqual(1400);
        expect(took).toBeLessThan(6000);
      } finally {
        await srv.close();
      }
    });
  });
});
