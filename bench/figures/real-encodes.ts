// 1. Real encodes through a daemon process (built, as it runs in production), submitted through
// its API and timed from outside until the last is done, against the same commands through
// `xargs -P 2`: encodes of about 2 s each (an 8 s clip, x264 medium) and of about 1 s (a 3 s clip,
// x264 slow), where a job's fixed cost shows, and long ones of about 15 s (a 60 s clip), where
// what it costs per second of encoding shows. The daemon's own CPU (its /proc utime and stime)
// next to its encoders' (their times, reaped by it). Each side runs twice, in the order daemon,
// xargs, xargs, daemon. Then the same encodes once through the least a Node process can do to run
// them (bare-runner.ts): its CPU share is the baseline of the daemon's, the part of it that any
// Node supervisor pays on this machine.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiClient } from '../../src/api/client.js';
import { mediaToolPath } from '../../src/media/binaries.js';
import { runToEnd, startDaemonProcess } from '../daemon-process.js';
import { type Figure, atMost, elapsed, figure, ratioAtMost, secondsToRun } from '../lib.js';

interface Run {
  daemonSeconds: number;
  xargsSeconds: number;
  daemonCpu: number;
  encoderCpu: number;
  /** The bare Node runner's CPU and its encoders', for the same commands once. */
  bareCpu: number;
  bareEncoderCpu: number;
}

const BARE_RUNNER = fileURLToPath(new URL('../bare-runner.ts', import.meta.url));

/** The commands through bare-runner.ts, two at a time: its own CPU and its encoders', in seconds. */
function bareRound(commands: string[][]): { self: number; children: number } {
  const output = execFileSync(process.execPath, [...process.execArgv, BARE_RUNNER], { input: JSON.stringify({ commands, concurrency: 2 }), encoding: 'utf8' });
  return JSON.parse(output) as { self: number; children: number };
}

/** The same encode writing to an output of its own: `suffix` before the last argument's `.mp4`. */
function writingTo(command: string[], suffix: string): string[] {
  return command.map((arg, at) => (at === command.length - 1 ? arg.replace(/\.mp4$/, `${suffix}.mp4`) : arg));
}

/** Submits the commands one after another and waits until each job has ended. */
function runAll(api: ApiClient, commands: string[][]): Promise<void> {
  return runToEnd(api, async (submitted) => {
    for (const command of commands) submitted((await api.submit({ command })).id);
  });
}

/**
 * The daemon's round, then two of `xargs`, then the daemon's again (A B B A), each side's figure
 * the mean of its two: the machine's speed drifts over a run by more than the goals' margins, and
 * this order cancels a steady drift instead of charging it to whichever side ran later.
 */
async function encodeBoth(dir: string, tag: string, commands: string[][], warmUp: string[][]): Promise<Run> {
  const daemon = await startDaemonProcess(join(dir, `encodes-${tag}`), ['--max-concurrent', '2']);
  const api = new ApiClient(daemon.url, daemon.token);
  try {
    // A round of encodes first, unmeasured, as a daemon that has been running has done: what it
    // loads on first use (the pty, the output check) and the code V8 compiles for what runs often
    // are not a cost of every job.
    await runAll(api, warmUp.map((command) => writingTo(command, '-warm-up')));
    const daemonRound = async () => {
      const before = daemon.cpu();
      const start = performance.now();
      await runAll(api, commands);
      const seconds = elapsed(start);
      const after = daemon.cpu();
      return { seconds, daemonCpu: after.self - before.self, encoderCpu: after.children - before.children };
    };
    const lines = commands.map((command) => writingTo(command, '-x').map((arg) => `'${arg}'`).join(' ')).join('\n');
    const xargsRound = () => secondsToRun('xargs', ['-P', '2', '-d', '\n', '-I', '{}', 'sh', '-c', '{}'], lines);
    const first = await daemonRound();
    const xargsSeconds = (await xargsRound()) + (await xargsRound());
    const last = await daemonRound();
    const bare = bareRound(commands.map((command) => writingTo(command, '-bare')));
    return {
      daemonSeconds: (first.seconds + last.seconds) / 2,
      xargsSeconds: xargsSeconds / 2,
      daemonCpu: first.daemonCpu + last.daemonCpu,
      encoderCpu: first.encoderCpu + last.encoderCpu,
      bareCpu: bare.self,
      bareEncoderCpu: bare.children,
    };
  } finally {
    await daemon.stop();
  }
}

export async function realEncodes(quick: boolean, dir: string): Promise<Figure[]> {
  const ffmpeg = mediaToolPath('ffmpeg');
  const clip = (name: string, seconds: number) => {
    const path = join(dir, name);
    execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=duration=${seconds}:size=640x360:rate=24`, '-c:v', 'libx264', '-preset', 'ultrafast', path]);
    return path;
  };
  const twoSecond = clip('two-second.mp4', quick ? 4 : 8);
  const short = clip('short.mp4', 3);
  const long = clip('long.mp4', quick ? 20 : 60);
  const count = quick ? 4 : 8;
  const longCount = quick ? 2 : 4;
  const encode = (input: string, preset: string, output: string) => [ffmpeg, '-hide_banner', '-y', '-i', input, '-c:v', 'libx264', '-preset', preset, '-threads', '1', join(dir, output)];
  const twoSecondEncodes = Array.from({ length: count }, (_, i) => encode(twoSecond, 'medium', `two-second${i}.mp4`));
  const shortEncodes = Array.from({ length: 6 }, (_, i) => encode(short, 'slow', `short${i}.mp4`));
  const twoSecondRun = await encodeBoth(dir, 'two-second', twoSecondEncodes, twoSecondEncodes);
  const shortRun = await encodeBoth(dir, 'short', shortEncodes, shortEncodes);
  const longEncodes = Array.from({ length: longCount }, (_, i) => encode(long, 'medium', `long${i}.mp4`));
  const longRun = await encodeBoth(dir, 'long', longEncodes, longEncodes);
  const shortShare = ((twoSecondRun.daemonCpu + shortRun.daemonCpu) / (twoSecondRun.encoderCpu + shortRun.encoderCpu)) * 100;
  const longShare = (longRun.daemonCpu / longRun.encoderCpu) * 100;
  const bareShortShare = ((twoSecondRun.bareCpu + shortRun.bareCpu) / (twoSecondRun.bareEncoderCpu + shortRun.bareEncoderCpu)) * 100;
  const bareLongShare = (longRun.bareCpu / longRun.bareEncoderCpu) * 100;
  const bareAgainst = 'a bare Node script that only starts the same encodes and reads their output';
  return [
    figure(`${count} real encodes (${quick ? 4 : 8} s clip, x264 medium, about ${quick ? 1 : 2} s each), wall time`, twoSecondRun.daemonSeconds, 's', twoSecondRun.xargsSeconds, 'xargs -P 2, same commands', ratioAtMost(1.03, twoSecondRun.daemonSeconds, twoSecondRun.xargsSeconds)),
    figure('6 short encodes (3 s clip, x264 slow, about 1 s each), through the API, wall time', shortRun.daemonSeconds, 's', shortRun.xargsSeconds, 'xargs -P 2, same commands', ratioAtMost(1.03, shortRun.daemonSeconds, shortRun.xargsSeconds)),
    // 1.00×, to the percent: two `xargs` rounds of the same commands differ by about that much.
    figure(`${longCount} long encodes (${quick ? 20 : 60} s clip, x264 medium, about ${quick ? 5 : 15} s each), wall time`, longRun.daemonSeconds, 's', longRun.xargsSeconds, 'xargs -P 2, same commands', ratioAtMost(1.01, longRun.daemonSeconds, longRun.xargsSeconds)),
    figure('daemon CPU as % of encoder CPU, the encodes of about 2 s and 1 s', shortShare, '%', bareShortShare, bareAgainst, atMost(0.5, '%', shortShare)),
    figure('daemon CPU as % of encoder CPU, the long encodes', longShare, '%', bareLongShare, bareAgainst, atMost(0.5, '%', longShare)),
  ];
}
