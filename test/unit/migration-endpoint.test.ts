// Where a migration goes: the host/port the source announces, with our security
// settings — never the local unix socket the session was opened on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultMigrationEndpoint } from '../../main/spice/session';

test('a session opened on a unix socket migrates to the announced TCP host and port', () => {
  const ep = defaultMigrationEndpoint({ host: '10.0.0.7', port: 5902, sport: 0, certSubject: null }, { host: 'localhost', port: 0, unixPath: '/run/spice.sock' });
  assert.equal(ep.unixPath, undefined);
  assert.equal(ep.host, '10.0.0.7');
  assert.equal(ep.port, 5902);
});
