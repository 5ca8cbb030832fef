// spicevmc base channel: the byte pipe that port, usbredir, smartcard and
// webdav share. DATA both ways (writes split into spice-server's chunk size),
// held output across a seamless migration (holdsOutputForSwitch), and flow
// control towards the producer: while the queue holds highWaterBytes or more
// (or highWaterMessages) the producer is told to stop reading its device
// (onPause), and to go on (onResume) once it is down to the low marks. The
// same while the socket holds highWaterBytes the OS has not taken: spice-server
// stops reading a client's socket when a device has 128 messages queued, and
// the channel queue alone would then never fill (messages go straight out). The
// base channel's hard queue limit turns a producer that ignores this into a
// coded LIMIT failure.
import { Channel, type Logger } from './base-channel';
import { MsgcSpicevmc, MsgSpicevmc } from '../protocol/enums';
import type { Connection } from '../connection';

/** spice-server splits device data in chunks of this size; we split writes the same way. */
export const SPICEVMC_MAX_CHUNK = 64 * 1024;

/** Flow-control marks for the bytes held in a device channel's queue. */
export const SPICEVMC_HIGH_WATER_BYTES = 1024 * 1024;
export const SPICEVMC_LOW_WATER_BYTES = 256 * 1024;
/** The same in messages, so many tiny writes pause the producer before the base's message bound. */
export const SPICEVMC_HIGH_WATER_MESSAGES = 4096;
export const SPICEVMC_LOW_WATER_MESSAGES = 1024;
/** Hard bound: a producer that keeps writing after onPause fails the channel here. */
export const SPICEVMC_MAX_QUEUED_BYTES = 16 * 1024 * 1024;

export interface FlowStats {
  /** Times the producer was told to stop, and whether it is stopped now. */
  pauses: number;
  paused: boolean;
}

export abstract class SpicevmcChannel extends Channel {
  override readonly holdsOutputForSwitch = true;
  bytesIn = 0;
  bytesOut = 0;
  highWaterBytes = SPICEVMC_HIGH_WATER_BYTES;
  lowWaterBytes = SPICEVMC_LOW_WATER_BYTES;
  highWaterMessages = SPICEVMC_HIGH_WATER_MESSAGES;
  lowWaterMessages = SPICEVMC_LOW_WATER_MESSAGES;
  /** Device → client data (the body is a copy the listener may keep). */
  onData: ((bytes: Uint8Array) => void) | null = null;
  /** Producer flow control: stop reading the device / go on. */
  onPause: (() => void) | null = null;
  onResume: (() => void) | null = null;
  private paused = false;
  private pauses = 0;
  /** The connection whose socket was over highWaterBytes, until it drains. */
  private socketFull: Connection | null = null;

  constructor(type: number, id: number, log: Logger) {
    super(type, id, log);
    this.queueLimits = { ...this.queueLimits, maxBytes: SPICEVMC_MAX_QUEUED_BYTES };
    this.on(MsgSpicevmc.DATA, (_r, msg) => {
      this.bytesIn += msg.body.length;
      this.onData?.(msg.body.slice());
    });
    // we do not advertise SPICEVMC_CAP_DATA_COMPRESS_LZ4, so the server never compresses
    this.ignore(MsgSpicevmc.COMPRESSED_DATA);
  }

  channelCaps(): number[] {
    return [];
  }

  /** spice-server reads a device (and so sends its data) only while the VM runs. */
  protected override provesGuestRunning(type: number): boolean {
    return type === MsgSpicevmc.DATA;
  }

  /**
   * Sends device data, split in SPICEVMC_MAX_CHUNK pieces. Returns false when
   * the producer should stop until onResume (like a Node writable's write()).
   * The bytes are not copied (framing copies them into the message; held
   * output keeps them): the caller must not change them afterwards.
   */
  write(bytes: Uint8Array): boolean {
    const chunks: Uint8Array[] = [];
    for (let off = 0; off < bytes.length; off += SPICEVMC_MAX_CHUNK) chunks.push(bytes.subarray(off, off + SPICEVMC_MAX_CHUNK));
    this.bytesOut += bytes.length;
    // a write split in chunks still leaves in one socket write
    this.sendAll(MsgcSpicevmc.DATA, chunks);
    this.checkSocket();
    return !this.paused;
  }

  private checkSocket(): void {
    const c = this.connection;
    if (!c || this.socketFull === c || c.unsentBytes < this.highWaterBytes) return;
    this.socketFull = c;
    c.onDrain = () => {
      c.onDrain = null;
      if (this.socketFull === c) this.socketFull = null;
      this.queueChanged();
    };
    this.queueChanged();
  }

  /** After a link, a swap or a resume: a full socket of another connection no longer holds the producer. */
  protected override drain(): void {
    super.drain();
    if (this.socketFull && this.socketFull !== this.connection) this.socketFull = null;
    this.checkSocket();
    this.queueChanged();
  }

  /** False while the producer should not write (the queue is above its high-water mark). */
  get canWrite(): boolean {
    return !this.paused;
  }

  get flowStats(): FlowStats {
    return { pauses: this.pauses, paused: this.paused };
  }

  protected override queueChanged(): void {
    const { bytes, messages } = this.queueStats;
    if (this.socketFull && this.socketFull !== this.connection) this.socketFull = null;
    const full = this.socketFull !== null;
    if (!this.paused && (full || bytes >= this.highWaterBytes || messages >= this.highWaterMessages)) {
      this.paused = true;
      this.pauses++;
      this.log.debug(`${this.name}: ${full ? 'socket full' : `${bytes} bytes held`}; producer paused`);
      this.onPause?.();
    } else if (this.paused && !full && bytes <= this.lowWaterBytes && messages <= this.lowWaterMessages) {
      this.paused = false;
      this.log.debug(`${this.name}: ${bytes} bytes held; producer resumed`);
      this.onResume?.();
    }
  }
}

/**
 * A device pipe with nothing to say at link time (usbredir, smartcard,
 * webdav): its device manager (main/devices) reads onData and writes.
 */
export class SpicevmcDeviceChannel extends SpicevmcChannel {
  protected onLinked(): void {}
}
