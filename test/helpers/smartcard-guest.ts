// The smartcard guest (GUEST_SMARTCARD=1 flavour of scripts/build-guest.sh)
// as tests drive it: QEMU's CCID reader on the SPICE smartcard channel, and
// the guest's "sc" command (scripts/guest/sc) that runs opensc-tool.
import type { QemuVm } from '../harness/qemu';

/** Makes ensureGuest() build/use the smartcard flavour (pcscd + libccid + opensc in the guest). */
export function useSmartcardGuest(): void {
  process.env.GUEST_SMARTCARD = '1';
}

/** SC_CCID_DEBUG=N: QEMU's usb-ccid and ccid-card-passthru debug level (they print on QEMU's stdout: see QEMU_TRACE). */
const CCID_DEBUG = process.env.SC_CCID_DEBUG ? `,debug=${Number(process.env.SC_CCID_DEBUG)}` : '';

/**
 * A CCID reader on xHCI with a passthru card on the SPICE smartcard channel.
 * spice-server takes a single smartcard chardev (a second one asserts in
 * smartcard_init), so a VM has one guest reader.
 */
export const CCID_ARGS = [
  '-device', 'qemu-xhci,id=xhci',
  '-device', `usb-ccid,id=ccid0,bus=xhci.0${CCID_DEBUG}`,
  '-chardev', 'spicevmc,name=smartcard,id=sc0',
  '-device', `ccid-card-passthru,chardev=sc0,bus=ccid0.0${CCID_DEBUG}`,
];

/** opensc-tool prints ATRs as colon-separated hex. */
export const colonHex = (hex: string): string => hex.match(/../g)!.join(':');

/** Starts the guest's pcscd once its CCID reader is on the USB bus (no udevd: it sees only readers present at start). */
export async function startGuestPcscd(vm: QemuVm): Promise<void> {
  const r = await vm.command('sc start 1', /^GUEST (OK|ERR) sc\b/, 60_000);
  if (!/OK sc started/.test(r)) throw new Error(`guest pcscd: ${r}`);
}

/** Runs `sc <args>` (opensc-tool) in the guest: its output lines and exit code. */
export async function guestSc(vm: QemuVm, args: string, timeoutMs = 90_000): Promise<{ lines: string[]; rc: number }> {
  const from = vm.serialLines().length;
  const reply = await vm.command(`sc ${args}`, /^GUEST (OK|ERR) sc\b/, timeoutMs);
  const lines = vm
    .serialLines()
    .slice(from)
    .filter((l) => l.startsWith('GUEST SC '))
    .map((l) => l.slice('GUEST SC '.length));
  const m = /^GUEST OK sc (\d+)$/.exec(reply);
  if (!m) throw new Error(`guest: ${reply}\n${lines.join('\n')}`);
  return { lines, rc: Number(m[1]) };
}
