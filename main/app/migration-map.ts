// Host-mapping hook for migrations behind NAT/proxies/WebSocket front ends:
// SPICE_MIG_HOST=host[:port] replaces the destination the server announces
// (the same idea as spice-gtk's variable). Default: what the server says.
import { defaultMigrationEndpoint } from '../spice/session';
import type { DstInfo } from '../spice/messages/main';
import type { Endpoint } from '../spice/transport';
import { SpiceError } from '../spice/wire/errors';

export function migrationMapper(override: string | undefined): (dst: DstInfo, current: Endpoint) => Endpoint {
  if (!override) return defaultMigrationEndpoint;
  const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(override.trim());
  if (!m) throw new SpiceError('CONFIG', `SPICE_MIG_HOST "${override}" is not host[:port]`);
  return (dst, current) => ({ ...defaultMigrationEndpoint(dst, current), host: m[1], ...(m[2] ? { port: Number(m[2]) } : {}) });
}
