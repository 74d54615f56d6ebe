// Gathers the health report's parts: the OS for load and memory, nvidia-smi for the GPUs (at
// most every few seconds, however often /healthz is asked), the disk monitor, the supervisor's
// resources, the store's commit times, and the latest failures by kind.
import { availableParallelism, freemem, loadavg, totalmem } from 'node:os';
import type { FailureKind } from '../../machines/failure-kinds.js';
import type { LifecycleEvent } from '../../machines/lifecycle.js';
import type { FolderSpace } from '../media/disk-monitor.js';
import { type GpuDevice, type GpuProbe, type GpuSample, NVIDIA_SMI_SAMPLE, parseGpuSamples } from '../resources/gpu-detect.js';
import { type HealthParts, type HealthReport, warningsOf } from './health-report.js';

const GPU_SAMPLE_MS = 5000;
const LATEST_FAILURES = 20;
const HOUR_MS = 3_600_000;

export interface BoxHealthSources {
  base: () => { ok: boolean; accepting: boolean; store: Record<string, unknown> & { writable: boolean } };
  commitTimes: () => { lastMs: number | null; slowestRecentMs: number | null };
  disks: () => FolderSpace[];
  minFreeBytes: number;
  resources: () => { capacity: Record<string, number>; inUse: Record<string, number> };
  encodersRunning: () => number;
  gpuDevices: readonly GpuDevice[];
  gpuProbe: GpuProbe;
  nowMs: () => number;
}

export class BoxHealth {
  readonly #failures: { kind: FailureKind; atMs: number; at: string }[] = [];
  #samples: { atMs: number; samples: Promise<GpuSample[] | null> } | null = null;

  constructor(private readonly sources: BoxHealthSources) {}

  /** Each failed attempt, from the lifecycle feed. */
  observe(event: LifecycleEvent): void {
    if (event.kind !== 'attempt-ended' || event.failureKind === null) return;
    this.#failures.push({ kind: event.failureKind, atMs: Date.parse(event.at), at: event.at });
    if (this.#failures.length > 1000) this.#failures.splice(0, this.#failures.length - 1000);
  }

  async report(): Promise<HealthReport> {
    const now = this.sources.nowMs();
    const samples = await this.#gpuSamples(now);
    const lastHour: Partial<Record<FailureKind, number>> = {};
    for (const failure of this.#failures) if (now - failure.atMs <= HOUR_MS) lastHour[failure.kind] = (lastHour[failure.kind] ?? 0) + 1;
    const base = this.sources.base();
    const parts: HealthParts = {
      ...base,
      store: { ...base.store, commitMs: this.sources.commitTimes() },
      host: { load: loadavg().map((value) => Math.round(value * 100) / 100), cpus: availableParallelism(), memoryTotalBytes: totalmem(), memoryFreeBytes: freemem() },
      disks: this.sources.disks(),
      minFreeBytes: this.sources.minFreeBytes,
      resources: this.sources.resources(),
      gpus: this.sources.gpuDevices.map((device) => {
        const sample = samples?.find((each) => each.index === device.index);
        return {
          index: device.index,
          name: device.name,
          memoryMiB: device.memoryMiB,
          // A DRI device is not sampled: it counts as present. An NVIDIA card is there if nvidia-smi lists it.
          present: device.vendor !== 'nvidia' || sample !== undefined,
          utilizationPct: sample?.utilizationPct ?? null,
          memoryUsedMiB: sample?.memoryUsedMiB ?? null,
          temperatureC: sample?.temperatureC ?? null,
        };
      }),
      encodersRunning: this.sources.encodersRunning(),
      failures: { lastHour, latest: this.#failures.slice(-LATEST_FAILURES).map(({ kind, at }) => ({ kind, at })) },
    };
    return { ...parts, warnings: warningsOf(parts) };
  }

  #gpuSamples(now: number): Promise<GpuSample[] | null> {
    if (!this.sources.gpuDevices.some((device) => device.vendor === 'nvidia')) return Promise.resolve(null);
    if (this.#samples === null || now - this.#samples.atMs >= GPU_SAMPLE_MS) {
      this.#samples = { atMs: now, samples: this.sources.gpuProbe.run('nvidia-smi', NVIDIA_SMI_SAMPLE).then((stdout) => (stdout === null ? [] : parseGpuSamples(stdout))) };
    }
    return this.#samples.samples;
  }
}
