// Fuzz targets. Each target generates one case from a seed and the case's
// PRNG (gen) and runs it (exec); exec returns how the case ended or throws
// what the fuzzer counts as a finding. Targets:
//   display — DisplayState fed mutated display command streams (every image
//             codec, every draw op, surfaces, streams, caches; captured sessions)
//   engine  — a Session over fake transports fed mutated server byte streams for
//             the link, every channel and the migration paths (seamless,
//             semi-seamless, switch-host), its display output into a DisplayState;
//             the device channels with their managers attached as in the app:
//             usbredir (an emulated CD over an in-memory image), smartcard (a
//             card that answers every APDU), playback/record, and the agent
//             stream inside the main channel's AGENT_DATA
import { generateKeyPairSync } from 'node:crypto';
import { Session, quietLogger } from '../../main/spice/session';
import { Channel as ChannelType, MainCap, Msg, MsgCursor, MsgDisplay, MsgInputs, MsgMain, SurfaceFmt } from '../../main/spice/protocol/enums';
import { SpiceError } from '../../main/spice/wire/errors';
import type { Transport } from '../../main/spice/transport';
import type { DisplayCommand } from '../../preload/contract';
import { DisplayState } from '../../renderer/display/display-state';
import { Bytes, concat, linkReply, miniMsg } from '../helpers/spice-bytes';
import { chunkStream, mutateBytesN, mutateTree, Rng } from './mutate';
import { UsbDeviceManager } from '../../main/devices/usb/manager';
import { HOST_CAPS } from '../../main/devices/usb/redir-host';
import { UsbRedirCaps, encodePacket, type UsbRedirMessage } from '../../main/devices/usb/usbredir-proto';
import { SmartcardDevices } from '../../main/devices/smartcard/device-manager';
import { chunkAgentMessage } from '../../main/spice/agent/agent-stream';
import { AgentCap, AgentMsg, ClipboardType, encodeAnnounceCapabilities, encodeClipboardGrab, encodeClipboardPrefix, encodeMaxClipboard } from '../../main/spice/agent/protocol';
import { AudioDataMode, AudioFmt, MsgPlayback, MsgRecord, MsgSpicevmc, VscMessageType } from '../../main/spice/protocol/enums';
import { ScriptedBackend } from '../unit/smartcard/scripted-backend';
import { vscBytes, vscError } from '../unit/smartcard/vsc-bytes';
import { displaySeeds } from './seeds';

/** Per-case display budget: small, so a case stays cheap; every allocation is checked against it (worker.ts). */
export const FUZZ_PIXEL_BUDGET = 16 * 1024 * 1024;

/** A finding: what the fuzzer reports and saves. */
export class Finding extends Error {
  constructor(
    readonly category: string,
    message: string,
  ) {
    super(message);
  }
}

/** An exception is fine only as a SpiceError with a code; anything else is an uncoded exception. */
export function classify(e: unknown, where: string): string {
  if (e instanceof SpiceError && e.code) return `coded:${e.code}`;
  if (e instanceof Finding) throw e;
  const err = e as Error;
  throw new Finding(`uncoded:${where}:${err?.name ?? typeof e}`, `${err?.name}: ${err?.message ?? String(e)}\n${err?.stack ?? ''}`);
}

// ------------------------------------------------------------------ display

export interface DisplayInput {
  seed: string;
  commands: DisplayCommand[];
}

export function genDisplay(rng: Rng): DisplayInput {
  const seeds = displaySeeds();
  const seed = rng.pick(seeds);
  let commands = seed.commands;
  if (seed.captured) {
    // the first surface plus a short window of the session
    const at = 1 + rng.int(commands.length - 1);
    commands = [commands[0], ...commands.slice(at, at + 1 + rng.int(4))];
  }
  const donor = rng.pick(seeds).commands;
  let out = mutateTree(rng, commands, donor.slice(0, 8));
  // command-level: duplicate, drop, splice a donor's command, swap
  const k = rng.int(3);
  for (let i = 0; i < k; i++) {
    const at = rng.int(out.length + 1);
    switch (rng.int(4)) {
      case 0:
        if (out.length) out.splice(at, 0, structuredClone(out[rng.int(out.length)]));
        break;
      case 1:
        out.splice(at, 1);
        break;
      case 2:
        out.splice(at, 0, structuredClone(donor[rng.int(donor.length)]));
        break;
      default:
        if (out.length > 1) {
          const j = rng.int(out.length);
          [out[0], out[j]] = [out[j], out[0]];
        }
    }
  }
  if (rng.chance(0.1)) out = out.slice(0, rng.int(out.length + 1));
  return { seed: seed.name, commands: out };
}

export function execDisplay(input: DisplayInput): string {
  const st = new DisplayState({ pixelBudget: FUZZ_PIXEL_BUDGET, maxCacheBytes: FUZZ_PIXEL_BUDGET });
  let last = 'ok';
  for (const cmd of input.commands) {
    try {
      st.apply(cmd);
    } catch (e) {
      last = classify(e, 'display');
    }
    st.takeDamage();
  }
  return last;
}

// ------------------------------------------------------------------ engine

let spki: Uint8Array | null = null;
function serverKey(): Uint8Array {
  spki ??= new Uint8Array(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'der' }));
  return spki;
}

const DST_HOST = 'dst.fuzz';
/** Longest a fake server waits for the client's ticket after its stream ended (ms). */
const LINGER_MS = 15;
const u32 = (v: number) => new Bytes().u32(v).build();

function linked(caps: number[] = []): Uint8Array {
  return concat(linkReply({ pubKey: serverKey(), channel: caps }), u32(0));
}

function dstInfo(seamless: boolean): Uint8Array {
  const host = new TextEncoder().encode(`${DST_HOST}\0`);
  const fixed = 2 + 2 + 16 + (seamless ? 4 : 0);
  const b = new Bytes().u16(5901).u16(0xffff).u32(host.length).u32(fixed).u32(0).u32(0);
  if (seamless) b.u32(1);
  return b.raw(host).build();
}

function mainInit(): Uint8Array {
  return new Bytes().u32(42).u32(1).u32(3).u32(2).u32(1).u32(10).u32(1000).u32(0).build();
}

function channelsList(): Uint8Array {
  const list = [
    [ChannelType.DISPLAY, 0],
    [ChannelType.INPUTS, 0],
    [ChannelType.CURSOR, 0],
    [ChannelType.PORT, 0],
    ...DEVICE_CHANNELS.map((t) => [t, 0]),
  ];
  const b = new Bytes().u32(list.length);
  for (const [t, id] of list) b.u8(t).u8(id);
  return b.build();
}

/** Channels after the display ones: sound, the device channels (managers attached in execEngine), webdav (generic). */
const DEVICE_CHANNELS = [ChannelType.PLAYBACK, ChannelType.RECORD, ChannelType.SMARTCARD, ChannelType.USBREDIR, ChannelType.WEBDAV];

const spicevmc = (body: Uint8Array) => miniMsg(MsgSpicevmc.DATA, body);

/**
 * The guest (QEMU usb-redir) side of one usbredir channel: its hello, then what it asks of the
 * drive our manager connects: configuration, the device descriptor, a BOT READ(10) and its data
 * and status stages. Packets after the hello use 64-bit ids (both hellos have the cap).
 */
function usbredirStream(): Uint8Array {
  const names = [...HOST_CAPS];
  const hello = new UsbRedirCaps(UsbRedirCaps.fromNames(names, 'guest').ourCaps, 'guest');
  const after = new UsbRedirCaps(hello.ourCaps, 'guest');
  after.peerCaps = UsbRedirCaps.fromNames(names).ourCaps;
  const cbw = new Uint8Array(31);
  const v = new DataView(cbw.buffer);
  v.setUint32(0, 0x43425355, true);
  v.setUint32(4, 7, true);
  v.setUint32(8, 2048, true);
  cbw.set([0x80, 0, 10, 0x28, 0, 0, 0, 0, 16, 0, 0, 1, 0], 12);
  const msgs: UsbRedirMessage[] = [
    { type: 'set_configuration', configuration: 1 },
    { type: 'control_packet', endpoint: 0x80, request: 6, requestType: 0x80, status: 0, value: 0x0100, index: 0, length: 18, data: new Uint8Array(0) },
    { type: 'set_alt_setting', interface: 0, alt: 0 },
    { type: 'bulk_packet', endpoint: 0x02, status: 0, length: 31, streamId: 0, data: cbw },
    { type: 'bulk_packet', endpoint: 0x81, status: 0, length: 2048, streamId: 0, data: new Uint8Array(0) },
    { type: 'bulk_packet', endpoint: 0x81, status: 0, length: 13, streamId: 0, data: new Uint8Array(0) },
    { type: 'start_interrupt_receiving', endpoint: 0x83 },
    { type: 'filter_filter', rules: '-1,-1,-1,-1,1' },
    { type: 'reset' },
  ];
  return concat(
    linked(),
    spicevmc(encodePacket({ id: 0n, msg: { type: 'hello', version: 'qemu usb-redir guest 7.2.0', caps: hello.ourCaps } }, hello)),
    ...msgs.map((msg, i) => spicevmc(encodePacket({ id: BigInt(i + 1), msg }, after))),
  );
}

/** spice-server's answers on the smartcard channel (its Error acks, little endian) and the guest's APDUs. */
function smartcardStream(): Uint8Array {
  return concat(
    linked(),
    spicevmc(vscError(0)), // ReaderAdd → reader 0
    spicevmc(vscError(0)), // ATR acknowledged
    spicevmc(vscBytes(VscMessageType.APDU, 0, '00a4000c023f00')),
    spicevmc(vscBytes(VscMessageType.APDU, 0, '00ca000000')),
    spicevmc(vscBytes(VscMessageType.APDU, 0, '0084000008')),
    spicevmc(vscBytes(VscMessageType.Flush, 0)),
    spicevmc(vscBytes(VscMessageType.APDU, 1, '00b0000010')), // an unknown reader
    spicevmc(vscBytes(VscMessageType.Init, 0, '5653434400000002')),
  );
}

function playbackStream(): Uint8Array {
  const pcm = new Uint8Array(64).map((_, i) => i * 3);
  return concat(
    linked([0b111]),
    miniMsg(MsgPlayback.MODE, new Bytes().u32(1000).u16(AudioDataMode.RAW).build()),
    miniMsg(MsgPlayback.START, new Bytes().u32(2).u16(AudioFmt.S16).u32(48000).u32(1000).build()),
    miniMsg(MsgPlayback.DATA, concat(u32(1010), pcm)),
    miniMsg(MsgPlayback.VOLUME, new Bytes().u8(2).u16(0x8000).u16(0x4000).build()),
    miniMsg(MsgPlayback.MUTE, new Bytes().u8(1).build()),
    miniMsg(MsgPlayback.LATENCY, u32(120)),
    miniMsg(MsgPlayback.DATA, concat(u32(1020), pcm)),
    miniMsg(MsgPlayback.STOP),
  );
}

function recordStream(): Uint8Array {
  return concat(
    linked([0b11]),
    miniMsg(MsgRecord.VOLUME, new Bytes().u8(1).u16(0x8000).build()),
    miniMsg(MsgRecord.START, new Bytes().u32(2).u16(AudioFmt.S16).u32(48000).build()),
    miniMsg(MsgRecord.MUTE, new Bytes().u8(0).build()),
    miniMsg(MsgRecord.STOP),
  );
}

/** What spice-vdagent sends through the server: capabilities, a clipboard grab and its data, max clipboard; split anywhere. */
function agentData(): Uint8Array[] {
  const caps = [(1 << AgentCap.CLIPBOARD_BY_DEMAND) | (1 << AgentCap.CLIPBOARD_SELECTION) | (1 << AgentCap.MONITORS_CONFIG) | (1 << AgentCap.REPLY) | (1 << AgentCap.MAX_CLIPBOARD) | (1 << AgentCap.CLIPBOARD_GRAB_SERIAL)];
  const layout = { selection: true, serial: true };
  const text = new TextEncoder().encode('fuzzed clipboard text');
  const stream = concat(
    ...chunkAgentMessage(AgentMsg.ANNOUNCE_CAPABILITIES, [encodeAnnounceCapabilities({ request: true, caps })]),
    ...chunkAgentMessage(AgentMsg.CLIPBOARD_GRAB, [encodeClipboardGrab(layout, { selection: 0, serial: 1, types: [ClipboardType.UTF8_TEXT] })]),
    ...chunkAgentMessage(AgentMsg.CLIPBOARD, [encodeClipboardPrefix(layout, 0, ClipboardType.UTF8_TEXT), text]),
    ...chunkAgentMessage(AgentMsg.MAX_CLIPBOARD, [encodeMaxClipboard(1 << 20)]),
  );
  // spice-server forwards the agent's writes in its own pieces: one message across two bodies, two in one
  const cut = 30;
  return [stream.subarray(0, cut), stream.subarray(cut)];
}

/** SPICE_MSG_LIST: u16 count, u32 offsets, then {u16 type, u32 size, body} sub-messages at those offsets. */
function msgList(subs: { type: number; body: Uint8Array }[]): Uint8Array {
  let off = 2 + 4 * subs.length;
  const b = new Bytes().u16(subs.length);
  for (const m of subs) {
    b.u32(off);
    off += 6 + m.body.length;
  }
  for (const m of subs) b.u16(m.type).u32(m.body.length).raw(m.body);
  return b.build();
}

function displayStream(): Uint8Array {
  const rect = (b: Bytes, t: number, l: number, bo: number, r: number) => b.i32(t).i32(l).i32(bo).i32(r);
  const surface = new Bytes().u32(0).u32(64).u32(48).u32(SurfaceFmt._32_xRGB).u32(1).build();
  const fill = new Bytes().u32(0);
  rect(fill, 2, 3, 20, 30).u8(1).u32(1);
  rect(fill, 0, 0, 10, 64);
  fill.u8(1).u32(0x336699).u16(8).u8(0).i32(0).i32(0).u32(0);
  // DRAW_COPY of a 2x2 32-bit BITMAP (pointers are body offsets)
  const copy = new Bytes().u32(0);
  rect(copy, 10, 20, 12, 22).u8(0);
  const ptrAt = copy.length;
  copy.u32(0);
  rect(copy, 0, 0, 2, 2).u16(8).u8(1).u8(0).i32(0).i32(0).u32(0);
  const imageAt = copy.length;
  copy.u64(7n).u8(0).u8(1).u32(2).u32(2).u8(8).u8(4).u32(2).u32(2).u32(8).u32(0);
  copy.u32(0xff0000).u32(0x00ff00).u32(0x0000ff).u32(0xffffff);
  const copyBytes = copy.build();
  new DataView(copyBytes.buffer).setUint32(ptrAt, imageAt, true);
  const monitors = new Bytes().u16(1).u16(1).u32(0).u32(0).u32(64).u32(48).u32(0).u32(0).u32(0).build();
  const inval = new Bytes().u16(1).u8(1).u64(7n).build();
  return concat(
    linked([0b111111]),
    miniMsg(Msg.SET_ACK, new Bytes().u32(1).u32(10).build()),
    miniMsg(MsgDisplay.SURFACE_CREATE, surface),
    miniMsg(MsgDisplay.DRAW_FILL, fill.build()),
    miniMsg(MsgDisplay.DRAW_COPY, copyBytes),
    miniMsg(MsgDisplay.MONITORS_CONFIG, monitors),
    miniMsg(MsgDisplay.MARK),
    miniMsg(MsgDisplay.INVAL_LIST, inval),
    miniMsg(Msg.PING, new Bytes().u32(1).u64(5n).build()),
    // a list (valid: one level); the fuzzer may share offsets, nest lists (refused) and splice
    miniMsg(Msg.LIST, msgList([{ type: MsgDisplay.MARK, body: new Uint8Array(0) }, { type: Msg.PING, body: new Bytes().u32(2).u64(6n).build() }])),
  );
}

export interface EngineInput {
  seed: string;
  /** Server bytes per side and channel type: 'src:1' is the source's main channel, 'dst:2' the destination's display. */
  streams: Record<string, Uint8Array>;
  chunkSeed: number;
}

export function engineSeeds(): { name: string; streams: Record<string, Uint8Array> }[] {
  const mainCaps = [(1 << MainCap.SEMI_SEAMLESS_MIGRATE) | (1 << MainCap.NAME_AND_UUID) | (1 << MainCap.AGENT_CONNECTED_TOKENS) | (1 << MainCap.SEAMLESS_MIGRATE)];
  const name = new TextEncoder().encode('fuzz-vm\0');
  const mainHead = concat(
    linked(mainCaps),
    miniMsg(MsgMain.INIT, mainInit()),
    miniMsg(MsgMain.NAME, concat(u32(name.length), name)),
    miniMsg(MsgMain.UUID, new Uint8Array(16).fill(0xab)),
    miniMsg(MsgMain.CHANNELS_LIST, channelsList()),
    miniMsg(MsgMain.MOUSE_MODE, new Bytes().u16(3).u16(2).build()),
    miniMsg(MsgMain.MULTI_MEDIA_TIME, u32(2000)),
    miniMsg(MsgMain.AGENT_CONNECTED_TOKENS, u32(10)),
    ...agentData().map((b) => miniMsg(MsgMain.AGENT_DATA, b)),
    miniMsg(MsgMain.AGENT_TOKEN, u32(5)),
  );
  const channels = {
    'src:2': displayStream(),
    'src:3': concat(linked(), miniMsg(MsgInputs.INIT, new Bytes().u16(0).build()), miniMsg(MsgInputs.KEY_MODIFIERS, new Bytes().u16(2).build())),
    'src:4': concat(linked(), miniMsg(MsgCursor.INIT, new Bytes().u16(0).u16(0).u16(0).u16(0).u8(1).u16(1).build()), miniMsg(MsgCursor.HIDE)),
    'src:10': concat(linked(), miniMsg(Msg.PING, new Bytes().u32(1).u64(5n).build())),
    [`src:${ChannelType.PLAYBACK}`]: playbackStream(),
    [`src:${ChannelType.RECORD}`]: recordStream(),
    [`src:${ChannelType.USBREDIR}`]: usbredirStream(),
    [`src:${ChannelType.SMARTCARD}`]: smartcardStream(),
    [`src:${ChannelType.WEBDAV}`]: concat(linked(), miniMsg(Msg.PING, new Bytes().u32(2).u64(6n).build()), spicevmc(new Uint8Array(12).fill(11))),
  };
  const dstOf = (s: Record<string, Uint8Array>) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k.replace('src:', 'dst:'), v]));
  const seamlessMain = concat(mainHead, miniMsg(MsgMain.MIGRATE_BEGIN_SEAMLESS, dstInfo(true)), miniMsg(Msg.MIGRATE, u32(0)));
  return [
    { name: 'session', streams: { 'src:1': mainHead, ...channels } },
    { name: 'link-only', streams: { 'src:1': linked(mainCaps) } },
    {
      name: 'migrate-seamless',
      streams: {
        'src:1': seamlessMain,
        ...channels,
        'dst:1': concat(linked(mainCaps), miniMsg(MsgMain.MIGRATE_DST_SEAMLESS_ACK)),
        ...dstOf(Object.fromEntries(Object.keys(channels).map((k) => [k, linked()]))),
      },
    },
    {
      name: 'migrate-semi-seamless',
      streams: {
        'src:1': concat(mainHead, miniMsg(MsgMain.MIGRATE_BEGIN, dstInfo(false)), miniMsg(Msg.MIGRATE, u32(0)), miniMsg(MsgMain.MIGRATE_END)),
        ...channels,
        'dst:1': concat(linked(mainCaps), miniMsg(MsgMain.INIT, mainInit())),
        ...dstOf(channels),
      },
    },
    {
      name: 'switch-host',
      streams: { 'src:1': concat(mainHead, miniMsg(MsgMain.MIGRATE_SWITCH_HOST, dstInfo(false))), ...channels, 'dst:1': mainHead, ...dstOf(channels) },
    },
  ];
}

let engineSeedsCache: ReturnType<typeof engineSeeds> | null = null;

export function genEngine(rng: Rng): EngineInput {
  engineSeedsCache ??= engineSeeds();
  const seed = rng.pick(engineSeedsCache);
  const streams = { ...seed.streams };
  const keys = Object.keys(streams);
  const n = 1 + (rng.chance(0.2) ? rng.int(3) : 0);
  for (let i = 0; i < n; i++) {
    const k = rng.pick(keys);
    streams[k] = mutateBytesN(rng, streams[k], streams[rng.pick(keys)]);
  }
  return { seed: seed.name, streams, chunkSeed: rng.int(2 ** 31) };
}

/**
 * One server socket: delivers its stream in random chunks once the client's
 * link message arrived, then stays open (idle, like a real server) until the
 * case closes it or the client does; one in ten closes part way instead.
 */
class FakeServer implements Transport {
  readonly description = 'fuzz';
  onData: ((chunk: Uint8Array) => void) | null = null;
  onClose: ((err?: Error) => void) | null = null;
  private started = false;
  closed = false;
  drained = false;
  private writes = 0;
  constructor(
    readonly side: string,
    private readonly input: EngineInput,
    private readonly rng: Rng,
    private readonly errors: unknown[],
  ) {}
  write(bytes: Uint8Array): void {
    this.writes++;
    if (this.started || this.closed) return;
    this.started = true;
    // SpiceLinkHeader (16 bytes), connection_id (4), channel_type
    const type = bytes.length > 20 ? bytes[20] : -1;
    const stream = this.input.streams[`${this.side}:${type}`] ?? new Uint8Array(0);
    const chunks = chunkStream(this.rng, stream);
    // sometimes the server drops the connection part way (a crash, a kill, a network cut)
    let closeAfter = this.rng.chance(0.1) ? this.rng.int(chunks.length + 1) : -1;
    let drainedAt = 0;
    const step = (): void => {
      if (this.closed) return;
      if (closeAfter-- === 0) {
        this.close();
        return;
      }
      const c = chunks.shift();
      if (!c) {
        // done once the client has sent its ticket (link mess, mechanism, ticket) or gave up
        drainedAt ||= Date.now();
        if (this.writes < 3 && Date.now() - drainedAt < LINGER_MS) setTimeout(step, 1);
        else this.drained = true;
        return;
      }
      try {
        this.onData?.(c);
      } catch (e) {
        this.errors.push(e);
      }
      setImmediate(step);
    };
    setImmediate(step);
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.onClose?.();
    } catch (e) {
      this.errors.push(e);
    }
  }
}

const turn = () => new Promise((r) => setImmediate(r));
/** The shared CD's image: 64 blocks of 2048 bytes. */
const FUZZ_IMAGE = new Uint8Array(64 * 2048).map((_, i) => (i * 7) & 0xff);
/** How long after the last server socket closed the session may take to end. */
const SETTLE_MS = 500;

export async function execEngine(input: EngineInput): Promise<string> {
  const rng = new Rng(input.chunkSeed);
  const servers: FakeServer[] = [];
  const errors: unknown[] = [];
  const display = new DisplayState({ pixelBudget: FUZZ_PIXEL_BUDGET, maxCacheBytes: FUZZ_PIXEL_BUDGET });
  // the device managers a session gets in the app, over stand-ins for the machine's devices
  let usbReads = 0;
  const usb = new UsbDeviceManager({
    shareCd: ['fuzz.iso'],
    openImage: async () => ({
      size: FUZZ_IMAGE.length,
      read: async (o, n) => {
        usbReads++;
        return FUZZ_IMAGE.slice(o, o + n);
      },
      close: async () => {},
    }),
  });
  const card = new ScriptedBackend();
  card.addReader('Fuzz Reader 00');
  card.insertCard('Fuzz Reader 00', '3b15138073ff0100', 'T0');
  const smartcard = new SmartcardDevices({ backend: card });
  let audio = 0;
  const session = new Session({
    devices: [usb, smartcard],
    onAudio: () => void audio++,
    onRecord: () => {},
    endpoint: { host: 'src.fuzz', port: 5900 },
    password: 'fuzz',
    log: process.env.FUZZ_LOG ? { debug() {}, info() {}, warn: (m: string) => console.log(m) } : quietLogger,
    linkTimeoutMs: 2000,
    transport: async (dial) => {
      const s = new FakeServer(dial.host === DST_HOST ? 'dst' : 'src', input, rng, errors);
      servers.push(s);
      return s;
    },
    mapMigrationDestination: (d) => ({ host: d.host, port: d.port }),
    onDisplay: (_id, cmd) => {
      try {
        display.apply(cmd);
      } catch (e) {
        classify(e, 'display');
      }
    },
  });
  let settled: { ok: boolean; reason?: unknown } | null = null;
  session.connect().then(
    () => (settled = { ok: true }),
    (reason: unknown) => (settled = { ok: false, reason }),
  );
  // 1. every server delivers its stream and idles; new sockets (channels, migration) may still be dialled
  const idle = () => servers.length > 0 && servers.every((x) => x.drained || x.closed);
  let quietSince = 0;
  let seen = -1;
  const phase1End = Date.now() + 2000;
  for (let t = 0; Date.now() < phase1End; t++) {
    await turn();
    // the card answers whatever the guest sent it
    for (const tx of card.transmits.splice(0)) tx.answer('9000');
    if (!idle() || servers.length !== seen) {
      seen = servers.length;
      quietSince = t;
      continue;
    }
    if (t - quietSince > 50) break;
  }
  const connected = session.state === 'connected';
  // 2. the server side closes every socket: the session must end failed with a code, promptly
  for (const x of servers) x.close();
  const closedAt = Date.now();
  for (let t = 0; ; t++) {
    await turn();
    if (settled && session.state === 'disconnected') break;
    if (t > 300 && Date.now() - closedAt > SETTLE_MS) {
      await turn();
      if (settled && session.state === 'disconnected') break; // slow (a loaded machine), not stuck
      const state = session.state;
      session.disconnect();
      throw new Finding(
        `stuck:${input.seed}:${state}${settled ? '' : ':connect-unsettled'}`,
        `session ${state}, connect ${settled ? 'settled' : 'never settled'} ${SETTLE_MS} ms after every server socket closed`,
      );
    }
  }
  for (const e of errors) classify(e, 'engine-transport');
  const s = settled as { ok: boolean; reason?: unknown } | null;
  if (s && !s.ok) return `${classify(s.reason, 'engine-connect')}${connected ? '+connected' : ''}`;
  // how far the case got (coverage in the outcome figures): connected, destination dialled, frames drawn
  const reach = `${connected ? '+connected' : ''}${servers.some((x) => x.side === 'dst') ? '+dst' : ''}${display.stats().imagesDecoded ? '+drawn' : ''}` +
    `${usbReads ? '+usb' : ''}${card.sent.length ? '+card' : ''}${audio ? '+audio' : ''}`;
  return `${session.error ? `coded:${session.error.code}` : 'ok'}${reach}`;
}
