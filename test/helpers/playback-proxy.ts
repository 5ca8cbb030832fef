// A TCP proxy on 127.0.0.1 in front of a SPICE server that forwards every
// channel and reads the playback channel's server → client messages on its own
// (link reply, then mini or full headers, as test/helpers/display-proxy.ts
// does for the display channel; no engine code): each message with the epoch
// time (performance.timeOrigin + now(), the clock a page's
// performance.timeOrigin + now() also runs on) at which its last byte passed,
// and its body. Tests time guest audio on the wire with it: PLAYBACK_START,
// and in raw PCM mode the first loud sample of a beep in PLAYBACK_DATA.
import net from 'node:net';
import { Channel, MsgPlayback } from '../../preload/spice-enums';

const epochNow = (): number => performance.timeOrigin + performance.now();

export interface WireMessage {
  /** epoch ms the message was whole on the wire */
  at: number;
  type: number;
  body: Buffer;
}

export class PlaybackProxy {
  readonly messages: WireMessage[] = [];
  port = 0;
  private readonly server: net.Server;
  private readonly socks = new Set<net.Socket>();
  constructor(target: number) {
    this.server = net.createServer((c) => {
      const s = net.connect(target, '127.0.0.1');
      this.socks.add(c).add(s);
      c.pipe(s);
      s.pipe(c);
      const drop = (): void => {
        c.destroy();
        s.destroy();
        this.socks.delete(c);
        this.socks.delete(s);
      };
      c.on('error', drop).on('close', drop);
      s.on('error', drop).on('close', drop);
      this.watch(c, s);
    });
  }
  async listen(): Promise<void> {
    await new Promise<void>((ok) => this.server.listen(0, '127.0.0.1', ok));
    this.port = (this.server.address() as net.AddressInfo).port;
  }
  close(): void {
    for (const s of this.socks) s.destroy();
    this.server.close();
  }
  /** Messages of a type (MsgPlayback.*) from index `from` of messages on. */
  of(type: number, from = 0): WireMessage[] {
    return this.messages.slice(from).filter((m) => m.type === type);
  }
  /**
   * Raw S16 PLAYBACK_DATA only (MODE raw): the epoch time at which the first
   * sample louder than `loud` (of 32768) after at least `quietMs` of quiet
   * passed, in each message from index `from` on; a sample's time is its
   * packet's arrival (a packet carries ~10 ms; the first sample of a packet
   * is the earliest the client can have it).
   */
  rawOnsets(from: number, loud = 1600, quietMs = 200, channels = 2, rate = 48000): { at: number; mm: number }[] {
    const out: { at: number; mm: number }[] = [];
    let quiet = Infinity;
    for (const m of this.of(MsgPlayback.DATA, from)) {
      const mm = m.body.readUInt32LE(0);
      const frames = (m.body.length - 4) / (2 * channels);
      for (let i = 0; i < frames; i++) {
        const v = Math.abs(m.body.readInt16LE(4 + i * 2 * channels));
        if (v > loud) {
          if (quiet >= (quietMs * rate) / 1000) out.push({ at: m.at, mm: mm + Math.round((i * 1000) / rate) });
          quiet = 0;
        } else quiet++;
      }
    }
    return out;
  }
  // Link: the client's SpiceLinkHeader (16 bytes) + SpiceLinkMess (channel type
  // at 20, caps count/offset at 22..34); the server's header + SpiceLinkReply
  // (caps count/offset at 166..178), then a 4-byte result, then messages with
  // the mini header (type u16, size u32) when both sides have MINI_HEADER, else
  // the full one (serial u64, type u16, size u32, sub_list u32).
  private watch(c: net.Socket, s: net.Socket): void {
    let up = Buffer.alloc(0);
    let clientCaps = -1; // set once the client's link message is whole and names the playback channel
    const onUp = (d: Buffer): void => {
      up = Buffer.concat([up, d]);
      if (up.length < 16 || up.length < 16 + up.readUInt32LE(12)) return;
      c.off('data', onUp);
      if (up[20] !== Channel.PLAYBACK) return;
      const nCommon = up.readUInt32LE(22);
      const off = up.readUInt32LE(30);
      clientCaps = nCommon ? up.readUInt32LE(16 + off) : 0;
    };
    c.on('data', onUp);
    let buf: Buffer = Buffer.alloc(0);
    let phase: 'reply' | 'result' | 'msgs' = 'reply';
    let mini = false;
    s.on('data', (d: Buffer) => {
      const at = epochNow();
      if (clientCaps < 0) return; // the server answers only a whole link message: not the playback channel
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      for (;;) {
        if (phase === 'reply') {
          if (buf.length < 16 || buf.length < 16 + buf.readUInt32LE(12)) break;
          const size = buf.readUInt32LE(12);
          const body = buf.subarray(16, 16 + size);
          const nCommon = body.readUInt32LE(166);
          const off = body.readUInt32LE(174);
          const serverCaps = nCommon ? body.readUInt32LE(off) : 0;
          mini = (serverCaps & clientCaps & (1 << 3)) !== 0;
          buf = buf.subarray(16 + size);
          phase = 'result';
        } else if (phase === 'result') {
          if (buf.length < 4) break;
          buf = buf.subarray(4);
          phase = 'msgs';
        } else {
          const hl = mini ? 6 : 18;
          if (buf.length < hl) break;
          const type = buf.readUInt16LE(mini ? 0 : 8);
          const size = buf.readUInt32LE(mini ? 2 : 10);
          if (buf.length < hl + size) break;
          this.messages.push({ at, type, body: Buffer.from(buf.subarray(hl, hl + size)) });
          buf = buf.subarray(hl + size);
        }
      }
      buf = Buffer.from(buf);
    });
  }
}
