// A TCP proxy on 127.0.0.1 in front of a SPICE server that forwards every
// channel and parses the display channel's server → client messages on its
// own (link reply, then mini or full headers; no engine code): when each draw
// (DRAW_*, STREAM_DATA*) passed, every message type with its time, and the
// codec of each STREAM_CREATE. bench:e2e / bench:av time draws with it; the
// video e2e test reads the codecs and STREAM_DATA off the wire with it.
import net from 'node:net';
import { MsgDisplay } from '../../preload/spice-enums';

const now = () => Number(process.hrtime.bigint()) / 1e6;

const DRAWS: Set<number> = new Set([MsgDisplay.STREAM_DATA, MsgDisplay.STREAM_DATA_SIZED, MsgDisplay.DRAW_COMPOSITE,
  ...Object.entries(MsgDisplay).filter(([k]) => k.startsWith('DRAW_')).map(([, v]) => v)]);

export class DisplayProxy {
  readonly draws: number[] = [];
  /** display messages by type, with the time each came */
  readonly types: { t: number; type: number }[] = [];
  /** SpiceVideoCodecType of each STREAM_CREATE */
  readonly codecs = new Set<number>();
  port = 0;
  private readonly server: net.Server;
  private readonly socks = new Set<net.Socket>();
  constructor(target: number) {
    this.server = net.createServer((c) => {
      const s = net.connect(target, '127.0.0.1');
      this.socks.add(c).add(s);
      c.pipe(s);
      s.pipe(c);
      const drop = () => { c.destroy(); s.destroy(); this.socks.delete(c); this.socks.delete(s); };
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
  // Link: the client's SpiceLinkHeader (16 bytes) + SpiceLinkMess (channel type
  // at 20, caps count/offset at 22..34); the server's header + SpiceLinkReply
  // (caps count/offset at 166..178), then a 4-byte result, then messages with
  // the mini header (type u16, size u32) when both sides have MINI_HEADER, else
  // the full one (serial u64, type u16, size u32, sub_list u32).
  private watch(c: net.Socket, s: net.Socket): void {
    let up = Buffer.alloc(0);
    let clientCaps = -1;  // set once the client's link message is whole and names the display channel
    const onUp = (d: Buffer) => {
      up = Buffer.concat([up, d]);
      if (up.length < 16 || up.length < 16 + up.readUInt32LE(12)) return;
      c.off('data', onUp);
      if (up[20] !== 2) return;
      const nCommon = up.readUInt32LE(22), off = up.readUInt32LE(30);
      clientCaps = nCommon ? up.readUInt32LE(16 + off) : 0;
    };
    c.on('data', onUp);
    let down = Buffer.alloc(0);
    let phase: 'reply' | 'result' | 'msgs' = 'reply';
    let mini = false;
    let skip = 0;
    s.on('data', (d: Buffer) => {
      const t = now();
      if (clientCaps < 0) return;  // the server answers only a whole link message: not the display channel
      let buf: Buffer = down.length ? Buffer.concat([down, d]) : d;
      if (skip) {
        const n = Math.min(skip, buf.length);
        skip -= n;
        buf = buf.subarray(n);
      }
      for (;;) {
        if (phase === 'reply') {
          if (buf.length < 16 || buf.length < 16 + buf.readUInt32LE(12)) break;
          const size = buf.readUInt32LE(12);
          const body = buf.subarray(16, 16 + size);
          const nCommon = body.readUInt32LE(166), off = body.readUInt32LE(174);
          const serverCaps = nCommon ? body.readUInt32LE(off) : 0;
          mini = ((serverCaps & Math.max(clientCaps, 0)) & (1 << 3)) !== 0;
          buf = buf.subarray(16 + size);
          phase = 'result';
        } else if (phase === 'result') {
          if (buf.length < 4) break;
          buf = buf.subarray(4);
          phase = 'msgs';
        } else {
          const hl = mini ? 6 : 18;
          if (buf.length < hl) break;
          const type = buf.readUInt16LE(mini ? 0 : 8), size = buf.readUInt32LE(mini ? 2 : 10);
          if (DRAWS.has(type)) this.draws.push(t);
          this.types.push({ t, type });
          // STREAM_CREATE: surface_id u32, id u32, flags u8, codec_type u8
          if (type === MsgDisplay.STREAM_CREATE && buf.length >= hl + 10) this.codecs.add(buf[hl + 9]);
          const n = Math.min(hl + size, buf.length);
          skip = hl + size - n;
          buf = buf.subarray(n);
          if (skip) break;
        }
      }
      down = Buffer.from(buf);
    });
  }
}
