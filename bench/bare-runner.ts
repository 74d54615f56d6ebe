// The least a Node process can do to run the encodes: start each command (child_process.spawn,
// pipes), read its output and drop it, wait for its exit, two at a time. Run as a process of its
// own by the real-encodes figure, whose daemon CPU it stands beside: its own CPU and its
// children's, in seconds, counted as the daemon's are (lib.ts processCpu), as JSON on stdout. The
// commands come as JSON on stdin.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { processCpu } from './lib.js';

interface Request {
  commands: string[][];
  concurrency: number;
}

function run(command: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.resume();
    child.stderr.resume();
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command.join(' ')} exited ${code}`))));
  });
}

const request = JSON.parse(readFileSync(0, 'utf8')) as Request;
const before = processCpu(process.pid);
let next = 0;
const worker = async () => {
  while (next < request.commands.length) await run(request.commands[next++]!);
};
await Promise.all(Array.from({ length: request.concurrency }, worker));
const after = processCpu(process.pid);
process.stdout.write(JSON.stringify({ self: after.self - before.self, children: after.children - before.children }));
