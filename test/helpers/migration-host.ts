// A MigrationHost for unit tests that drive MigrationController with real
// channels: a fixed session id, the given channels, destination links from
// the test, and every status recorded.
import type { Channel } from '../../main/spice/channels/base-channel';
import type { MainChannel } from '../../main/spice/channels/main-channel';
import type { Connection } from '../../main/spice/connection';
import type { MigrationHost } from '../../main/spice/migration';
import { quietLogger } from '../../main/spice/session';
import type { MigrationStatus } from '../../preload/contract';

export function testMigrationHost(main: MainChannel, chans: Channel[], linkTo: (ch: Channel) => Promise<Connection>): { host: MigrationHost; statuses: MigrationStatus[] } {
  const statuses: MigrationStatus[] = [];
  const host: MigrationHost = {
    log: quietLogger,
    main,
    sessionId: () => 7,
    channels: () => chans,
    linkTo: (_ep, ch) => linkTo(ch),
    mapDestination: (d) => ({ host: d.host, port: d.port }),
    emit: (s) => statuses.push(s),
    switchHost: () => {},
  };
  return { host, statuses };
}
