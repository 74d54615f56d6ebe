// Which GPUs this box has, for `--resources auto`: NVIDIA cards from `nvidia-smi` (index, name,
// memory, and the NVENC sessions a card allows), else DRI render nodes (/dev/dri/renderD*) for
// VAAPI and QSV, else none. The reading is pure (parseNvidiaSmi, nvencSessions); the probe that
// runs nvidia-smi and lists /dev/dri is injected, so tests feed it recorded output.
import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';

export interface GpuDevice {
  /** As CUDA_VISIBLE_DEVICES and nvidia-smi number them; for DRI nodes, their order. */
  index: number;
  vendor: 'nvidia' | 'intel' | 'amd' | 'dri';
  name: string;
  memoryMiB: number | null;
  /** /dev/dri/renderD128 and so on, for VAAPI/QSV; null for NVIDIA cards (CUDA needs none). */
  renderNode: string | null;
  /** NVENC sessions the card allows at once: null = no limit, 0 = the card has no NVENC. */
  nvencSessions: number | null;
}

export interface GpuSample {
  index: number;
  utilizationPct: number | null;
  memoryUsedMiB: number | null;
  temperatureC: number | null;
}

export interface GpuProbe {
  /** A program's standard output, or null when it is not there or fails. */
  run(file: string, args: string[]): Promise<string | null>;
  /** The render nodes in /dev/dri, with their PCI vendor ids where readable. */
  renderNodes(): Promise<{ path: string; vendorId: string | null }[]>;
}

export const NVIDIA_SMI_QUERY = ['--query-gpu=index,name,memory.total', '--format=csv,noheader,nounits'];
export const NVIDIA_SMI_SAMPLE = ['--query-gpu=index,utilization.gpu,memory.used,temperature.gpu', '--format=csv,noheader,nounits'];

// GeForce and TITAN cards cap concurrent NVENC sessions in the driver: 8 since the 550 drivers
// (3 before 2023, 5 until 2024). Set `nvenc=N` with --resources for an older driver.
const CONSUMER_NVENC_SESSIONS = 8;
// Compute cards built without NVENC engines.
const NO_NVENC = /\b(H100|H200|H800|A100|A800|A30|B100|B200|GH200|GB200|V100|P100|K80)\b/i;
const CONSUMER = /\b(GeForce|TITAN)\b/i;

/** The NVENC sessions a card of this name allows: 0 (none), a driver's cap, or null (no cap). */
export function nvencSessions(name: string): number | null {
  if (NO_NVENC.test(name)) return 0;
  if (CONSUMER.test(name)) return CONSUMER_NVENC_SESSIONS;
  return null;
}

function numberOrNull(text: string | undefined): number | null {
  const value = Number(text?.trim());
  return text === undefined || text.trim() === '' || !Number.isFinite(value) ? null : value;
}

/** `nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader,nounits`, read. */
export function parseNvidiaSmi(stdout: string): GpuDevice[] {
  const devices: GpuDevice[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const fields = line.split(',').map((field) => field.trim());
    const index = Number(fields[0]);
    if (fields.length < 3 || fields[0] === '' || !Number.isInteger(index) || index < 0) continue;
    // A name may hold commas in no card known, but keep whatever sits between index and memory.
    const name = fields.slice(1, -1).join(', ');
    devices.push({ index, vendor: 'nvidia', name, memoryMiB: numberOrNull(fields.at(-1)), renderNode: null, nvencSessions: nvencSessions(name) });
  }
  return devices;
}

/** `nvidia-smi --query-gpu=index,utilization.gpu,memory.used,temperature.gpu …`: "[N/A]" is null. */
export function parseGpuSamples(stdout: string): GpuSample[] {
  const samples: GpuSample[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const [index, utilization, memory, temperature] = line.split(',').map((field) => field.trim());
    const at = Number(index);
    if (index === undefined || index === '' || !Number.isInteger(at)) continue;
    samples.push({ index: at, utilizationPct: numberOrNull(utilization), memoryUsedMiB: numberOrNull(memory), temperatureC: numberOrNull(temperature) });
  }
  return samples;
}

const DRI_VENDORS: Record<string, GpuDevice['vendor']> = { '0x8086': 'intel', '0x1002': 'amd' };

export async function detectGpus(probe: GpuProbe): Promise<GpuDevice[]> {
  const smi = await probe.run('nvidia-smi', NVIDIA_SMI_QUERY);
  const nvidia = smi === null ? [] : parseNvidiaSmi(smi);
  if (nvidia.length > 0) return nvidia;
  // No NVIDIA card: each render node is a VAAPI/QSV device (an NVIDIA card's own node is left to CUDA).
  const nodes = (await probe.renderNodes()).filter((node) => node.vendorId !== '0x10de').sort((a, b) => a.path.localeCompare(b.path));
  return nodes.map((node, index) => {
    const vendor: GpuDevice['vendor'] = (node.vendorId ? DRI_VENDORS[node.vendorId] : undefined) ?? 'dri';
    return { index, vendor, name: `${vendor === 'dri' ? 'DRI device' : vendor === 'intel' ? 'Intel GPU' : 'AMD GPU'} (${node.path})`, memoryMiB: null, renderNode: node.path, nvencSessions: 0 };
  });
}

/**
 * What detected GPUs add to the box's resources: `gpu` (one job per card unless set otherwise)
 * and, where every card's NVENC sessions are capped or absent, `nvenc` (their sum).
 */
export function detectedCapacity(devices: readonly GpuDevice[]): Record<string, number> {
  if (devices.length === 0) return {};
  const capacity: Record<string, number> = { gpu: devices.length };
  const sessions = devices.map((device) => device.nvencSessions);
  if (devices.some((device) => device.vendor === 'nvidia') && sessions.every((count) => count !== null)) capacity['nvenc'] = sessions.reduce<number>((sum, count) => sum + (count ?? 0), 0);
  return capacity;
}

/** The GPU indices jobs are handed: the cards found, else 0 … gpu-1 of a declared `gpu=N`. */
export function deviceIndices(devices: readonly GpuDevice[], capacity: Readonly<Record<string, number>>): number[] {
  if (devices.length > 0) return devices.map((device) => device.index);
  return Array.from({ length: capacity['gpu'] ?? 0 }, (_, index) => index);
}

/** The real probe: nvidia-smi on PATH (5 s at most), /dev/dri and its sysfs vendor ids. */
export const systemGpuProbe: GpuProbe = {
  run: (file, args) =>
    new Promise((resolve) => {
      execFile(file, args, { timeout: 5000, maxBuffer: 1024 * 1024 }, (error, stdout) => resolve(error ? null : stdout));
    }),
  async renderNodes() {
    const names = await readdir('/dev/dri').catch(() => [] as string[]);
    return Promise.all(
      names
        .filter((name) => /^renderD\d+$/.test(name))
        .map(async (name) => ({ path: `/dev/dri/${name}`, vendorId: (await readFile(`/sys/class/drm/${name}/device/vendor`, 'utf8').catch(() => '')).trim() || null })),
    );
  },
};
