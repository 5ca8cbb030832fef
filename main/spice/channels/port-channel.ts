// Port channel (spicevmc "port"): a named byte pipe to a guest virtio-serial
// port (QEMU -chardev spiceport). PORT_INIT names it; a second PORT_INIT after
// a migration is normal and only refreshes name/open state. DATA, chunking
// and the migration hold come from SpicevmcChannel.
import { ByteWriter } from '../wire/byte-writer';
import { SpiceError } from '../wire/errors';
import type { Logger } from './base-channel';
import { SpicevmcChannel } from './spicevmc-channel';
import { Channel as ChannelType, MsgcPortEvent, MsgPort, PortEvent } from '../protocol/enums';

export class PortChannel extends SpicevmcChannel {
  portName: string | null = null;
  /** The guest side has the port open. */
  guestOpen = false;
  onInit: ((name: string, opened: boolean) => void) | null = null;
  onEvent: ((event: number) => void) | null = null;

  /** type: PORT, or WEBDAV (spice-server serves the webdav spiceport as a port channel: PORT_INIT, PORT_EVENT). */
  constructor(id: number, log: Logger, type: number = ChannelType.PORT) {
    super(type, id, log);
    this.on(MsgPort.INIT, (r) => {
      const size = r.u32('name_size');
      const off = r.u32('name pointer');
      const opened = r.u8('opened') !== 0;
      if (size > 4096) throw new SpiceError('BAD_MESSAGE', `port name of ${size} bytes`);
      const bytes = r.sub(off, size, 'port name').rest();
      const nul = bytes.indexOf(0);
      this.portName = new TextDecoder().decode(nul >= 0 ? bytes.subarray(0, nul) : bytes);
      this.guestOpen = opened;
      this.onInit?.(this.portName, opened);
    });
    this.on(MsgPort.EVENT, (r) => {
      const ev = r.u8('port event');
      if (ev === PortEvent.OPENED) this.guestOpen = true;
      if (ev === PortEvent.CLOSED) this.guestOpen = false;
      this.onEvent?.(ev);
    });
  }

  /** Device data and the guest opening the port (a virtio-serial timer that only runs with the VM). */
  protected override provesGuestRunning(type: number): boolean {
    return super.provesGuestRunning(type) || type === MsgPort.EVENT;
  }

  protected onLinked(): void {
    // tell the device a client is attached (the guest sees the port opened)
    this.send(MsgcPortEvent.MSGC_PORT_EVENT, new ByteWriter(1).u8(PortEvent.OPENED).finish());
  }
}
