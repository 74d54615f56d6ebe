// Which names the API answers to. A page on a name that an attacker's DNS points at 127.0.0.1
// (DNS rebinding) reaches a loopback daemon as same-origin; the Host header it sends still carries
// the attacker's name, so a request is served only when Host is one of the daemon's own names.
import { networkInterfaces } from 'node:os';

export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d+\.\d+\.\d+$/.test(bare);
}

/** The host part of a Host header (`name`, `name:port`, `[v6]:port`), lower case; null if malformed. */
export function hostOfHeader(header: string): string | null {
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::(\d{1,5}))?$/i.exec(header.trim());
  return match ? match[1]!.toLowerCase().replace(/^\[(.*)\]$/, '$1') : null;
}

export interface HostPolicy {
  /** True when requests naming `host` (from the Host header, without the port) may be served. */
  allows(host: string): boolean;
}

/**
 * Loopback names, the bound address, the names listed in --allowed-hosts (`*` allows any, for a
 * reverse proxy that checks names itself), and, when bound to every interface, this machine's own
 * interface addresses: an address typed as an IP literal can't be rebound.
 */
export function hostPolicy(boundHost: string, allowedHosts: string[]): HostPolicy {
  const names = new Set(['localhost', '127.0.0.1', '::1', boundHost.toLowerCase(), ...allowedHosts]);
  const anyInterface = boundHost === '0.0.0.0' || boundHost === '::';
  const anyName = allowedHosts.includes('*');
  return {
    allows(host) {
      if (anyName || names.has(host) || isLoopback(host)) return true;
      if (!anyInterface) return false;
      return Object.values(networkInterfaces()).some((addresses) => addresses?.some((address) => address.address.toLowerCase() === host));
    },
  };
}
