// What a job that was given GPUs sees: the devices in its environment (CUDA_VISIBLE_DEVICES for
// CUDA, NVENC and NVDEC; ENCSUP_GPU for scripts; ENCSUP_RENDER_NODE for VAAPI/QSV where the device
// is a DRI render node) and `{gpu}` in its command replaced by the index, e.g. `-hwaccel_device
// {gpu}` or `-init_hw_device vaapi=va:{render_node}`.
import type { GpuDevice } from './gpu-detect.js';

export const GPU_PLACEHOLDER = '{gpu}';
export const RENDER_NODE_PLACEHOLDER = '{render_node}';

export function gpuEnvironment(gpus: readonly number[], devices: readonly GpuDevice[]): Record<string, string> {
  if (gpus.length === 0) return {};
  const renderNode = devices.find((device) => device.index === gpus[0])?.renderNode ?? null;
  return {
    CUDA_VISIBLE_DEVICES: gpus.join(','),
    ENCSUP_GPU: gpus.join(','),
    ...(renderNode ? { ENCSUP_RENDER_NODE: renderNode } : {}),
  };
}

export function substituteGpu(command: readonly string[], gpus: readonly number[], devices: readonly GpuDevice[]): string[] {
  const renderNode = devices.find((device) => device.index === gpus[0])?.renderNode ?? '';
  return command.map((arg) => arg.replaceAll(GPU_PLACEHOLDER, gpus.join(',')).replaceAll(RENDER_NODE_PLACEHOLDER, renderNode));
}
