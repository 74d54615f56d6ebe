// Where ffmpeg and ffprobe are: $ENCSUP_FFMPEG / $ENCSUP_FFPROBE, else the system's (Debian's
// `ffmpeg` package), else the static builds that @ffmpeg-installer and @ffprobe-installer ship
// inside their npm packages, so a fresh machine with only Node still runs the demo.
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';

export type MediaTool = 'ffmpeg' | 'ffprobe';

const INSTALLER: Record<MediaTool, string> = { ffmpeg: '@ffmpeg-installer/ffmpeg', ffprobe: '@ffprobe-installer/ffprobe' };
const ENV: Record<MediaTool, string> = { ffmpeg: 'ENCSUP_FFMPEG', ffprobe: 'ENCSUP_FFPROBE' };

export function findOnPath(program: string, pathVariable = process.env['PATH'] ?? ''): string | null {
  for (const folder of pathVariable.split(delimiter)) {
    if (folder === '') continue;
    const candidate = join(folder, program);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; try the next folder
    }
  }
  return null;
}

export function mediaToolPath(tool: MediaTool, env: NodeJS.ProcessEnv = process.env): string {
  const configured = env[ENV[tool]];
  if (configured) return configured;
  const system = findOnPath(tool, env['PATH']);
  if (system) return system;
  try {
    const installer = createRequire(import.meta.url)(INSTALLER[tool]) as { path: string };
    return installer.path;
  } catch {
    throw new Error(`${tool} was not found: install Debian's ffmpeg package (apt-get install ffmpeg), run npm install so ${INSTALLER[tool]} is present, or set ${ENV[tool]}`);
  }
}
