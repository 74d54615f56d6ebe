// A watched folder that is missing, not a folder, or unreadable: refused before watching starts.
// Its own file, so the CLI can tell it apart without loading the watcher (and chokidar).
export class WatchFolderError extends Error {
  readonly code = 'ENCSUP_WATCH_FOLDER';
}
