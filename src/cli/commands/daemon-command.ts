// `encsup daemon`: the daemon in the foreground, until SIGTERM or SIGINT. Its flags are generated
// from the settings table in config.ts, so every setting has its flag, help and variable there.
// The daemon's machinery (and the stores' for migrate-store) is loaded when the command runs, and
// the settings table (with its schemas) only when `daemon` is the command: `encsup --help` or
// `encsup list` need none of it.
import { type Command, Option } from 'commander';
import { delimiter, join } from 'node:path';
import type { ConfigFlags } from '../../config.js';
import { optimiseOnlyOftenRunCode } from '../../optimising-budget.js';
import { type CliContext, collect } from '../cli-context.js';

/** `withFlags`: the command line needs the daemon's flags (to run it, its help, completion); else only its name is listed. */
export async function registerDaemonCommand(program: Command, ctx: CliContext, withFlags: boolean): Promise<void> {
  const { io } = ctx;
  const command = program.command('daemon').description('run the supervisor daemon in the foreground (the only process that opens the store)');
  if (!withFlags) return;
  const { resolveConfig, settingFlags } = await import('../../config.js');
  // --data-dir is a global flag: the client commands read the token from the same folder.
  const settings = settingFlags().filter((setting) => setting.name !== 'dataDir');
  for (const setting of settings) {
    const help = `${setting.help} (env ${setting.env.join(', ')}${setting.fallback === '' || !setting.value ? '' : `, default ${setting.fallback}`})`;
    const option = new Option(setting.value ? `${setting.flag} <${setting.value}>` : setting.flag, help);
    command.addOption(setting.repeatable ? option.argParser(collect).default(undefined) : option);
  }
  command.action(async (options: Record<string, string | string[] | boolean | undefined>) => {
    const flags: ConfigFlags = { dataDir: ctx.dataDirFlag() };
    for (const setting of settings) {
      const key = optionKey(setting.flag);
      const value = options[key];
      if (Array.isArray(value)) flags[setting.name] = value.join(delimiter);
      // A `--no-x` switch is true unless given; only its "off" is a choice the user made.
      else if (typeof value === 'boolean') flags[setting.name] = value ? undefined : 'off';
      else flags[setting.name] = value;
    }
    const config = resolveConfig(flags, io.env);
    // Before the daemon's code is loaded: its functions start with the daemon's budget.
    optimiseOnlyOftenRunCode();
    const [{ startDaemon }, { createDefaultDeps }] = await Promise.all([import('../../daemon.js'), import('../../deps.js')]);
    const deps = createDefaultDeps();
    const daemon = await startDaemon(config, deps);
    // On a terminal, a word for the person who started it; elsewhere (systemd, supervisord, a pipe)
    // the JSON log lines say the same, and nothing else is written.
    if (io.terminal) {
      io.stderr(`encsup daemon listening on ${daemon.url} (data in ${config.dataDir})\n`);
      if (daemon.loginUrl) io.stderr(`dashboard: ${daemon.loginUrl}\n`);
    }
    const signal = await io.stopSignal();
    deps.logger.info({ signal }, 'stopping: ending encoders and saving every job');
    await daemon.close();
  });
}

/** Commander's key for a flag: `--max-concurrent` → maxConcurrent, `--no-auth` → auth. */
function optionKey(flag: string): string {
  return flag
    .replace(/^--(no-)?/, '')
    .replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/**
 * `encsup migrate-store --to postgres://…`: copies the jobs of the data folder's file store into
 * PostgreSQL, with the daemon stopped (the folder's lock is taken, and the database's). The file is
 * left as it was; start the daemon with --store afterwards.
 */
export function registerMigrateStoreCommand(program: Command, ctx: CliContext): void {
  const { io } = ctx;
  program
    .command('migrate-store')
    .description("copy the data folder's jobs into PostgreSQL (stop the daemon first); the file is left as it was")
    .requiredOption('--to <url>', 'the PostgreSQL store, postgres://user:password@host/database')
    .option('--replace', 'replace jobs the database already holds (default: keep them)')
    .option('--json', 'print JSON: {copied, kept, problems}')
    .action(async (options: { to: string; replace?: boolean; json?: boolean }) => {
      const { resolveConfig } = await import('../../config.js');
      const config = resolveConfig({ dataDir: ctx.dataDirFlag(), store: options.to }, io.env);
      const [{ lockDataFolder }, { copyJobs }, { openFileStore }, { openPostgresStore }, { redactedUrl }] = await Promise.all([
        import('../../folder-lock.js'),
        import('../../store/copy-store.js'),
        import('../../store/file-store.js'),
        import('../../store/postgres-store.js'),
        import('../../store/store-url.js'),
      ]);
      const lock = await lockDataFolder(config.dataDir, () => new Date().toISOString());
      try {
        const source = await openFileStore(join(config.dataDir, 'jobs.db'));
        try {
          const target = await openPostgresStore(config.store, { hostName: 'encsup migrate-store' });
          try {
            const report = await copyJobs(source, target, { replace: options.replace === true });
            if (options.json) return io.stdout(`${JSON.stringify(report, null, 2)}\n`);
            io.stdout(`copied ${report.copied} job(s) from ${join(config.dataDir, 'jobs.db')} to ${redactedUrl(config.store)}\n`);
            if (report.kept.length > 0) io.stdout(`kept ${report.kept.length} job(s) the database already held (--replace to overwrite them)\n`);
            for (const problem of report.problems) io.stderr(`${problem}\n`);
            io.stdout(`next: start the daemon with --store ${redactedUrl(config.store)}\n`);
          } finally {
            await target.close();
          }
        } finally {
          await source.close();
        }
      } finally {
        await lock.release();
      }
    });
}
