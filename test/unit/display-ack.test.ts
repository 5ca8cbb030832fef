// Display backpressure: a display channel with deferred ACK counts a server
// message toward the ACK window only once it is reported processed, and
// DisplayFlow keeps at most MAX_BATCHES_IN_FLIGHT batches unpainted and
// reports a batch's messages processed only when it is painted. Real
// channels over fake transports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DisplayChannel } from '../../main/spice/channels/display-channel';
import { quietLogger } from '../../main/spice/session';
import { Channel as ChannelType, Msg, Msgc, MsgDisplay } from '../../main/spice/protocol/enums';
import { DisplayFlow, MAX_BATCHES_IN_FLIGHT, type AckSource, type Taken } from '../../main/app/display-flow';
import type { DisplayCommand } from '../../preload/contract';
import { Bytes, concat, miniMsg } from '../helpers/spice-bytes';
import { linkFake as link } from '../helpers/linked-channel';
import { clientTypes as types } from '../helpers/client-messages';

const setAck = (generation: number, window: number) => miniMsg(Msg.SET_ACK, new Bytes().u32(generation).u32(window).build());
const marks = (n: number) => concat(...Array.from({ length: n }, () => miniMsg(MsgDisplay.MARK)));
const acks = (written: number[]) => written.filter((t) => t === Msgc.ACK).length;

async function displayChannel(deferred: boolean) {
  const cmds: DisplayCommand[] = [];
  const ch = new DisplayChannel(0, quietLogger, (c) => cmds.push(c));
  let waiting = 0;
  if (deferred) ch.ackDeferred = () => waiting++;
  const { t, conn } = await link(ChannelType.DISPLAY);
  ch.attach(conn);
  t.written = [];
  return { ch, t, cmds, waiting: () => waiting };
}

test('without deferral the ACK goes out on receipt, one per window', async () => {
  const { t } = await displayChannel(false);
  t.deliver(concat(setAck(1, 4), marks(11))); // SET_ACK counts as a message: 12 = 3 windows
  assert.deepEqual(types(t), [Msgc.ACK_SYNC, Msgc.ACK, Msgc.ACK, Msgc.ACK]);
});

test('deferred ACK: nothing is ACKed until processed; then one ACK per full window', async () => {
  const { ch, t, cmds, waiting } = await displayChannel(true);
  t.deliver(concat(setAck(1, 4), marks(11)));
  assert.equal(cmds.length, 11, 'commands still reach the sink at once');
  assert.equal(waiting(), 12, 'the owner is told of every message');
  assert.deepEqual(types(t), [Msgc.ACK_SYNC], 'no ACK before anything is processed');
  const first = ch.takeReceived();
  assert.equal(first.n, 12);
  assert.equal(ch.receivedUntaken, 0);
  ch.ackProcessed({ epoch: first.epoch, n: 5 });
  assert.equal(acks(types(t)), 1, 'one full window processed: one ACK');
  ch.ackProcessed({ epoch: first.epoch, n: 2 });
  assert.equal(acks(types(t)), 1, '7 of 8: no second ACK yet');
  ch.ackProcessed({ epoch: first.epoch, n: 5 });
  assert.equal(acks(types(t)), 3, '12 processed: three windows');
});

test('deferred ACK: counts from before a new SET_ACK are not counted in the new window', async () => {
  const { ch, t } = await displayChannel(true);
  t.deliver(concat(setAck(1, 2), marks(3)));
  const old = ch.takeReceived();
  t.deliver(setAck(2, 2));
  t.written = [];
  ch.ackProcessed(old);
  assert.deepEqual(types(t), [], 'stale window: dropped');
  t.deliver(marks(1));
  ch.ackProcessed(ch.takeReceived()); // SET_ACK + 1 mark = one window of 2
  assert.deepEqual(types(t), [Msgc.ACK]);
});

/** A channel stand-in counting what is reported processed. */
class Source implements AckSource {
  untaken = 0;
  processed = 0;
  takeReceived(): Taken {
    const n = this.untaken;
    this.untaken = 0;
    return { epoch: 1, n };
  }
  ackProcessed(t: Taken): void {
    this.processed += t.n;
  }
  get receivedUntaken(): number {
    return this.untaken;
  }
}

test('DisplayFlow: batches in flight are bounded; commands gather; messages are ACKed when their batch is painted', () => {
  const sent: { n: number; cmds: DisplayCommand[] }[] = [];
  assert.equal(new DisplayFlow(() => {}).stats([]).maxBatchesInFlight, MAX_BATCHES_IN_FLIGHT, 'the default bound');
  // a window of several, to see the bound and the cumulative "painted" (the app runs with MAX_BATCHES_IN_FLIGHT)
  const WINDOW = 4;
  const flow = new DisplayFlow((cmds, n) => sent.push({ n, cmds }), WINDOW);
  const src = new Source();
  const step = (messages: number) => {
    for (let i = 0; i < messages; i++) flow.push({ t: 'mark' });
    src.untaken += messages;
    flow.flush([src]);
  };
  for (let i = 0; i < WINDOW + 3; i++) step(2);
  assert.equal(sent.length, WINDOW, 'no batch beyond the bound');
  const st = flow.stats([src]);
  assert.equal(st.batchesInFlight, WINDOW);
  assert.equal(st.commandsWaiting, 6, 'the rest gathers for the next batch');
  assert.equal(st.messagesUnpainted, 2 * (WINDOW + 3));
  assert.equal(src.processed, 0, 'nothing painted: nothing ACKed');

  assert.equal(flow.paintedUpTo(2), true, 'a flush is due');
  assert.equal(src.processed, 4, 'the messages of batches 1 and 2');
  flow.flush([src]);
  assert.equal(sent.length, WINDOW + 1);
  assert.equal(sent.at(-1)!.cmds.length, 6, 'the gathered commands go as one batch');
  assert.equal(flow.paintedUpTo(2), false, 'an old number changes nothing');
  assert.equal(flow.paintedUpTo(99), false, 'a number never sent is ignored');
  flow.paintedUpTo(flow.batch);
  assert.equal(src.processed, 2 * (WINDOW + 3), 'everything painted: everything ACKed');
  assert.equal(flow.stats([src]).messagesUnpainted, 0);
});

test('DisplayFlow: messages that draw nothing are ACKed with the batch before them, or at once when none is in flight', () => {
  const flow = new DisplayFlow(() => {});
  const src = new Source();
  src.untaken = 3; // e.g. SET_ACK, PING, an ignored message
  flow.flush([src]);
  assert.equal(src.processed, 3, 'nothing to paint, nothing in flight: done at once');
  flow.push({ t: 'mark' });
  src.untaken = 1;
  flow.flush([src]);
  src.untaken = 2;
  flow.flush([src]);
  assert.equal(src.processed, 3, 'a batch is in flight: they wait for it');
  flow.paintedUpTo(1);
  assert.equal(src.processed, 6);
});
