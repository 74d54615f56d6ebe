// `encsup completion bash|zsh`: a completion script made from the command tree itself (commands
// and their flags), so it can't fall behind a new flag. Load with `source <(encsup completion bash)`
// or, for zsh, `source <(encsup completion zsh)` (bash-compatible completion through bashcompinit).
import type { Command } from 'commander';
import { type CliContext, UsageError } from '../cli-context.js';

export function registerCompletionCommand(program: Command, ctx: CliContext): void {
  program
    .command('completion')
    .description('print a shell completion script: source <(encsup completion bash)')
    .argument('<shell>', 'bash or zsh')
    .action((shell: string) => {
      if (shell !== 'bash' && shell !== 'zsh') throw new UsageError(`completion ${shell}: expected bash or zsh`);
      ctx.io.stdout(completionScript(program, shell));
    });
}

export function completionScript(program: Command, shell: 'bash' | 'zsh'): string {
  const globals = program.options.map((option) => option.long).filter(Boolean) as string[];
  const cases = program.commands
    .map((command) => {
      const flags = [...command.options.map((option) => option.long).filter(Boolean), '--help', ...globals];
      return `    ${[command.name(), ...command.aliases()].join('|')}) words_for="${flags.join(' ')}" ;;`;
    })
    .join('\n');
  const names = program.commands.map((command) => command.name()).join(' ');
  // Global flags that take a value: the word after one is its value, not the command.
  const valued = program.options.filter((option) => option.required || option.optional).map((option) => option.long).filter(Boolean).join('|');
  const body = `_encsup() {
  local current=\${COMP_WORDS[COMP_CWORD]} command="" words_for=""
  local i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case \${COMP_WORDS[i]} in ${valued}) ((i++)) ;; -*) ;; *) command=\${COMP_WORDS[i]}; break ;; esac
  done
  if [ -z "$command" ]; then
    COMPREPLY=($(compgen -W "${names} ${globals.join(' ')} --help --version" -- "$current"))
    return
  fi
  case $command in
${cases}
  esac
  if [[ $current == -* ]]; then COMPREPLY=($(compgen -W "$words_for" -- "$current")); else COMPREPLY=($(compgen -f -- "$current")); fi
}
complete -F _encsup encsup
`;
  return shell === 'zsh' ? `autoload -U +X bashcompinit && bashcompinit\n${body}` : body;
}
