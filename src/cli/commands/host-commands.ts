// `encsup hosts`: the farm's hosts (heartbeat, cap, resources, the jobs each holds), and draining or
// resuming one of them from any host.
import type { Command } from 'commander';
import type { HostView } from '../../farm/host-view.js';
import type { CliContext } from '../cli-context.js';

export function registerHostCommands(program: Command, ctx: CliContext): void {
  const { io, client } = ctx;
  const hosts = program
    .command('hosts')
    .description('list the hosts of the farm (daemons sharing one PostgreSQL store)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const found = await client().hosts();
      if (options.json) return io.stdout(`${JSON.stringify(found, null, 2)}\n`);
      io.stdout(found.length === 0 ? 'no hosts: this daemon is not part of a farm (see --store in the README)\n' : formatHosts(found));
    });
  for (const [name, draining] of [['drain', true], ['resume', false]] as const) {
    hosts
      .command(name)
      .description(draining ? 'stop a host from starting new jobs; its running jobs finish' : 'let a drained host take jobs again')
      .argument('<host>', 'the host\'s name')
      .option('--json', 'print the host as JSON')
      .action(async (host: string, options: { json?: boolean }) => {
        const api = client();
        const changed = draining ? await api.drainHost(host) : await api.resumeHost(host);
        io.stdout(options.json ? `${JSON.stringify(changed, null, 2)}\n` : formatHosts([changed]));
      });
  }
}

/** One line per host: name, state, heartbeat age, running/cap, labels, what it holds. */
export function formatHosts(hosts: HostView[]): string {
  const rows = hosts.map((host) => [
    host.name,
    host.draining && host.state !== 'stopped' ? `${host.state}, drained` : host.state,
    host.state === 'stopped' ? '-' : `${host.heartbeatAgeSec}s ago`,
    `${host.running}/${host.maxConcurrent === 0 ? '∞' : host.maxConcurrent}`,
    Object.entries(host.capacity).map(([name, amount]) => `${name}=${amount}`).join(',') || '-',
    host.labels.join(',') || '-',
    host.jobs.length === 0 ? '-' : host.jobs.map((id) => id.slice(0, 8)).join(' '),
  ]);
  const header = ['HOST', 'STATE', 'HEARTBEAT', 'RUNNING', 'RESOURCES', 'LABELS', 'JOBS'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  return [header, ...rows].map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ')).join('\n') + '\n';
}
