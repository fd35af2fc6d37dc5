import type { Command, Option } from 'commander';

import { ApiClient } from './api-client.js';
import { orgPath, projectPath, resolveOrg } from './context.js';
import { readCredentials } from './credentials.js';
import { contextLayers } from './directory-context.js';
import { printable } from './output.js';

/** A word the shell may put in place of the one being completed, with what it means. */
export interface Candidate {
  value: string;
  description?: string | undefined;
}

/** What `hush __complete` answers for one command line. */
export interface Completion {
  candidates: Candidate[];
  /** The word is a file name: the shell completes it itself. */
  files: boolean;
  /** A name lookup outran its time and is still open: the caller exits once it has answered. */
  abandoned: boolean;
}

/** The shells `hush completion` writes a script for. */
export type Shell = 'bash' | 'zsh' | 'fish';

type NameKind = 'org' | 'project' | 'environment' | 'service';

/** The command line up to the word being completed, as commander would read it. */
interface Line {
  cmd: Command;
  /** The last value of each value-taking option given, by long flag (`--project` → `maps`). */
  values: Map<string, string>;
  used: Set<Option>;
  /** The option whose value the current word is. */
  pending?: Option | undefined;
  operands: number;
  afterDashDash: boolean;
}

const LOOKUP_MS = 1500;
const FILE_ARGUMENT = /[<[](file|path|dir|dirs)[\]>]/;
const NAME_OPTIONS: Record<string, NameKind> = {
  '--org': 'org',
  '--project': 'project',
  '--env': 'environment',
  '--service': 'service',
  '--at-service': 'service',
};

/**
 * Completes the last of `words` (the words after `hush`, the last one possibly empty) from the
 * command tree itself: subcommands, long flags, an option's declared choices, and project,
 * environment, service and organization names from the REST API when a credential is present.
 * A failed or slow lookup completes nothing; it never throws.
 */
export async function complete(program: Command, words: string[]): Promise<Completion> {
  const current = words.at(-1) ?? '';
  const line = readLine(program, words.slice(0, -1));
  const none: Completion = { candidates: [], files: false, abandoned: false };
  if (line.pending) {
    // bash splits `--project=ma` into `--project`, `=`, `ma`; a lone `=` word keeps its place.
    const prefix = current === '=' && words.at(-2)?.startsWith('--') ? '=' : '';
    return valuesOf(line.pending, line, prefix, current.slice(prefix.length));
  }
  const eq = current.indexOf('=');
  if (current.startsWith('--') && eq > 0 && !line.afterDashDash) {
    const option = findOption(line.cmd, current.slice(0, eq));
    if (!option || !takesValue(option)) return none;
    return valuesOf(option, line, current.slice(0, eq + 1), current.slice(eq + 1));
  }
  if (current.startsWith('-') && !line.afterDashDash)
    return { ...none, candidates: matching(flagsOf(line), current) };
  const help = line.cmd.createHelp();
  const subcommands = help.visibleCommands(line.cmd);
  if (subcommands.length > 0 && line.operands === 0 && !line.afterDashDash) {
    const candidates = subcommands.map((c) => ({
      value: c.name(),
      description: c.summary() || c.description(),
    }));
    return { ...none, candidates: matching(candidates, current) };
  }
  const args = line.cmd.registeredArguments;
  const argument = args[line.operands] ?? (args.at(-1)?.variadic ? args.at(-1) : undefined);
  if (argument?.argChoices)
    return {
      ...none,
      candidates: matching(
        argument.argChoices.map((value) => ({ value })),
        current,
      ),
    };
  return { ...none, files: line.afterDashDash };
}

function readLine(program: Command, words: string[]): Line {
  const line: Line = {
    cmd: program,
    values: new Map(),
    used: new Set(),
    operands: 0,
    afterDashDash: false,
  };
  words.forEach((word, i) => {
    const pending = line.pending;
    line.pending = undefined;
    if (pending) {
      if (word === '=' && words[i - 1]?.startsWith('--')) line.pending = pending;
      else if (pending.long) line.values.set(pending.long, word);
    } else if (line.afterDashDash || word === '-' || !word.startsWith('-')) {
      const sub =
        line.operands === 0 && !line.afterDashDash ? findCommand(line.cmd, word) : undefined;
      if (sub) line.cmd = sub;
      else line.operands++;
    } else if (word === '--') {
      line.afterDashDash = true;
    } else {
      const eq = word.startsWith('--') ? word.indexOf('=') : -1;
      const flag = !word.startsWith('--') ? word.slice(0, 2) : eq > 0 ? word.slice(0, eq) : word;
      const option = findOption(line.cmd, flag);
      if (!option) return;
      line.used.add(option);
      if (!takesValue(option)) return;
      const short = !word.startsWith('--') && word.length > 2;
      const inline = eq > 0 ? word.slice(eq + 1) : short ? word.slice(2) : undefined;
      if (inline === undefined) line.pending = option;
      else if (option.long) line.values.set(option.long, inline);
    }
  });
  return line;
}

function findCommand(cmd: Command, name: string): Command | undefined {
  return cmd.commands.find((c) => c.name() === name || c.aliases().includes(name));
}

/** The option a flag names on this command, else on the commands above it (--url, --json). */
function findOption(cmd: Command, flag: string): Option | undefined {
  for (let c: Command | null = cmd; c; c = c.parent) {
    const found = c.options.find((o) => o.long === flag || (o.short === flag && flag.length === 2));
    if (found) return found;
  }
  return undefined;
}

function takesValue(option: Option): boolean {
  return option.required || option.optional;
}

/** The long flags of the command, less those already given that cannot be repeated. */
function flagsOf(line: Line): Candidate[] {
  return line.cmd
    .createHelp()
    .visibleOptions(line.cmd)
    .filter((o) => o.long && !(line.used.has(o) && !o.variadic && !Array.isArray(o.defaultValue)))
    .map((o) => ({ value: o.long ?? '', description: o.description }));
}

async function valuesOf(
  option: Option,
  line: Line,
  prefix: string,
  current: string,
): Promise<Completion> {
  const done = (values: string[], abandoned = false): Completion => ({
    candidates: matching(
      values.map((v) => ({ value: v })),
      current,
    ).map((c) => ({ value: prefix + c.value })),
    files: false,
    abandoned,
  });
  if (option.argChoices) return done(option.argChoices);
  let kind = option.long ? NAME_OPTIONS[option.long] : undefined;
  // `secret add pgservice` names the pg service with --service and the Hush service with --at-service.
  if (option.long === '--service' && line.cmd.options.some((o) => o.long === '--at-service'))
    kind = undefined;
  if (!kind) return { ...done([]), files: FILE_ARGUMENT.test(option.flags) };
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), LOOKUP_MS);
  });
  const names = await Promise.race([lookUp(kind, line.values).catch(() => []), late]);
  clearTimeout(timer);
  return names ? done(names.filter(isPlainName)) : done([], true);
}

/** Names of a kind from the REST API; nothing without a credential (no request is made). */
async function lookUp(kind: NameKind, values: Map<string, string>): Promise<string[]> {
  const url = values.get('--url');
  const saved = readCredentials();
  // Which credential ApiClient will send: HUSH_TOKEN, else the saved login for its own server.
  if (!process.env.HUSH_TOKEN && !(saved?.token && (!url || url === saved.url))) return [];
  const client = new ApiClient({ url });
  if (kind === 'org') return slugs(await client.get('/orgs'));
  // The directory's defaults, as the command itself would take them (HUSH_* over .hush.json).
  const layers = contextLayers();
  const fromDefaults = (key: 'org' | 'project') => layers.env[key] ?? layers.config[key];
  const org = await resolveOrg(client, values.get('--org') ?? fromDefaults('org'));
  if (kind === 'project') return slugs(await client.get(`${orgPath(org)}/projects`));
  const project = values.get('--project') ?? fromDefaults('project');
  if (!project) return [];
  if (kind === 'environment')
    return slugs(await client.get(`${projectPath(org, project)}/environments`));
  const services = await client.get<{ name: string }[]>(`${projectPath(org, project)}/services`);
  return services.map((s) => s.name);
}

function slugs(rows: unknown): string[] {
  return (rows as { slug: string }[]).map((r) => r.slug);
}

/** A name the shell can take as one word: no space, nothing a terminal would act on. */
function isPlainName(name: string): boolean {
  return typeof name === 'string' && name !== '' && !/\s/.test(name) && printable(name) === name;
}

function matching(candidates: Candidate[], current: string): Candidate[] {
  return candidates.filter((c) => c.value.startsWith(current));
}

/** The answer as the shell scripts read it: `value<TAB>description` lines, or `:files`. */
export function formatCompletion(completion: Completion): string {
  const lines = completion.candidates.map((c) =>
    c.description ? `${c.value}\t${c.description.replace(/\s+/g, ' ')}` : c.value,
  );
  if (completion.files) lines.push(':files');
  return lines.map((l) => `${l}\n`).join('');
}

// Each script hands the words before the cursor to `hush __complete` and offers its answer. None
// evaluates a word of the command line: what the user typed is passed, never run.
const SCRIPTS: Record<Shell, string> = {
  bash: `# bash completion for hush. For this shell: source <(hush completion bash)
# For every new shell: hush completion bash > ~/.local/share/bash-completion/completions/hush
_hush_complete() {
  local line files=0
  COMPREPLY=()
  while IFS= read -r line; do
    if [[ $line == :files ]]; then
      files=1
    elif [[ -n $line ]]; then
      COMPREPLY+=("\${line%%$'\\t'*}")
    fi
  done < <(hush __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
  if ((files)); then compopt -o default 2>/dev/null; fi
  return 0
}
complete -F _hush_complete hush
`,
  zsh: `#compdef hush
# zsh completion for hush. For this shell (after compinit): source <(hush completion zsh)
# For every new shell: hush completion zsh > ~/.zfunc/_hush, with fpath=(~/.zfunc $fpath)
# before compinit in ~/.zshrc
_hush() {
  local line value description
  local -i files=0
  local -a described
  for line in "\${(@f)$(hush __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}"; do
    if [[ $line == :files ]]; then
      files=1
    elif [[ -n $line ]]; then
      value=\${line%%$'\\t'*}
      description=
      [[ $line == *$'\\t'* ]] && description=\${line#*$'\\t'}
      described+=("\${value//:/\\\\:}\${description:+:$description}")
    fi
  done
  if (( files )); then
    _files
  elif (( \${#described} )); then
    _describe -t values hush described
  fi
}
if [[ \${funcstack[1]} == _hush ]]; then _hush "$@"; else compdef _hush hush; fi
`,
  fish: `# fish completion for hush. For this shell: hush completion fish | source
# For every new shell: hush completion fish > ~/.config/fish/completions/hush.fish
function __hush_complete
    set -l words (commandline -opc)
    set -e words[1]
    set -l current (commandline -ct)
    set -l answer (hush __complete -- $words "$current" 2>/dev/null)
    if contains -- :files $answer
        __fish_complete_path "$current"
    else
        printf '%s\\n' $answer
    end
end
complete -c hush -e
complete -c hush -f -a '(__hush_complete)'
`,
};

/** The script that makes a shell complete `hush` through `hush __complete`. */
export function completionScript(shell: Shell): string {
  return SCRIPTS[shell];
}
