// What /healthz, /metrics and the dashboard say about the box: free space where jobs write, load
// and memory, each resource's capacity and use, the GPUs and how hot and busy they are, the store's
// write latency, the latest failures by kind; and warnings before things fail. The warnings are
// worked out here, from the parts (pure); the parts are gathered in box-health.ts.
import type { FailureKind } from '../../machines/failure-kinds.js';
import { formatBytes } from '../../machines/resources.js';
import type { FolderSpace } from '../media/disk-monitor.js';

export interface GpuHealth {
  index: number;
  name: string;
  memoryMiB: number | null;
  /** Listed by nvidia-smi now; false: it was there at start and is gone. */
  present: boolean;
  utilizationPct: number | null;
  memoryUsedMiB: number | null;
  temperatureC: number | null;
}

export interface HealthParts {
  ok: boolean;
  accepting: boolean;
  store: Record<string, unknown> & { writable: boolean; commitMs: { lastMs: number | null; slowestRecentMs: number | null } };
  host: { load: number[]; cpus: number; memoryTotalBytes: number; memoryFreeBytes: number };
  disks: FolderSpace[];
  minFreeBytes: number;
  resources: { capacity: Record<string, number>; inUse: Record<string, number> };
  gpus: GpuHealth[];
  encodersRunning: number;
  failures: { lastHour: Partial<Record<FailureKind, number>>; latest: { kind: FailureKind; at: string }[] };
}

export type HealthReport = HealthParts & { warnings: string[] };

const HOT_GPU_C = 85;
const SLOW_COMMIT_MS = 1000;
const LOW_MEMORY_SHARE = 0.05;
// A disk with less than this many times --min-free left is nearly full (or 5 % when there is no floor).
const NEARLY_FULL_FACTOR = 2;

export function warningsOf(parts: HealthParts): string[] {
  const warnings: string[] = [];
  if (!parts.store.writable) warnings.push('the store cannot be written: submissions are refused until it can');
  if (parts.store.commitMs.slowestRecentMs !== null && parts.store.commitMs.slowestRecentMs > SLOW_COMMIT_MS) {
    warnings.push(`store writes are slow: the slowest of the latest took ${Math.round(parts.store.commitMs.slowestRecentMs)} ms`);
  }
  for (const disk of parts.disks) {
    if (disk.freeBytes === null) warnings.push(`the free space of ${disk.folder} cannot be read (is it there?)`);
    else if (disk.short) warnings.push(`${disk.folder} has ${formatBytes(disk.freeBytes)} free, under --min-free ${formatBytes(parts.minFreeBytes)}: jobs writing there wait`);
    else if (parts.minFreeBytes > 0 && disk.freeBytes < NEARLY_FULL_FACTOR * parts.minFreeBytes) warnings.push(`${disk.folder} is nearly full: ${formatBytes(disk.freeBytes)} free`);
  }
  if (parts.host.memoryFreeBytes < LOW_MEMORY_SHARE * parts.host.memoryTotalBytes) warnings.push(`memory is low: ${formatBytes(parts.host.memoryFreeBytes)} free of ${formatBytes(parts.host.memoryTotalBytes)}`);
  if ((parts.host.load[0] ?? 0) > 2 * parts.host.cpus) warnings.push(`the load (${parts.host.load[0]!.toFixed(1)}) is over twice the ${parts.host.cpus} CPUs`);
  for (const gpu of parts.gpus) {
    if (!gpu.present) warnings.push(`GPU ${gpu.index} (${gpu.name}) is gone: nvidia-smi no longer lists it`);
    else if (gpu.temperatureC !== null && gpu.temperatureC >= HOT_GPU_C) warnings.push(`GPU ${gpu.index} (${gpu.name}) is hot: ${gpu.temperatureC} °C`);
  }
  return warnings;
}
