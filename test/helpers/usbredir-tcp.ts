// A UsbRedirHost on a TCP connection to QEMU's usb-redir socket chardev
// (server=on): the fast path to QEMU without SPICE, for tests and the USB bench.
import net from 'node:net';
import { UsbRedirHost, type UsbRedirHostEvents } from '../../main/devices/usb/redir-host';
import type { UsbRedirCapName } from '../../main/devices/usb/usbredir-proto';

/** Connects (TCP_NODELAY: BOT's small CSWs must not wait for delayed ACKs) and sends our hello. */
export async function connectUsbRedir(port: number, events: UsbRedirHostEvents, caps?: UsbRedirCapName[]): Promise<{ sock: net.Socket; host: UsbRedirHost }> {
  const sock = await new Promise<net.Socket>((resolve, reject) => {
    const c = net.createConnection({ host: '127.0.0.1', port, noDelay: true }, () => resolve(c));
    c.once('error', reject);
  });
  const host = new UsbRedirHost((b) => sock.write(b), events, undefined, caps);
  sock.on('data', (d: Buffer) => host.receive(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)));
  sock.on('end', () => host.end());
  sock.on('drain', () => host.resume());
  host.start();
  return { sock, host };
}

/** QEMU arguments: an xhci controller and a usb-redir device whose chardev listens on 127.0.0.1:port. */
export function usbRedirQemuArgs(port: number): string[] {
  return [
    '-device', 'qemu-xhci,id=xhci,p2=8,p3=8',
    '-chardev', `socket,id=usbredirchardev1,host=127.0.0.1,port=${port},server=on,wait=off`,
    '-device', 'usb-redir,chardev=usbredirchardev1,id=usbredirdev1,bus=xhci.0',
  ];
}
