// remote-viewer's command line, option for option (virt-viewer-app.c,
// remote-viewer.c, spice-gtk spice-option.c) with GLib GOption parsing rules:
// `--opt=value` and `--opt value` (the next argument is taken even when it
// starts with `-`), short options bundled (`-fk`; one value-taking option per
// bundle, its value is the next argument), `--` ends options, `-` is stdin,
// integers as C strtol base 0, a flag given `=value` still just sets the flag.
// Error texts are remote-viewer's; `--help` keeps its layout.
import { ConfigError } from './errors';
import { parseHotkeysOption, parseKeymapOption, type HotkeyOverride, type KeymapEntry } from './hotkeys';
import { CHANNEL_NAMES, DISPLAY_EFFECTS, type DisplayEffect } from './vv';
import { ImageCompression, VideoCodecType } from '../spice/protocol/enums';

export const MIN_ZOOM = 10;
export const MAX_ZOOM = 400;
export const NORMAL_ZOOM = 100;

/** The positional argument: a URI, a .vv path, or `-` (stdin). */
export type CliTarget = { kind: 'uri'; uri: string } | { kind: 'file'; path: string } | { kind: 'stdin' };

export type CompressionName = 'auto-glz' | 'auto-lz' | 'quic' | 'glz' | 'lz' | 'lz4' | 'off';
export const COMPRESSION_VALUES: Readonly<Record<CompressionName, number>> = {
  'auto-glz': ImageCompression.AUTO_GLZ,
  'auto-lz': ImageCompression.AUTO_LZ,
  quic: ImageCompression.QUIC,
  glz: ImageCompression.GLZ,
  lz: ImageCompression.LZ,
  lz4: ImageCompression.LZ4,
  off: ImageCompression.OFF,
};

export type VideoCodecName = 'mjpeg' | 'vp8' | 'vp9' | 'h264';
/** SpiceVideoCodecType by the names spice-server's video-codecs option uses. */
export const VIDEO_CODEC_VALUES: Readonly<Record<VideoCodecName, number>> = {
  mjpeg: VideoCodecType.MJPEG,
  vp8: VideoCodecType.VP8,
  vp9: VideoCodecType.VP9,
  h264: VideoCodecType.H264,
};

export interface SpiceCliOptions {
  secureChannels?: string[];
  disableEffects?: DisplayEffect[];
  caFile?: string;
  hostSubject?: string;
  disableAudio: boolean;
  smartcard: boolean;
  smartcardCertificates?: string[];
  smartcardDb?: string;
  disableUsbredir: boolean;
  usbredirAutoRedirectFilter?: string;
  usbredirRedirectOnConnect?: string;
  shareCd: string[];
  cacheSize?: number;
  glzWindowSize?: number;
  sharedDir?: string;
  /** Ours (spice-gtk's session property share-dir-ro; remote-viewer has no option for it). */
  sharedDirReadOnly: boolean;
  preferredCompression?: CompressionName;
  /** Video codecs to ask the server for, preferred first. */
  preferredVideoCodecs?: VideoCodecName[];
  debug: boolean;
}

export interface CliOptions {
  target?: CliTarget;
  fullscreen: boolean;
  title?: string;
  /** 10..400; out of range values become 100 with a warning (as remote-viewer). */
  zoom: number;
  /** --hotkeys as given (apply with mergeHotkeys); undefined when not given. */
  hotkeys?: HotkeyOverride[];
  keymap?: KeymapEntry[];
  cursor?: 'auto' | 'local';
  /** --auto-resize: default always. */
  autoResize: boolean;
  kiosk: boolean;
  kioskQuit: 'never' | 'on-disconnect';
  /** --clipboard (ours, not in remote-viewer's --help): which ways the clipboard is shared. */
  clipboard?: 'both' | 'to-guest' | 'to-client' | 'off';
  verbose: boolean;
  debug: boolean;
  shared: boolean;
  spice: SpiceCliOptions;
  /** GTK/X options accepted for compatibility and ignored. */
  ignored: string[];
  /** remote-viewer prints these and carries on. */
  warnings: string[];
}

export type CliResult = CliOptions | { help: string } | { version: string };

export interface CliContext {
  /** Program name in messages and --help (default 'remote-viewer'). */
  prog?: string;
  /** Text printed by -V (default `<prog> version 11.0`). */
  version?: string;
  /** Text printed by --spice-gtk-version. */
  engineVersion?: string;
}

type Arg = 'none' | 'string' | 'int';
type Group = 'app' | 'gtk' | 'spice';
interface OptSpec {
  long: string;
  short?: string;
  arg: Arg;
  group: Group;
  help?: string;
  argDesc?: string;
  hidden?: boolean;
  /** GTK's IN_MAIN: listed under Application Options in --help. */
  inMain?: boolean;
  apply: (o: CliOptions, value: string | number | null, name: string) => void;
}

const channelList = 'main, display, inputs, cursor, playback, record, smartcard, usbredir, webdav';

const OPTIONS: OptSpec[] = [
  // --- application options, in remote-viewer's order ---
  { long: 'version', short: 'V', arg: 'none', group: 'app', help: 'Display version information', apply: () => {} },
  { long: 'zoom', short: 'z', arg: 'int', group: 'app', help: 'Zoom level of window, in percentage', argDesc: 'ZOOM', apply: (o, v) => (o.zoom = v as number) },
  { long: 'full-screen', short: 'f', arg: 'none', group: 'app', help: 'Open in full screen mode (adjusts guest resolution to fit the client)', apply: (o) => (o.fullscreen = true) },
  { long: 'hotkeys', short: 'H', arg: 'string', group: 'app', help: 'Customise hotkeys', apply: (o, v) => (o.hotkeys = parseHotkeysOption(v as string, o.warnings)) },
  { long: 'auto-resize', arg: 'string', group: 'app', help: 'Automatically resize remote framebuffer', argDesc: '<never|always>', apply: (o, v) => ((o as CliState).resizeText = v as string) },
  { long: 'keymap', short: 'K', arg: 'string', group: 'app', help: 'Remap keys format key=keymod+key e.g. F1=SHIFT+CTRL+F1,1=SHIFT+F1,ALT_L=Void', apply: (o, v) => (o.keymap = parseKeymapOption(v as string, o.warnings)) },
  { long: 'cursor', arg: 'string', group: 'app', help: "Cursor display mode: 'local' or 'auto'", argDesc: 'MODE', apply: (o, v) => ((o as CliState).cursorText = v as string) },
  { long: 'kiosk', short: 'k', arg: 'none', group: 'app', help: 'Enable kiosk mode', apply: (o) => (o.kiosk = true) },
  {
    long: 'kiosk-quit', arg: 'string', group: 'app', help: 'Quit on given condition in kiosk mode', argDesc: '<never|on-disconnect>',
    apply: (o, v) => {
      if (v !== 'never' && v !== 'on-disconnect') throw new ConfigError(`Invalid kiosk-quit argument: ${v}`);
      o.kioskQuit = v;
    },
  },
  {
    // ours; hidden so --help stays remote-viewer's
    long: 'clipboard', arg: 'string', group: 'app', hidden: true, help: 'Share the clipboard', argDesc: '<both|to-guest|to-client|off>',
    apply: (o, v) => {
      if (v !== 'both' && v !== 'to-guest' && v !== 'to-client' && v !== 'off') throw new ConfigError(`Invalid clipboard argument: ${v} (both, to-guest, to-client or off)`);
      o.clipboard = v;
    },
  },
  { long: 'verbose', short: 'v', arg: 'none', group: 'app', help: 'Display verbose information', apply: (o) => (o.verbose = true) },
  { long: 'debug', arg: 'none', group: 'app', help: 'Display debugging information', apply: (o) => (o.debug = true) },
  { long: 'title', short: 't', arg: 'string', group: 'app', help: 'Set window title', apply: (o, v) => (o.title = v as string) },
  { long: 'shared', short: 's', arg: 'none', group: 'app', help: 'Share client session', apply: (o) => (o.shared = true) },
  // --- GTK+ options: accepted, ignored ---
  { long: 'class', arg: 'string', group: 'gtk', help: 'Program class as used by the window manager', argDesc: 'CLASS', apply: (o, v, n) => o.ignored.push(`${n}=${v}`) },
  { long: 'name', arg: 'string', group: 'gtk', help: 'Program name as used by the window manager', argDesc: 'NAME', apply: (o, v, n) => o.ignored.push(`${n}=${v}`) },
  { long: 'display', arg: 'string', group: 'gtk', inMain: true, help: 'X display to use', argDesc: 'DISPLAY', apply: (o, v, n) => o.ignored.push(`${n}=${v}`) },
  { long: 'gtk-module', arg: 'string', group: 'gtk', help: 'Load additional GTK+ modules', argDesc: 'MODULES', apply: (o, v, n) => o.ignored.push(`${n}=${v}`) },
  { long: 'g-fatal-warnings', arg: 'none', group: 'gtk', help: 'Make all warnings fatal', apply: (o, _v, n) => o.ignored.push(n) },
  { long: 'gtk-vnc-debug', arg: 'none', group: 'gtk', hidden: true, apply: (o, _v, n) => o.ignored.push(n) },
  // --- spice-gtk options ---
  {
    long: 'spice-secure-channels', arg: 'string', group: 'spice', help: 'Force the specified channels to be secured', argDesc: '<main,display,inputs,...,all>',
    apply: (o, v) => {
      const names = (v as string).split(',');
      for (const n of names) {
        if (n !== 'all' && !(n in CHANNEL_NAMES)) throw new ConfigError(`invalid channel name (${n}), valid names: all, ${channelList}`);
      }
      o.spice.secureChannels = names;
    },
  },
  {
    long: 'spice-disable-effects', arg: 'string', group: 'spice', help: 'Disable guest display effects', argDesc: '<wallpaper,font-smooth,animation,all>',
    apply: (o, v) => {
      const names = (v as string).split(',');
      for (const n of names) {
        if (!(DISPLAY_EFFECTS as readonly string[]).includes(n)) throw new ConfigError(`invalid effect name (${n}), must be 'wallpaper', 'font-smooth', 'animation' or 'all'`);
      }
      o.spice.disableEffects = names as DisplayEffect[];
    },
  },
  { long: 'spice-color-depth', arg: 'string', group: 'spice', hidden: true, apply: (o) => o.warnings.push("--spice-color-depth is deprecated. Use guest's display settings instead") },
  { long: 'spice-ca-file', arg: 'string', group: 'spice', help: 'Truststore file for secure connections', argDesc: '<file>', apply: (o, v) => (o.spice.caFile = v as string) },
  { long: 'spice-host-subject', arg: 'string', group: 'spice', help: 'Subject of the host certificate (field=value pairs separated by commas)', argDesc: '<host-subject>', apply: (o, v) => (o.spice.hostSubject = v as string) },
  { long: 'spice-disable-audio', arg: 'none', group: 'spice', help: 'Disable audio support', apply: (o) => (o.spice.disableAudio = true) },
  { long: 'spice-smartcard', arg: 'none', group: 'spice', help: 'Enable smartcard support', apply: (o) => (o.spice.smartcard = true) },
  { long: 'spice-smartcard-certificates', arg: 'string', group: 'spice', help: 'Certificates to use for software smartcards (field=values separated by commas)', argDesc: '<certificates>', apply: (o, v) => (o.spice.smartcardCertificates = (v as string).split(',')) },
  { long: 'spice-smartcard-db', arg: 'string', group: 'spice', help: 'Path to the local certificate database to use for software smartcard certificates', argDesc: '<certificate-db>', apply: (o, v) => (o.spice.smartcardDb = v as string) },
  { long: 'spice-disable-usbredir', arg: 'none', group: 'spice', help: 'Disable USB redirection support', apply: (o) => (o.spice.disableUsbredir = true) },
  { long: 'spice-usbredir-auto-redirect-filter', arg: 'string', group: 'spice', help: 'Filter selecting USB devices to be auto-redirected when plugged in', argDesc: '<filter-string>', apply: (o, v) => (o.spice.usbredirAutoRedirectFilter = v as string) },
  { long: 'spice-usbredir-redirect-on-connect', arg: 'string', group: 'spice', help: 'Filter selecting USB devices to redirect on connect', argDesc: '<filter-string>', apply: (o, v) => (o.spice.usbredirRedirectOnConnect = v as string) },
  { long: 'spice-share-cd', arg: 'string', group: 'spice', help: 'Name of ISO file or CD/DVD device to share', argDesc: '<filename> (repeat allowed)', apply: (o, v) => o.spice.shareCd.push(v as string) },
  { long: 'spice-cache-size', arg: 'int', group: 'spice', help: 'Image cache size (deprecated)', argDesc: '<bytes>', apply: (o, v) => (o.spice.cacheSize = v as number) },
  { long: 'spice-glz-window-size', arg: 'int', group: 'spice', help: 'Glz compression history size (deprecated)', argDesc: '<bytes>', apply: (o, v) => (o.spice.glzWindowSize = v as number) },
  { long: 'spice-shared-dir', arg: 'string', group: 'spice', help: 'Shared directory', argDesc: '<dir>', apply: (o, v) => (o.spice.sharedDir = v as string) },
  // ours (spice-gtk's share-dir-ro property); hidden so --help stays remote-viewer's
  { long: 'spice-shared-dir-ro', arg: 'none', group: 'spice', hidden: true, help: 'Share the directory read-only', apply: (o) => (o.spice.sharedDirReadOnly = true) },
  {
    long: 'spice-preferred-compression', arg: 'string', group: 'spice', help: 'Preferred image compression algorithm', argDesc: '<auto-glz,auto-lz,quic,glz,lz,lz4,off>',
    apply: (o, v) => {
      if (!((v as string) in COMPRESSION_VALUES)) throw new ConfigError(`Image compression algorithm ${v} not supported`);
      o.spice.preferredCompression = v as CompressionName;
    },
  },
  {
    // not remote-viewer's: lets a user (and the tests) pick the stream codec the server uses
    long: 'spice-preferred-video-codec', arg: 'string', group: 'spice', hidden: true, help: 'Preferred video codecs, first preferred', argDesc: '<mjpeg,vp8,vp9,h264>',
    apply: (o, v) => {
      const names = (v as string).split(',').map((n) => n.trim().toLowerCase());
      for (const n of names) if (!(n in VIDEO_CODEC_VALUES)) throw new ConfigError(`Video codec ${n} not supported`);
      o.spice.preferredVideoCodecs = names as VideoCodecName[];
    },
  },
  { long: 'spice-debug', arg: 'none', group: 'spice', help: 'Enable Spice-GTK debugging', apply: (o) => (o.spice.debug = true) },
  { long: 'spice-gtk-version', arg: 'none', group: 'spice', help: 'Display Spice-GTK version information', apply: (o) => ((o as CliState).engineVersionRequested = true) },
];

interface CliState extends CliOptions {
  resizeText?: string;
  cursorText?: string;
  versionRequested?: boolean;
  engineVersionRequested?: boolean;
}

const GROUP_TITLES: Record<Group, string> = { gtk: 'GTK+ Options', spice: 'Spice Options:', app: 'Application Options:' };
const GROUP_HELP: Record<Exclude<Group, 'app'>, string> = { gtk: 'Show GTK+ Options', spice: 'Show Spice Options' };

function entryText(o: OptSpec): string {
  return (o.short ? `  -${o.short}, --${o.long}` : `  --${o.long}`) + (o.argDesc ? `=${o.argDesc}` : '');
}

/** GLib's help layout (g_option_context_get_help): one description column for all groups. */
export function helpText(kind: 'main' | 'all' | 'gtk' | 'spice', prog = 'remote-viewer'): string {
  const visible = OPTIONS.filter((o) => !o.hidden);
  let max = Math.max('-?, --help'.length, '--help-all'.length, ...(['gtk', 'spice'] as const).map((g) => `--help-${g}`.length));
  for (const o of visible) max = Math.max(max, o.long.length + (o.short ? 4 : 0) + (o.argDesc ? 1 + o.argDesc.length : 0));
  max += 4;
  const line = (left: string, desc: string): string => left + ' '.repeat(Math.max(0, max + 4 - left.length)) + ' ' + desc + '\n';
  let s = `Usage:\n  ${prog} [OPTION…] URI|VV-FILE\n\nRemote viewer client\n\n`;
  const group = (g: Group, includeInMain: boolean): string => {
    let t = GROUP_TITLES[g] + '\n';
    for (const o of visible) if (o.group === g && (includeInMain || !o.inMain)) t += line(entryText(o), o.help ?? '');
    return t + '\n';
  };
  if (kind === 'gtk' || kind === 'spice') return s + group(kind, true);
  s += 'Help Options:\n';
  s += line('  -h, --help', 'Show help options');
  s += line('  --help-all', 'Show all help options');
  s += line('  --help-gtk', GROUP_HELP.gtk);
  s += line('  --help-spice', GROUP_HELP.spice);
  s += '\n';
  if (kind === 'all') s += group('gtk', false) + group('spice', false);
  s += GROUP_TITLES.app + '\n';
  for (const o of visible) if (o.group === 'app') s += line(entryText(o), o.help ?? '');
  for (const o of visible) if (o.inMain) s += line(entryText(o), o.help ?? '');
  return s + '\n';
}

/** The second line remote-viewer prints after a command-line error. */
export function cliErrorHint(prog = 'remote-viewer'): string {
  return `Run '${prog} --help' to see a full list of available command line options`;
}

/** GLib parse_int: C strtol(base 0) over the whole text, int32 range. */
function parseCInt(text: string, name: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)$/.exec(text);
  if (!m) throw new ConfigError(`Cannot parse integer value “${text}” for ${name}`);
  const body = m[2];
  const mag = /^0[xX]/.test(body) ? BigInt(body) : body.length > 1 && body[0] === '0' ? BigInt('0o' + body.slice(1)) : BigInt(body);
  const n = m[1] === '-' ? -mag : mag;
  if (n > 0x7fffffffn || n < -0x80000000n) throw new ConfigError(`Integer value “${text}” for ${name} out of range`);
  return Number(n);
}

/** Positional argument: `-` is stdin, `scheme://` is a URI (file:// is a path), anything else a .vv path. */
export function classifyTarget(arg: string): CliTarget {
  if (arg === '-') return { kind: 'stdin' };
  const fileUri = /^file:\/\/(?:localhost)?(\/.*)$/i.exec(arg);
  if (fileUri) {
    let path = fileUri[1];
    try {
      path = decodeURIComponent(path);
    } catch {}
    return { kind: 'file', path };
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(arg)) return { kind: 'uri', uri: arg };
  return { kind: 'file', path: arg };
}

function newOptions(): CliState {
  return {
    fullscreen: false,
    zoom: NORMAL_ZOOM,
    autoResize: true,
    kiosk: false,
    kioskQuit: 'never',
    verbose: false,
    debug: false,
    shared: false,
    spice: { disableAudio: false, smartcard: false, disableUsbredir: false, shareCd: [], sharedDirReadOnly: false, debug: false },
    ignored: [],
    warnings: [],
  };
}

/**
 * Parses argv (without the program name). Returns the options, or the text to
 * print for --help / --version. Throws ConfigError with remote-viewer's
 * message ("Unknown option --foo"); print cliErrorHint() after it.
 */
export function parseCommandLine(argv: readonly string[], ctx: CliContext = {}): CliResult {
  const prog = ctx.prog ?? 'remote-viewer';
  const o = newOptions();
  const positional: string[] = [];
  const byLong = new Map(OPTIONS.map((s) => [s.long, s]));
  const byShort = new Map(OPTIONS.filter((s) => s.short).map((s) => [s.short!, s]));
  const HELP: Record<string, 'main' | 'all' | 'gtk' | 'spice'> = { help: 'main', 'help-all': 'all', 'help-gtk': 'gtk', 'help-spice': 'spice' };

  const run = (spec: OptSpec, value: string | null, name: string): void => {
    if (spec.long === 'version') o.versionRequested = true;
    const v = spec.arg === 'int' ? parseCInt(value!, name) : spec.arg === 'string' ? value : null;
    spec.apply(o, v, name);
  };

  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const long = eq < 0 ? a.slice(2) : a.slice(2, eq);
      if (long in HELP) return { help: helpText(HELP[long], prog) };
      const spec = byLong.get(long);
      if (!spec) throw new ConfigError(`Unknown option ${a}`);
      const name = `--${long}`;
      let value: string | null = null;
      if (spec.arg !== 'none') {
        if (eq >= 0) value = a.slice(eq + 1);
        else if (i + 1 < argv.length) value = argv[++i];
        else throw new ConfigError(`Missing argument for ${name}`);
      }
      run(spec, value, name);
    } else if (a.startsWith('-') && a !== '-') {
      if (a === '-h' || a === '-?') return { help: helpText('main', prog) };
      let consumed = false;
      let unknown = false;
      for (const c of a.slice(1)) {
        const spec = byShort.get(c);
        if (!spec) {
          if (c === 'h' || c === '?') return { help: helpText('main', prog) };
          unknown = true;
          continue;
        }
        const name = `-${c}`;
        let value: string | null = null;
        if (spec.arg !== 'none') {
          if (consumed) throw new ConfigError(`Error parsing option ${name}`);
          if (i + 1 >= argv.length) throw new ConfigError(`Missing argument for ${name}`);
          value = argv[++i];
          consumed = true;
        }
        run(spec, value, name);
      }
      if (unknown) throw new ConfigError(`Unknown option ${a}`);
    } else positional.push(a);
  }

  if (o.engineVersionRequested) return { version: ctx.engineVersion ?? `${prog} SPICE engine (TypeScript; no spice-gtk)` };
  if (o.versionRequested) return { version: ctx.version ?? `${prog} version 11.0` };
  if (o.cursorText !== undefined) {
    if (o.cursorText !== 'auto' && o.cursorText !== 'local') throw new ConfigError(`unknown value '${o.cursorText}' for --cursor`);
    o.cursor = o.cursorText;
  }
  if (o.resizeText !== undefined) {
    if (o.resizeText !== 'always' && o.resizeText !== 'never') throw new ConfigError("--auto-resize expects 'always' or 'never'");
    o.autoResize = o.resizeText === 'always';
  }
  if (positional.length > 1) throw new ConfigError("Error: can't handle multiple URIs");
  if (o.zoom < MIN_ZOOM || o.zoom > MAX_ZOOM) {
    o.warnings.push(`Zoom level must be within ${MIN_ZOOM}-${MAX_ZOOM}`);
    o.zoom = NORMAL_ZOOM;
  }
  if (positional.length === 1) o.target = classifyTarget(positional[0]);

  const { resizeText: _r, cursorText: _c, versionRequested: _v, engineVersionRequested: _e, ...out } = o;
  return out;
}

export function isHelp(r: CliResult): r is { help: string } {
  return 'help' in r;
}

export function isVersion(r: CliResult): r is { version: string } {
  return 'version' in r;
}
