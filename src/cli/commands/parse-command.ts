// `encsup parse`: a raw encoder log through the progress pipeline, one JSON line per update.
import { type Command, Option } from 'commander';
import { createReadStream } from 'node:fs';
import { PARSER_NAMES, type ParserName } from '../../../machines/job-record.js';
import { planOf } from '../../progress/encode-plan.js';
import { parseLog } from '../../progress/parse-log.js';
import { compilePattern } from '../../progress/parsers/pattern.js';
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
    .action(async (file: string, options: { parser: ParserName; pattern?: string; totalFrames?: string; duration?: string; command?: string }) => {
      const totalFrames = optionalNumber('--total-frames', options.totalFrames);
      const durationSeconds = optionalNumber('--duration', options.duration);
      if (options.pattern) {
        try {
          compilePattern(options.pattern);
        } catch (error) {
          throw new UsageError(`--pattern: ${(error as Error).message}`);
        }
      }
      const parser = options.pattern && options.parser === 'auto' ? 'pattern' : options.parser;
      const input = file === '-' ? io.stdin() : createReadStream(file);
      await new Promise<void>((resolve, reject) => {
        const plan = options.command ? planOf([options.command], true) : null;
        parseLog(input, { parser, pattern: options.pattern ?? null, totalFrames, durationSeconds, plan }).subscribe({
          next: (update) => io.stdout(`${JSON.stringify(update)}\n`),
          error: (error: NodeJS.ErrnoException) =>
            reject(error.code === 'ENOENT' ? new UsageError(`cannot read ${file}: no such file`) : error),
          complete: resolve,
        });
      });
    });
}
