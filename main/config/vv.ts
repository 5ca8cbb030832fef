// .vv connection files (virt-viewer-file.c + how virt-viewer-session-spice.c
// applies them): the mandatory [virt-viewer] group with `type`, every
// remote-viewer key typed and validated, the minimum-version gate, [ovirt]
// and unknown keys kept only as debug lines. Pure: text (or bytes) in, a
// typed VvConfig out, or a ConfigError naming the line and the key.
import { Channel } from '../spice/protocol/enums';
import { ConfigError, quote } from './errors';
import { HOTKEY_ACTIONS, parseHotkey, type HotkeyOverride } from './hotkeys';
import { KEYFILE_LIMITS, KeyFile, parseKeyFile, type KeyFileEntry, type KeyFileLimits } from './keyfile';

export const VV_GROUP = 'virt-viewer';
export const OVIRT_GROUP = 'ovirt';
/** The remote-viewer release whose .vv semantics this module implements; `version=` is compared with it. */
export const REMOTE_VIEWER_COMPAT_VERSION = '11.0';

/** spice-gtk channel names (spice-channel.c to_string) → SPICE channel type. */
export const CHANNEL_NAMES: Readonly<Record<string, number>> = {
  main: Channel.MAIN,
  display: Channel.DISPLAY,
  inputs: Channel.INPUTS,
  cursor: Channel.CURSOR,
  playback: Channel.PLAYBACK,
  record: Channel.RECORD,
  tunnel: Channel.TUNNEL,
  smartcard: Channel.SMARTCARD,
  usbredir: Channel.USBREDIR,
  port: Channel.PORT,
  webdav: Channel.WEBDAV,
};

export const DISPLAY_EFFECTS = ['wallpaper', 'font-smooth', 'animation', 'all'] as const;
export type DisplayEffect = (typeof DISPLAY_EFFECTS)[number];

/** One usbredir filter rule; -1 = any. */
export interface UsbFilterRule {
  deviceClass: number;
  vendor: number;
  product: number;
  version: number;
  allow: boolean;
}

export interface ProxyTarget {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  username?: string;
  password?: string;
  /** Path and query after the authority (spice-gtk rejects these; OpenNebula sends `?token=`). */
  path?: string;
}

export interface OvirtSection {
  host?: string;
  vmGuid?: string;
  jsessionid?: string;
  ssoToken?: string;
  ca?: string;
  admin?: boolean;
}

export interface VvConfig {
  type: 'spice';
  host?: string;
  port?: number;
  tlsPort?: number;
  unixPath?: string;
  username?: string;
  password?: string;
  tlsCiphers?: string;
  /** PEM text (the file's `\n` escapes decoded). */
  ca?: string;
  hostSubject?: string;
  /** As written; `proxyTarget` is its parsed form. */
  proxy?: string;
  proxyTarget?: ProxyTarget;
  /** Channel names that must use TLS; may contain 'all'. Unknown names are dropped (debug). */
  secureChannels?: string[];
  /** Channel types not to connect (spice-protocol numbers). */
  disableChannels?: number[];
  fullscreen?: boolean;
  title?: string;
  /** Hotkeys present in the file, in remote-viewer's order; apply with mergeHotkeys(). */
  hotkeys: HotkeyOverride[];
  enableSmartcard?: boolean;
  enableUsbredir?: boolean;
  enableUsbAutoshare?: boolean;
  usbFilter?: string;
  usbFilterRules?: UsbFilterRule[];
  usbRedirectOnConnect?: string;
  usbRedirectOnConnectRules?: UsbFilterRule[];
  /** Read but ignored, as spice-gtk ≥ 0.37 does. */
  colorDepth?: number;
  disableEffects?: DisplayEffect[];
  deleteThisFile: boolean;
  version?: string;
  versions?: Record<string, string>;
  newerVersionUrl?: string;
  /** Parsed for completeness; not used (no oVirt REST support). */
  ovirt?: OvirtSection;
  /** What was ignored or adjusted, one line each (for --debug). */
  debug: string[];
}

export interface VvOptions {
  /** Version compared with `version=` / `versions=` (default REMOTE_VIEWER_COMPAT_VERSION). */
  appVersion?: string;
  /** Name used in the "At least … version … is required" error (default 'remote-viewer'). */
  appName?: string;
  /** OS id looked up in `versions=` (remote-viewer's REMOTE_VIEWER_OS_ID); none by default. */
  osId?: string;
  /** false: skip the version gate (readVvFile checks it after deleting the file, like remote-viewer). */
  checkVersion?: boolean;
  limits?: KeyFileLimits;
}

const STRING_KEYS = [
  'type', 'host', 'unix-path', 'username', 'password', 'tls-ciphers', 'ca', 'host-subject', 'proxy', 'title',
  'usb-filter', 'usb-redirect-on-connect', 'version', 'newer-version-url',
] as const;
const KNOWN_KEYS = new Set<string>([
  ...STRING_KEYS, 'port', 'tls-port', 'secure-channels', 'disable-channels', 'fullscreen', 'enable-smartcard',
  'enable-usbredir', 'enable-usb-autoshare', 'color-depth', 'disable-effects', 'delete-this-file', 'versions',
  ...HOTKEY_ACTIONS,
]);

/**
 * remote-viewer reads its boolean keys with g_key_file_get_integer (any
 * non-zero integer is true); GLib's true/false spelling is accepted as well.
 */
function getFlag(kf: KeyFile, group: string, key: string): boolean | undefined {
  const e = kf.entry(group, key);
  if (!e) return undefined;
  const v = e.raw.replace(/[ \t\n\v\f\r]+$/, '');
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (!/^[+-]?\d+(\s.*)?$/s.test(v)) throw new ConfigError(`${key}: ${quote(e.raw)} is not a boolean (expected 0, 1, true or false)`, e.line);
  return kf.getInteger(group, key) !== 0;
}

function getPort(kf: KeyFile, key: string, debug: string[]): number | undefined {
  const n = kf.getInteger(VV_GROUP, key);
  if (n === undefined) return undefined;
  const e = kf.entry(VV_GROUP, key)!;
  if (n <= 0) {
    // oVirt writes port=-1 for "no plain port"; spice-gtk then skips that port
    debug.push(`line ${e.line}: ${key}=${n}: not set`);
    return undefined;
  }
  if (n > 65535) throw new ConfigError(`${key}: ${n} is not a valid port (1-65535)`, e.line);
  return n;
}

/** usbredir filter string: rules `class,vendor,product,version,allow` joined by `|`; numbers in C notation, -1 = any. */
export function parseUsbFilter(text: string): UsbFilterRule[] {
  const rules: UsbFilterRule[] = [];
  if (text.trim() === '') return rules;
  const limits = [
    ['class', 0xff],
    ['vendor', 0xffff],
    ['product', 0xffff],
    ['version', 0xffff],
    ['allow', 1],
  ] as const;
  text.split('|').forEach((ruleText, ri) => {
    const fields = ruleText.split(',');
    if (fields.length !== 5) throw new ConfigError(`USB filter rule ${ri + 1} ${quote(ruleText)}: expected 5 comma-separated fields (class,vendor,product,version,allow)`);
    const nums = fields.map((f, fi) => {
      const t = f.trim();
      const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)$/.exec(t);
      if (!m) throw new ConfigError(`USB filter rule ${ri + 1}: ${limits[fi][0]} ${quote(f)} is not a number`);
      const body = m[2];
      const mag = /^0[xX]/.test(body) ? parseInt(body.slice(2), 16) : body.length > 1 && body[0] === '0' ? parseInt(body, 8) : Number(body);
      const n = m[1] === '-' ? -mag : mag;
      const [name, max] = limits[fi];
      if (fi === 4 ? n !== 0 && n !== 1 : n !== -1 && (n < 0 || n > max)) {
        throw new ConfigError(`USB filter rule ${ri + 1}: ${name} ${quote(f)} is out of range (${fi === 4 ? '0 or 1' : `-1 or 0-${max}`})`);
      }
      return n;
    });
    rules.push({ deviceClass: nums[0], vendor: nums[1], product: nums[2], version: nums[3], allow: nums[4] === 1 });
  });
  return rules;
}

/**
 * A host goes verbatim into a proxy's CONNECT line and Host: header (Proxmox
 * tickets must), so a space or control byte (the keyfile decodes \r and \n)
 * would inject headers: refused here, with the key's name.
 */
function checkHost(host: string, what: string): string {
  if (/[^\x21-\x7e]/.test(host)) throw new ConfigError(`${what} ${quote(host.slice(0, 80))}: has a space or control character`);
  return host;
}

/**
 * Proxy URL: `[http://|https://][user:pass@]host[:port][/path?query]`.
 * Default ports as spice-gtk (http 3128, https 3129); unlike spice-gtk a path
 * or query is kept, not refused.
 */
export function parseProxyUri(text: string): ProxyTarget {
  let rest = text.trim();
  let scheme: 'http' | 'https' = 'http';
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(rest);
  if (m) {
    const s = m[1].toLowerCase();
    if (s !== 'http' && s !== 'https') throw new ConfigError(`proxy ${quote(text)}: unsupported scheme "${s}" (http or https)`);
    scheme = s;
    rest = rest.slice(m[0].length);
  }
  const cut = rest.search(/[/?#]/);
  let authority = cut < 0 ? rest : rest.slice(0, cut);
  const path = cut < 0 ? '' : rest.slice(cut);
  const out: Partial<ProxyTarget> = { scheme };
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    authority = authority.slice(at + 1);
    const colon = userinfo.indexOf(':');
    try {
      out.username = decodeURIComponent(colon < 0 ? userinfo : userinfo.slice(0, colon));
      if (colon >= 0) out.password = decodeURIComponent(userinfo.slice(colon + 1));
    } catch {
      throw new ConfigError(`proxy ${quote(text)}: bad %-escape in the user name or password`);
    }
  }
  let host = authority;
  let portText: string | undefined;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close < 0) throw new ConfigError(`proxy ${quote(text)}: missing closing ']'`);
    host = authority.slice(1, close);
    const after = authority.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) throw new ConfigError(`proxy ${quote(text)}: unexpected ${quote(after)} after ']'`);
    if (after !== '') portText = after.slice(1);
  } else {
    const colon = authority.lastIndexOf(':');
    if (colon >= 0) {
      host = authority.slice(0, colon);
      portText = authority.slice(colon + 1);
    }
  }
  if (host === '') throw new ConfigError(`proxy ${quote(text)}: no host`);
  checkHost(host, 'proxy host');
  let port = scheme === 'http' ? 3128 : 3129;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      throw new ConfigError(`proxy ${quote(text)}: invalid port ${quote(portText)} (expected 1-65535)`);
    }
    port = Number(portText);
  }
  out.host = host;
  out.port = port;
  if (path !== '') out.path = path;
  return out as ProxyTarget;
}

/** One step of virt_viewer_compare_version: dotted numbers; a non-numeric suffix ends the comparison. */
function compareDotted(a: string | undefined, b: string | undefined): number {
  const ea = a === undefined || a === '';
  const eb = b === undefined || b === '';
  if (ea && eb) return 0;
  if (ea) return -1;
  if (eb) return 1;
  const va = a!.split('.');
  const vb = b!.split('.');
  let i = 0;
  for (; i < va.length && i < vb.length; i++) {
    const ma = /^\d*/.exec(va[i])![0];
    const mb = /^\d*/.exec(vb[i])![0];
    const na = BigInt(ma === '' ? '0' : ma);
    const nb = BigInt(mb === '' ? '0' : mb);
    if (na !== nb) return na > nb ? 1 : -1;
    if (ma.length < va[i].length || mb.length < vb[i].length) return 0;
  }
  if (i < va.length) return 1;
  if (i < vb.length) return -1;
  return 0;
}

/** virt_viewer_compare_buildid: `x.y[.z][-release]`; negative, zero or positive like strcmp. */
export function compareBuildId(a: string, b: string): number {
  const [va, ra] = splitOnce(a, '-');
  const [vb, rb] = splitOnce(b, '-');
  const r = compareDotted(va, vb);
  if (r !== 0) return r;
  return compareDotted(ra, rb);
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

/** The minimum-version gate (virt_viewer_file_check_min_version). Throws remote-viewer's message. */
export function checkVvVersion(cfg: VvConfig, opts: VvOptions = {}): void {
  let min: string | undefined;
  if (opts.osId !== undefined && cfg.versions) min = cfg.versions[opts.osId];
  if (min === undefined) min = cfg.version;
  if (min === undefined) return;
  const appVersion = opts.appVersion ?? REMOTE_VIEWER_COMPAT_VERSION;
  if (compareBuildId(min, appVersion) > 0) {
    const name = opts.appName ?? 'remote-viewer';
    throw new ConfigError(
      cfg.newerVersionUrl !== undefined
        ? `At least ${name} version ${min} is required to setup this connection, see ${cfg.newerVersionUrl} for details`
        : `At least ${name} version ${min} is required to setup this connection`,
    );
  }
}

function namesList(kf: KeyFile, key: string, debug: string[], allowAll: boolean): { names: string[]; entry: KeyFileEntry } | undefined {
  const list = kf.getStringList(VV_GROUP, key);
  if (list === undefined) return undefined;
  const entry = kf.entry(VV_GROUP, key)!;
  const names: string[] = [];
  for (const raw of list) {
    const n = raw.trim();
    if (n === '') continue;
    if ((allowAll && n === 'all') || n in CHANNEL_NAMES) names.push(n);
    else debug.push(`line ${entry.line}: ${key}: unknown channel name ${quote(n)} ignored`);
  }
  return { names, entry };
}

/** Parses .vv text. Throws ConfigError (with the line where there is one). */
export function parseVvFile(text: string, opts: VvOptions = {}): VvConfig {
  const kf = parseKeyFile(text, opts.limits);
  const debug: string[] = [];
  const group = kf.groups.get(VV_GROUP);
  if (!group) throw new ConfigError(`no [${VV_GROUP}] group (not a virt-viewer connection file)`);
  const typeEntry = group.entries.get('type');
  if (!typeEntry) throw new ConfigError(`[${VV_GROUP}] (line ${group.line}) has no "type" key`);
  const type = kf.getString(VV_GROUP, 'type')!.trim();
  if (type === 'vnc') throw new ConfigError('type=vnc: unsupported display type (this viewer speaks SPICE only)', typeEntry.line);
  if (type === 'ovirt') throw new ConfigError('type=ovirt: unsupported ovirt display type (no oVirt REST support; ask the portal for a SPICE console file)', typeEntry.line);
  if (type !== 'spice') throw new ConfigError(`type: unsupported display type ${quote(type)} (expected spice)`, typeEntry.line);

  for (const [name, g] of kf.groups) {
    if (name === VV_GROUP) continue;
    if (name === OVIRT_GROUP) debug.push(`line ${g.line}: [ovirt] group ignored (no oVirt REST support)`);
    else debug.push(`line ${g.line}: group [${name}] ignored`);
  }
  for (const e of group.entries.values()) {
    if (!KNOWN_KEYS.has(e.key)) debug.push(`line ${e.line}: unknown key ${quote(e.key)} ignored`);
  }
  for (const e of group.localized) debug.push(`line ${e.line}: localized key ${e.key}[${e.locale}] ignored`);
  for (const d of group.duplicates) debug.push(`lines ${d.lines.join(', ')}: ${quote(d.key)} given ${d.lines.length} times; the last one wins`);

  const cfg: VvConfig = { type: 'spice', hotkeys: [], deleteThisFile: false, debug };
  const str = (key: (typeof STRING_KEYS)[number]): string | undefined => kf.getString(VV_GROUP, key);

  const unixPath = str('unix-path');
  if (unixPath !== undefined) {
    cfg.unixPath = unixPath;
    for (const k of ['host', 'port', 'tls-port']) {
      const e = kf.entry(VV_GROUP, k);
      if (e) debug.push(`line ${e.line}: ${k} ignored because unix-path is set`);
    }
  } else {
    const host = str('host');
    if (host !== undefined) cfg.host = checkHost(host, 'host');
    const port = getPort(kf, 'port', debug);
    if (port !== undefined) cfg.port = port;
    const tlsPort = getPort(kf, 'tls-port', debug);
    if (tlsPort !== undefined) cfg.tlsPort = tlsPort;
  }

  const simple: [(typeof STRING_KEYS)[number], 'username' | 'password' | 'tlsCiphers' | 'hostSubject' | 'title' | 'version' | 'newerVersionUrl'][] = [
    ['username', 'username'],
    ['password', 'password'],
    ['tls-ciphers', 'tlsCiphers'],
    ['host-subject', 'hostSubject'],
    ['title', 'title'],
    ['version', 'version'],
    ['newer-version-url', 'newerVersionUrl'],
  ];
  for (const [key, prop] of simple) {
    const v = str(key);
    if (v !== undefined) cfg[prop] = v;
  }

  const ca = str('ca');
  if (ca !== undefined) {
    cfg.ca = ca;
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) debug.push(`line ${kf.entry(VV_GROUP, 'ca')!.line}: ca has no PEM certificate`);
  }

  const proxy = str('proxy');
  if (proxy !== undefined) {
    cfg.proxy = proxy;
    if (proxy.trim() !== '') {
      try {
        cfg.proxyTarget = parseProxyUri(proxy);
      } catch (e) {
        throw new ConfigError((e as Error).message, kf.entry(VV_GROUP, 'proxy')!.line);
      }
    }
  }

  const secure = namesList(kf, 'secure-channels', debug, true);
  if (secure) cfg.secureChannels = secure.names;
  const disabled = namesList(kf, 'disable-channels', debug, false);
  if (disabled) {
    cfg.disableChannels = [];
    for (const n of disabled.names) {
      if (n === 'main') debug.push(`line ${disabled.entry.line}: disable-channels: the main channel cannot be disabled`);
      else if (!cfg.disableChannels.includes(CHANNEL_NAMES[n])) cfg.disableChannels.push(CHANNEL_NAMES[n]);
    }
  }

  const flags: [string, 'fullscreen' | 'enableSmartcard' | 'enableUsbredir' | 'enableUsbAutoshare' | 'deleteThisFile'][] = [
    ['fullscreen', 'fullscreen'],
    ['enable-smartcard', 'enableSmartcard'],
    ['enable-usbredir', 'enableUsbredir'],
    ['enable-usb-autoshare', 'enableUsbAutoshare'],
    ['delete-this-file', 'deleteThisFile'],
  ];
  for (const [key, prop] of flags) {
    const v = getFlag(kf, VV_GROUP, key);
    if (v !== undefined) cfg[prop] = v;
  }

  for (const name of HOTKEY_ACTIONS) {
    const spec = kf.getString(VV_GROUP, name);
    if (spec === undefined) continue;
    cfg.hotkeys.push({ name, spec });
    try {
      parseHotkey(spec, name === 'release-cursor');
    } catch (e) {
      debug.push(`line ${kf.entry(VV_GROUP, name)!.line}: ${name}: ${(e as Error).message}; left unbound`);
    }
  }

  for (const [key, text, rules] of [
    ['usb-filter', 'usbFilter', 'usbFilterRules'],
    ['usb-redirect-on-connect', 'usbRedirectOnConnect', 'usbRedirectOnConnectRules'],
  ] as const) {
    const v = str(key);
    if (v === undefined) continue;
    cfg[text] = v;
    try {
      cfg[rules] = parseUsbFilter(v);
    } catch (e) {
      throw new ConfigError(`${key}: ${(e as Error).message}`, kf.entry(VV_GROUP, key)!.line);
    }
  }

  const depth = kf.getInteger(VV_GROUP, 'color-depth');
  if (depth !== undefined) {
    cfg.colorDepth = depth;
    debug.push(`line ${kf.entry(VV_GROUP, 'color-depth')!.line}: color-depth ignored (deprecated; use the guest's display settings)`);
  }

  const effects = kf.getStringList(VV_GROUP, 'disable-effects');
  if (effects !== undefined) {
    cfg.disableEffects = [];
    for (const raw of effects) {
      const n = raw.trim();
      if ((DISPLAY_EFFECTS as readonly string[]).includes(n)) cfg.disableEffects.push(n as DisplayEffect);
      else if (n !== '') debug.push(`line ${kf.entry(VV_GROUP, 'disable-effects')!.line}: disable-effects: unknown effect ${quote(n)} ignored`);
    }
  }

  const versions = kf.getStringList(VV_GROUP, 'versions');
  if (versions !== undefined) {
    cfg.versions = {};
    const line = kf.entry(VV_GROUP, 'versions')!.line;
    for (const item of versions) {
      const colon = item.indexOf(':');
      if (colon < 0) {
        debug.push(`line ${line}: versions: ${quote(item)} is not osid:version; ignored`);
        continue;
      }
      cfg.versions[item.slice(0, colon)] = item.slice(colon + 1);
    }
  }

  const ov = kf.groups.get(OVIRT_GROUP);
  if (ov) {
    const o: OvirtSection = {};
    const os = (k: string): string | undefined => kf.getString(OVIRT_GROUP, k);
    const set = (k: string, p: 'host' | 'vmGuid' | 'jsessionid' | 'ssoToken' | 'ca'): void => {
      const v = os(k);
      if (v !== undefined) o[p] = v;
    };
    set('host', 'host');
    set('vm-guid', 'vmGuid');
    set('jsessionid', 'jsessionid');
    set('sso-token', 'ssoToken');
    set('ca', 'ca');
    const admin = getFlag(kf, OVIRT_GROUP, 'admin');
    if (admin !== undefined) o.admin = admin;
    cfg.ovirt = o;
  }

  if (opts.checkVersion !== false) checkVvVersion(cfg, opts);
  return cfg;
}

/** Offset of the first byte that is not valid UTF-8, or -1. */
function invalidUtf8At(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    let n: number;
    let min: number;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) (n = 1), (min = 0x80);
    else if (c >= 0xe0 && c <= 0xef) (n = 2), (min = 0x800);
    else if (c >= 0xf0 && c <= 0xf4) (n = 3), (min = 0x10000);
    else return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const x = b[i + k];
      if (x === undefined || (x & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (x & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

/** Decodes .vv bytes (size limit first, then strict UTF-8) and parses them. */
export function decodeVvBytes(bytes: Uint8Array, limits: KeyFileLimits = {}): string {
  const max = limits.maxBytes ?? KEYFILE_LIMITS.maxBytes;
  if (bytes.length > max) throw new ConfigError(`file is too large (${bytes.length} bytes; the limit is ${max})`);
  const bad = invalidUtf8At(bytes);
  if (bad >= 0) {
    let line = 1;
    for (let i = 0; i < bad; i++) if (bytes[i] === 0x0a) line++;
    throw new ConfigError(`invalid UTF-8 at byte ${bad} (not a text file?)`, line);
  }
  return new TextDecoder('utf-8').decode(bytes);
}

export function parseVvBytes(bytes: Uint8Array, opts: VvOptions = {}): VvConfig {
  return parseVvFile(decodeVvBytes(bytes, opts.limits), opts);
}
