// A setting that is not valid: which one (flag or variable), its value (secrets hidden) and why.
// A file of its own, so the CLI can tell it apart without loading the settings' schemas.

export class ConfigError extends Error {
  readonly code = 'ENCSUP_BAD_CONFIG';
  constructor(
    readonly source: string,
    readonly value: string,
    reason: string,
  ) {
    super(`${source}=${JSON.stringify(source === '--token' || source === 'ENCSUP_TOKEN' ? '…' : value.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@'))} is not valid: ${reason}`);
  }
}
