// The `encsup` command. runCli takes its arguments and streams as parameters and returns the exit
// code; only bin.ts touches process.argv, signals and process.exit. Each command lives in
// commands/; this file assembles them and turns errors into messages and exit codes.
import { Command, CommanderError } from 'commander';
import { ClientError } from '../api/client.js';
import { ConfigError } from '../config-error.js';
import { WatchFolderError } from '../watch/watch-folder-error.js';
import { encsupVersion } from '../encsup-package.js';
import { type CliIo, UsageError, createContext } from './cli-context.js';
import { registerCompletionCommand } from './commands/completion-command.js';
import { registerDaemonCommand, registerMigrateStoreCommand } from './commands/daemon-command.js';
import { registerHostCommands } from './commands/host-commands.js';
import { registerJobCommands } from './commands/job-commands.js';
import { registerParseCommand } from './commands/parse-command.js';
import { registerWatchCommands } from './commands/watch-commands.js';

export type { CliIo } from './cli-context.js';

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const program = new Command('encsup')
    .description('Supervisor daemon for long-running video encoding and render jobs')
    .option('--url <url>', 'the daemon to talk to (default: $ENCSUP_URL or http://127.0.0.1:8787)')
    .option('--data-dir <dir>', "the daemon's data folder: where `daemon` keeps its store, and where the others read its token (env ENCSUP_DATA_DIR, default ./.encsup)")
    .version(encsupVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run with --help for usage)');
  const ctx = createContext(program, io, (code) => (exitCode = code));
  // The daemon's flags (and the settings table behind them) only where they are read: running or
  // helping `daemon`, and the completion script, which lists every command's flags.
  const named = commandNamed(argv);
  await registerDaemonCommand(program, ctx, named === 'daemon' || named === 'completion');
  registerMigrateStoreCommand(program, ctx);
  registerJobCommands(program, ctx);
  registerWatchCommands(program, ctx);
  registerHostCommands(program, ctx);
  registerParseCommand(program, ctx);
  registerCompletionCommand(program, ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    exitCode = reportError(error, io, argv);
  }
  return exitCode;
}

/** The command a command line names (`help daemon` names daemon), past the global options. */
function commandNamed(argv: string[]): string | undefined {
  const words: string[] = [];
  for (let at = 0; at < argv.length; at++) {
    const arg = argv[at]!;
    if (arg === '--') break;
    if (arg === '--url' || arg === '--data-dir') at++;
    else if (!arg.startsWith('-')) words.push(arg);
    if (words.length === 2) break;
  }
  return words[0] === 'help' ? words[1] : words[0];
}

function reportError(error: unknown, io: CliIo, argv: string[]): number {
  if (error instanceof CommanderError) {
    // Commander has already printed its message. The usual slip: the encoder's own options taken
    // for encsup's, for want of a `--`.
    if (error.code === 'commander.unknownOption' && argv.includes('submit') && !argv.includes('--')) {
      io.stderr(`hint: put -- before the command, so its options are not read as encsup's:\n  encsup submit [options] -- ${argv.slice(argv.indexOf('submit') + 1).join(' ')}\n`);
    }
    return error.exitCode === 0 ? 0 : 2;
  }
  if (error instanceof ClientError || error instanceof ConfigError || error instanceof UsageError || error instanceof WatchFolderError) {
    io.stderr(`encsup: ${error.message}\n`);
    return error instanceof ClientError && error.status === 404 ? 3 : 1;
  }
  io.stderr(`encsup: ${(error as Error).message ?? String(error)}\n`);
  return 1;
}
