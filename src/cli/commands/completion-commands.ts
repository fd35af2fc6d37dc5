import { Argument, type Command } from 'commander';

import type { Shell } from '../completion.js';

const INSTALL_HELP = `
Load it into the current shell:
  bash:  source <(hush completion bash)
  zsh:   source <(hush completion zsh)           (after compinit)
  fish:  hush completion fish | source

Install it for every new shell:
  bash:  mkdir -p ~/.local/share/bash-completion/completions     (read by bash-completion)
         hush completion bash > ~/.local/share/bash-completion/completions/hush
  zsh:   mkdir -p ~/.zfunc && hush completion zsh > ~/.zfunc/_hush
         and in ~/.zshrc, before compinit: fpath=(~/.zfunc $fpath)
  fish:  hush completion fish > ~/.config/fish/completions/hush.fish

Commands and flags complete offline. Project, environment, service and organization names come
from the server when you are signed in (or HUSH_TOKEN is set), if it answers within 1.5 seconds.
`;

/**
 * `hush completion bash|zsh|fish`, and the hidden `hush __complete -- WORDS…` its scripts call
 * back into (as cobra's do). Both load the completer only when they run: nothing at start.
 */
export function registerCompletionCommands(program: Command): void {
  program
    .command('completion')
    .description('Print a shell completion script for bash, zsh or fish')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']))
    .addHelpText('after', INSTALL_HELP)
    .action(async (shell: Shell) => {
      const { completionScript } = await import('../completion.js');
      process.stdout.write(completionScript(shell));
    });

  program
    .command('__complete', { hidden: true })
    .description('Complete the last of WORDS (the words after "hush"), one candidate a line')
    .argument('[words...]', 'the command line after "hush", up to the word being completed')
    .allowUnknownOption()
    .action(async (words: string[], _opts: unknown, cmd: Command) => {
      const { complete, formatCompletion } = await import('../completion.js');
      let root = cmd;
      while (root.parent) root = root.parent;
      const completion = await complete(root, words.length > 0 ? words : ['']);
      // A lookup still waiting on the server must not keep the shell waiting: exit once written.
      process.stdout.write(formatCompletion(completion), () => {
        if (completion.abandoned) process.exit(0);
      });
    });
}
