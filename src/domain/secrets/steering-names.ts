/**
 * Variable names that steer an interpreter, the loader or a tool: a secret with such a name
 * changes what a job runs (which code is loaded, which command is spawned, which file is
 * trusted) without touching the service's command. Setting one needs the permission that may
 * change what a job runs (`secrets:write-steering`, see policy/roles.ts). Names are matched
 * exactly and case-sensitively, as the operating system reads them. docs/steering-variables.md
 * lists the same groups; a test keeps the two in step.
 */

/** One group of steering names with the reason they steer. */
export interface SteeringGroup {
  /** What the group steers, in one line. */
  reason: string;
  /** Names matched exactly. */
  names: readonly string[];
  /** Prefixes: every name starting with one of them. */
  prefixes: readonly string[];
}

export const STEERING_GROUPS: readonly SteeringGroup[] = [
  {
    reason: 'the dynamic loader and libc: preload a library or load one from elsewhere',
    names: ['GCONV_PATH', 'GLIBC_TUNABLES'],
    prefixes: ['LD_', 'DYLD_'],
  },
  {
    reason: 'lookup: PATH picks the binary, HOME and XDG_CONFIG_HOME the dotfiles, SHELL the shell',
    names: ['PATH', 'HOME', 'CDPATH', 'XDG_CONFIG_HOME', 'SHELL'],
    prefixes: [],
  },
  {
    reason: 'shells: startup files sourced, options, traced or prompt code run, word splitting',
    names: [
      'BASH_ENV',
      'ENV',
      'ZDOTDIR',
      'SHELLOPTS',
      'BASHOPTS',
      'BASH_LOADABLES_PATH',
      'PS4',
      'PROMPT_COMMAND',
      'IFS',
    ],
    // Exported bash functions (Shellshock): bash defines a function from each of them.
    prefixes: ['BASH_FUNC_'],
  },
  {
    reason: 'Node.js and its package managers: options (--import, --require) and module paths',
    names: ['NODE_OPTIONS', 'NODE_PATH', 'NODE_REPL_EXTERNAL_MODULE'],
    // npm reads npm_config_* in any case (node-options, script-shell, userconfig); Yarn reads
    // YARN_* (yarn-path runs a file).
    prefixes: ['NPM_CONFIG_', 'YARN_'],
  },
  {
    reason: 'Python: module paths, startup and site files, imports named by warnings or breakpoint',
    names: [
      'PYTHONPATH',
      'PYTHONSTARTUP',
      'PYTHONHOME',
      'PYTHONINSPECT',
      'PYTHONUSERBASE',
      'PYTHONPLATLIBDIR',
      'PYTHONWARNINGS',
      'PYTHONBREAKPOINT',
    ],
    prefixes: [],
  },
  {
    reason: 'Perl and Ruby: options (-M, -r) and library paths',
    names: [
      'PERL5OPT',
      'PERL5LIB',
      'PERLLIB',
      'PERL5DB',
      'RUBYOPT',
      'RUBYLIB',
      'GEM_HOME',
      'GEM_PATH',
      'BUNDLE_GEMFILE',
    ],
    prefixes: [],
  },
  {
    reason: 'the JVM, .NET and PHP: agents, startup hooks, profilers, class paths, ini files',
    names: [
      'JAVA_TOOL_OPTIONS',
      '_JAVA_OPTIONS',
      'JDK_JAVA_OPTIONS',
      'CLASSPATH',
      'DOTNET_STARTUP_HOOKS',
      'DOTNET_ADDITIONAL_DEPS',
      'PHPRC',
      'PHP_INI_SCAN_DIR',
    ],
    prefixes: ['CORECLR_PROFILER'],
  },
  {
    reason: 'git: configuration (core.sshCommand, core.fsmonitor run commands), helpers, hooks',
    names: [
      'GIT_CONFIG',
      'GIT_EXEC_PATH',
      'GIT_SSH',
      'GIT_SSH_COMMAND',
      'GIT_ASKPASS',
      'GIT_TEMPLATE_DIR',
      'GIT_PROXY_COMMAND',
      'GIT_EXTERNAL_DIFF',
      'GIT_DIR',
      'GIT_COMMON_DIR',
      'SSH_ASKPASS',
      'SSH_ASKPASS_REQUIRE',
    ],
    // GIT_CONFIG_GLOBAL, _SYSTEM, _NOSYSTEM, _COUNT, _KEY_<n>, _VALUE_<n>, _PARAMETERS.
    prefixes: ['GIT_CONFIG_'],
  },
  {
    reason: 'pagers and editors: command lines that tools run (less runs LESSOPEN)',
    names: [
      'PAGER',
      'GIT_PAGER',
      'MANPAGER',
      'EDITOR',
      'VISUAL',
      'GIT_EDITOR',
      'GIT_SEQUENCE_EDITOR',
      'LESSOPEN',
      'LESSCLOSE',
    ],
    prefixes: [],
  },
  {
    reason: 'OpenSSL: its configuration loads engines and providers (shared libraries)',
    names: ['OPENSSL_CONF', 'OPENSSL_ENGINES', 'OPENSSL_MODULES'],
    prefixes: [],
  },
  {
    reason: 'libpq: the key, certificates, password file and service file it reads',
    names: [
      'PGSSLKEY',
      'PGSSLCERT',
      'PGSSLROOTCERT',
      'PGSSLCRL',
      'PGSSLCRLDIR',
      'PGPASSFILE',
      'PGSERVICEFILE',
      'PGSYSCONFDIR',
    ],
    prefixes: [],
  },
];

const EXACT: ReadonlySet<string> = new Set(STEERING_GROUPS.flatMap((g) => g.names));
const PREFIXES: readonly string[] = STEERING_GROUPS.flatMap((g) => g.prefixes);

/**
 * Whether a variable name steers what a job runs (case-sensitive, as the OS reads it).
 *
 * @example isSteeringName('NODE_OPTIONS') // true
 * @example isSteeringName('node_options') // false: not the variable Node reads
 */
export function isSteeringName(name: string): boolean {
  return EXACT.has(name) || PREFIXES.some((p) => name.startsWith(p));
}
