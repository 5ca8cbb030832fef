// Issue 9 finding 2: the destination main closing during the seamless
// handshake while other destination links are still pending must not leave an
// unobserved rejection (plain Node exits 1 on one); the migration fails
// cleanly, CONNECT_ERROR goes to the source, and late links are closed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MainChannel, type MainEvents } from '../../main/spice/channels/main-channel';
import { InputsChannel } from '../../main/spice/channels/inputs-channel';
import type { Channel } from '../../main/spice/channels/base-channel';
import { MigrationController } from '../../main/spice/migration';
import { quietLogger } from '../../main/spice/session';
import { Channel as ChannelType, MainCap, MsgcMain } from '../../main/spice/protocol/enums';
import { FakeTransport } from '../helpers/fake-transport';
import { linkFake as link } from '../helpers/linked-channel';
import { clientTypes as written } from '../helpers/client-messages';
import { testMigrationHost } from '../helpers/migration-host';
import { until } from '../helpers/fake-spice-server';

test('destination main closes mid-handshake while another link is pending: no unhandled rejection, clean failure', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    const main = new MainChannel(quietLogger, new Proxy({}, { get: () => () => {} }) as MainEvents);
    const inputs = new InputsChannel(0, quietLogger);
    const chans: Channel[] = [main, inputs];
    const src = await link(ChannelType.MAIN);
    main.attach(src.conn);
    const srcInputs = await link(ChannelType.INPUTS);
    inputs.attach(srcInputs.conn);
    let dstMain: FakeTransport | null = null;
    let finishInputs: (() => void) | null = null;
    let lateInputs: FakeTransport | null = null;
    const { host, statuses } = testMigrationHost(main, chans, async (ch) => {
      if (ch === main) {
        const { t, conn } = await link(ChannelType.MAIN, [1 << MainCap.SEAMLESS_MIGRATE]);
        dstMain = t;
        return conn;
      }
      // the inputs link completes only when the test says so
      await new Promise<void>((r) => (finishInputs = r));
      const { t, conn } = await link(ChannelType.INPUTS);
      lateInputs = t;
      return conn;
    });

    const ctl = new MigrationController(host);
    ctl.begin({ port: 5999, sport: 0, host: '127.0.0.1', certSubject: null, srcMigVersion: 1 }, true);
    await until(() => !!dstMain && !!finishInputs, 'the destination main link and the pending inputs link');
    assert.deepEqual(written(dstMain!), [MsgcMain.MIGRATE_DST_DO_SEAMLESS]);
    // the destination drops main before answering
    dstMain!.onClose?.();
    await until(() => statuses.some((s) => s.phase === 'failed'), 'the migration to fail');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(unhandled, [], 'every rejection observed');
    assert.equal(ctl.state, 'none');
    assert.ok(written(src.t).includes(MsgcMain.MIGRATE_CONNECT_ERROR), 'the source is told to keep the VM');
    // the pending link completes late: it is closed, not held
    finishInputs!();
    await until(() => !!lateInputs, 'the late inputs link');
    await until(() => lateInputs!.closed, 'the late link closed');
    assert.equal(inputs.hasTarget, false);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(unhandled, []);
    assert.equal(statuses.filter((s) => s.phase === 'failed').length, 1);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
