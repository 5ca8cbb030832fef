// One effective configuration from the command line, the .vv file (or URI)
// and the environment, with remote-viewer's precedence: spice-gtk applies the
// --spice-* options when the session is created and the .vv file is applied
// over them (ca also clears --spice-ca-file); title, fullscreen and hotkeys
// from a .vv replace -t, -f and -H; SPICE_PROXY is the fallback proxy.
import { Channel } from '../spice/protocol/enums';
import { COMPRESSION_VALUES, VIDEO_CODEC_VALUES, type CliOptions } from './cli';
import { ConfigError } from './errors';
import { mergeHotkeys, type HotkeyBindings, type KeymapEntry } from './hotkeys';
import { parseConnectUri, type ConnectTarget } from './uri';
import { parseProxyUri, parseUsbFilter, type DisplayEffect, type ProxyTarget, type UsbFilterRule, type VvConfig } from './vv';

/** spice-gtk's default auto-redirect filter: everything except HID (class 3) devices. */
export const DEFAULT_USB_AUTO_FILTER = '0x03,-1,-1,-1,0|-1,-1,-1,-1,1';

/** Where to connect: a parsed URI without its parse warnings (those went to `warnings`). */
export type EffectiveTarget = Omit<ConnectTarget, 'warnings'>;

export interface EffectiveConfig {
  /** undefined: no URI or file was given (remote-viewer shows its connect dialog). */
  target?: EffectiveTarget;
  source: 'uri' | 'vv' | 'none';
  tls: {
    /** CA: inline PEM from the .vv, else --spice-ca-file, else the truststore fallback path (check it exists). */
    ca?: { pem: string } | { file: string; fallback?: boolean };
    hostSubject?: string;
    ciphers?: string;
    /** Channel names that must use TLS ('all' possible). */
    secureChannels: string[];
  };
  proxy?: ProxyTarget & { from: 'vv' | 'SPICE_PROXY' };
  channels: {
    audio: boolean;
    smartcard: boolean;
    usbredir: boolean;
    /** Channel types not to link: disable-channels plus what the flags above turn off. */
    disabledTypes: number[];
  };
  usb: {
    autoshare: boolean;
    autoRedirectFilter: string;
    autoRedirectRules: UsbFilterRule[];
    redirectOnConnect?: string;
    redirectOnConnectRules?: UsbFilterRule[];
    shareCd: string[];
  };
  smartcard: { certificates?: string[]; db?: string };
  sharedDir?: string;
  /** --spice-shared-dir-ro: the guest may read the shared folder, never write it. */
  sharedDirReadOnly: boolean;
  /** ImageCompression value to request. */
  preferredCompression?: number;
  /** SpiceVideoCodecTypes to ask for, preferred first (--spice-preferred-video-codec). */
  preferredVideoCodecs?: number[];
  disableEffects: DisplayEffect[];
  ui: {
    title?: string;
    fullscreen: boolean;
    zoom: number;
    autoResize: boolean;
    cursor: 'auto' | 'local';
    kiosk: boolean;
    kioskQuit: 'never' | 'on-disconnect';
    /** remote-viewer quits when the session ends unless in kiosk mode with --kiosk-quit=never. */
    quitOnDisconnect: boolean;
    hotkeys: HotkeyBindings;
    keymap: KeymapEntry[];
    verbose: boolean;
    debug: boolean;
    /** --spice-debug: the protocol trace (every link step and message) on stderr. */
    spiceDebug: boolean;
    /** --clipboard: which ways the clipboard is shared (absent: the saved "Share clipboard", else both). */
    clipboard?: 'both' | 'to-guest' | 'to-client' | 'off';
  };
  /** What the .vv and the merge ignored or adjusted. */
  debug: string[];
  /** Printed by remote-viewer as warnings. */
  warnings: string[];
}

export interface ResolveInput {
  /** The parsed .vv when the positional argument was a file or `-` (see readVvFile). */
  vv?: VvConfig;
  env?: Record<string, string | undefined>;
}

const rules = (text: string, what: string): UsbFilterRule[] => {
  try {
    return parseUsbFilter(text);
  } catch (e) {
    throw new ConfigError(`${what}: ${(e as Error).message}`);
  }
};

export function resolveConfig(cli: CliOptions, input: ResolveInput = {}): EffectiveConfig {
  const { vv, env = {} } = input;
  const debug = vv ? [...vv.debug] : [];
  const warnings = [...cli.warnings];
  if (cli.target && cli.target.kind !== 'uri' && !vv) throw new ConfigError('the .vv file has not been read (use readVvFile first)');

  let target: EffectiveTarget | undefined;
  let source: EffectiveConfig['source'] = 'none';
  if (vv) {
    source = 'vv';
    if (vv.unixPath !== undefined) target = { scheme: 'spice+unix', host: '', unixPath: vv.unixPath };
    else {
      if (vv.host === undefined || vv.host === '') throw new ConfigError('the .vv file names no host');
      if (vv.port === undefined && vv.tlsPort === undefined) throw new ConfigError('the .vv file has neither port nor tls-port');
      target = { scheme: vv.port === undefined ? 'spice+tls' : 'spice', host: vv.host };
      if (vv.port !== undefined) target.port = vv.port;
      if (vv.tlsPort !== undefined) target.tlsPort = vv.tlsPort;
    }
    if (vv.username !== undefined) target.username = vv.username;
    if (vv.password !== undefined) target.password = vv.password;
  } else if (cli.target?.kind === 'uri') {
    source = 'uri';
    const t = parseConnectUri(cli.target.uri);
    for (const w of t.warnings) warnings.push(w);
    const { warnings: _w, ...rest } = t;
    target = rest;
  }

  // TLS: .vv values replace the --spice-* ones
  let ca: EffectiveConfig['tls']['ca'];
  if (vv?.ca !== undefined) ca = { pem: vv.ca };
  else if (cli.spice.caFile !== undefined) ca = { file: cli.spice.caFile };
  else if (env.HOME) ca = { file: `${env.HOME}/.spicec/spice_truststore.pem`, fallback: true };
  const tls: EffectiveConfig['tls'] = { secureChannels: vv?.secureChannels ?? cli.spice.secureChannels ?? [] };
  if (ca) tls.ca = ca;
  const subject = vv?.hostSubject ?? cli.spice.hostSubject;
  if (subject !== undefined) tls.hostSubject = subject;
  if (vv?.tlsCiphers !== undefined) tls.ciphers = vv.tlsCiphers;

  let proxy: EffectiveConfig['proxy'];
  if (vv?.proxy !== undefined) {
    if (vv.proxyTarget) proxy = { ...vv.proxyTarget, from: 'vv' };
    else debug.push('proxy= is empty: no proxy (SPICE_PROXY not used)');
  } else if (env.SPICE_PROXY) {
    try {
      proxy = { ...parseProxyUri(env.SPICE_PROXY), from: 'SPICE_PROXY' };
    } catch (e) {
      throw new ConfigError(`SPICE_PROXY: ${(e as Error).message}`);
    }
  }

  const audio = !cli.spice.disableAudio;
  const smartcard = vv?.enableSmartcard ?? cli.spice.smartcard;
  const usbredir = vv?.enableUsbredir ?? !cli.spice.disableUsbredir;
  const disabled = new Set<number>(vv?.disableChannels ?? []);
  if (!audio) disabled.add(Channel.PLAYBACK).add(Channel.RECORD);
  if (!smartcard) disabled.add(Channel.SMARTCARD);
  if (!usbredir) disabled.add(Channel.USBREDIR);

  let autoRedirectFilter = DEFAULT_USB_AUTO_FILTER;
  let autoRedirectRules: UsbFilterRule[];
  if (vv?.usbFilter !== undefined) {
    autoRedirectFilter = vv.usbFilter;
    autoRedirectRules = vv.usbFilterRules!;
  } else if (cli.spice.usbredirAutoRedirectFilter !== undefined) {
    autoRedirectFilter = cli.spice.usbredirAutoRedirectFilter;
    autoRedirectRules = rules(autoRedirectFilter, '--spice-usbredir-auto-redirect-filter');
  } else autoRedirectRules = rules(autoRedirectFilter, 'default filter');
  const usb: EffectiveConfig['usb'] = { autoshare: vv?.enableUsbAutoshare ?? true, autoRedirectFilter, autoRedirectRules, shareCd: [...cli.spice.shareCd] };
  if (vv?.usbRedirectOnConnect !== undefined) {
    usb.redirectOnConnect = vv.usbRedirectOnConnect;
    usb.redirectOnConnectRules = vv.usbRedirectOnConnectRules!;
  } else if (cli.spice.usbredirRedirectOnConnect !== undefined) {
    usb.redirectOnConnect = cli.spice.usbredirRedirectOnConnect;
    usb.redirectOnConnectRules = rules(usb.redirectOnConnect, '--spice-usbredir-redirect-on-connect');
  }

  const sc: EffectiveConfig['smartcard'] = {};
  if (cli.spice.smartcardCertificates) sc.certificates = cli.spice.smartcardCertificates;
  if (cli.spice.smartcardDb !== undefined) sc.db = cli.spice.smartcardDb;
  if (cli.spice.cacheSize !== undefined || cli.spice.glzWindowSize !== undefined) debug.push('--spice-cache-size / --spice-glz-window-size are deprecated and ignored');

  const kiosk = cli.kiosk;
  const fullscreen = kiosk || (vv?.fullscreen ?? cli.fullscreen);
  if (kiosk && vv?.fullscreen === false) debug.push('fullscreen=0 ignored in kiosk mode');

  const out: EffectiveConfig = {
    source,
    tls,
    channels: { audio, smartcard, usbredir, disabledTypes: [...disabled].sort((a, b) => a - b) },
    usb,
    smartcard: sc,
    sharedDirReadOnly: cli.spice.sharedDirReadOnly,
    disableEffects: vv?.disableEffects ?? cli.spice.disableEffects ?? [],
    ui: {
      fullscreen,
      zoom: cli.zoom,
      autoResize: cli.autoResize,
      cursor: cli.cursor ?? 'auto',
      kiosk,
      kioskQuit: cli.kioskQuit,
      quitOnDisconnect: kiosk ? cli.kioskQuit === 'on-disconnect' : true,
      hotkeys: mergeHotkeys(cli.hotkeys, vv?.hotkeys, debug),
      keymap: cli.keymap ?? [],
      verbose: cli.verbose,
      debug: cli.debug,
      spiceDebug: cli.spice.debug,
      ...(cli.clipboard ? { clipboard: cli.clipboard } : {}),
    },
    debug,
    warnings,
  };
  const title = vv?.title ?? cli.title;
  if (title !== undefined) out.ui.title = title;
  if (target) out.target = target;
  if (proxy) out.proxy = proxy;
  if (cli.spice.sharedDir !== undefined) out.sharedDir = cli.spice.sharedDir;
  if (cli.spice.preferredCompression !== undefined) out.preferredCompression = COMPRESSION_VALUES[cli.spice.preferredCompression];
  if (cli.spice.preferredVideoCodecs !== undefined) out.preferredVideoCodecs = cli.spice.preferredVideoCodecs.map((n) => VIDEO_CODEC_VALUES[n]);
  return out;
}

// the per-window title rule lives with the page's title (preload/title.ts)
export { windowSubtitle } from '../../preload/title';
