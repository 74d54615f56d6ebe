// `encsup parse`: a raw encoder log through the progress pipeline, one JSON line per update.
import { type Command, Option } from 'commander';
import { createReadStream } from 'node:fs';
import { PARSER_NAMES, type ParserName } from '../../../machines/job-record.js';
import { type CliContext, UsageError, optionalNumber } from '../cli-context.js';

export function registerParseCommand(program: Command, ctx: CliContext): void {
  const { io } = ctx;
  program
    .command('parse')
    .description('read a raw encoder log (or - for stdin) and print one JSON line per progress update')
    .argument('[file]', 'the log; - or nothing reads standard input', '-')
    .addOption(new Option('--parser <name>', 'the output format').choices([...PARSER_NAMES]).default('auto'))
    .option('--pattern <regex>', 'your own regular expression with named groups current/total or percent')
    .option('--total-frames <n>', 'frames the run encodes')
    .option('--duration <seconds>', "seconds of media in the input (shaped by --command's trims into the output's length)")
    .option('--command <line>', 'the command the job ran, as one shell line: its passes and trims are read from it, as the daemon reads them')
    .option('--passes <n>', "the passes the job declared (its submission's passes)")
    .option('--first-pass-share <fraction>', 'the share of the run its first pass takes (the daemon learns it per kind; GET /api/forecast shows it)')
    .option('--json', 'print JSON lines (what it prints anyway)')
    .action(async (file: string, options: { parser: ParserName; pattern?: string; totalFrames?: string; duration?: string; command?: string; passes?: string; firstPassShare?: string }) => {
      const totalFrames = optionalNumber('--total-frames', options.totalFrames);
      const durationSeconds = optionalNumber('--duration', options.duration);
      // The progress pipeline (RxJS, every parser) is loaded for this command only.
      const [{ adjustPlan, planOf }, { parseLog }, { compilePattern }] = await Promise.all([
        import('../../progress/encode-plan.js'),
        import('../../progress/parse-log.js'),
        import('../../progress/parsers/pattern.js'),
      ]);
      if (options.pattern) {
        try {
          compilePattern(options.pattern);
        } catch (error) {
          throw new UsageError(`--pattern: ${(error as Error).message}`);
        }
      }
      const passes = optionalNumber('--passes', options.passes);
      if (passes !== null && !(Number.isInteger(passes) && passes <= 10)) throw new UsageError(`--passes ${options.passes}: expected a whole number from 1 to 10`);
      const share = optionalNumber('--first-pass-share', options.firstPassShare);
      if (share !== null && share >= 1) throw new UsageError(`--first-pass-share ${options.firstPassShare}: expected a fraction between 0 and 1`);
      const parser = options.pattern && options.parser === 'auto' ? 'pattern' : options.parser;
      // Every option is checked before the file is opened: nothing is left reading after a usage error.
      const input = file === '-' ? io.stdin() : createReadStream(file);
      await new Promise<void>((resolve, reject) => {
        const commandPlan = options.command ? planOf([options.command], true) : passes !== null ? planOf([], false) : null;
        const plan = commandPlan && adjustPlan(commandPlan, passes, share);
        parseLog(input, { parser, pattern: options.pattern ?? null, totalFrames, durationSeconds, plan }).subscribe({
          next: (update) => io.stdout(`${JSON.stringify(update)}\n`),
          error: (error: NodeJS.ErrnoException) =>
            reject(error.code === 'ENOENT' ? new UsageError(`cannot read ${file}: no such file`) : error),
          complete: resolve,
        });
      });
    });
}
