// usbredir filter check (usbredirfilter_check semantics): the first rule that
// matches class, vendor, product and bcdDevice decides. The class tested is the
// device class unless that is 0 (per interface) or 0xef (miscellaneous), then
// every interface class; all must pass. Non-boot HID interfaces (3/0/0) of a
// multi-interface device are skipped, unless that would skip all of them, so a
// composite device is not blocked by its HID side channel while a pure HID
// device still meets the HID rule. Used for auto-redirect and redirect-on-connect.
import type { UsbFilterRule } from '../../config/vv';

export interface FilterDevice {
  deviceClass: number;
  vendorId: number;
  productId: number;
  /** bcdDevice */
  deviceVersion: number;
  interfaces: { class: number; subclass: number; protocol: number }[];
}

/** 'deny' = a rule blocks it; 'no-match' = no rule matched (blocked unless defaultAllow). */
export type FilterVerdict = 'allow' | 'deny' | 'no-match';

function firstMatch(rules: UsbFilterRule[], cls: number, d: FilterDevice): FilterVerdict {
  for (const r of rules) {
    if ((r.deviceClass === -1 || r.deviceClass === cls) && (r.vendor === -1 || r.vendor === d.vendorId)
      && (r.product === -1 || r.product === d.productId) && (r.version === -1 || r.version === d.deviceVersion)) {
      return r.allow ? 'allow' : 'deny';
    }
  }
  return 'no-match';
}

export function checkUsbFilter(rules: UsbFilterRule[], d: FilterDevice, opts: { defaultAllow?: boolean } = {}): FilterVerdict {
  return check(rules, d, opts.defaultAllow ?? false, false);
}

function check(rules: UsbFilterRule[], d: FilterDevice, defaultAllow: boolean, keepNonBootHid: boolean): FilterVerdict {
  const verdict = (cls: number): FilterVerdict | null => {
    const v = firstMatch(rules, cls, d);
    if (v === 'allow' || (v === 'no-match' && defaultAllow)) return null;
    return v;
  };
  if (d.deviceClass !== 0x00 && d.deviceClass !== 0xef) {
    const v = verdict(d.deviceClass);
    if (v) return v;
  }
  let skipped = 0;
  for (const i of d.interfaces) {
    if (!keepNonBootHid && d.interfaces.length > 1 && i.class === 0x03 && i.subclass === 0 && i.protocol === 0) {
      skipped++;
      continue;
    }
    const v = verdict(i.class);
    if (v) return v;
  }
  if (d.interfaces.length > 0 && skipped === d.interfaces.length) return check(rules, d, defaultAllow, true);
  return 'allow';
}
