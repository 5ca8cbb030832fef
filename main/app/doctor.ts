// Connection doctor: turns a SpiceError (code + message + link error) into the
// step that failed — parse, DNS, proxy, TCP, TLS, authentication, channel —
// in plain words, and builds the "Copy report" text. Also names why a kiosk
// session dropped. Pure functions: the same table drives the page and tests.
import type { Diagnosis, DoctorStep } from '../../preload/contract';
import type { DropReason } from './reconnect';

export type { DoctorStep };

export const STEP_TEXT: Readonly<Record<DoctorStep, string>> = {
  parse: 'Reading the address / connection file',
  dns: 'Looking up the host name (DNS)',
  proxy: 'Going through the HTTP proxy',
  tcp: 'Opening the network connection (TCP)',
  tls: 'Securing the connection (TLS)',
  auth: 'Authentication (password)',
  channel: 'SPICE handshake (channel link)',
  session: 'Running session',
};

/** The parts of a SpiceError the doctor reads (works on plain objects from the bridge too). */
export interface ErrorLike {
  code?: string;
  message: string;
  linkError?: number;
}

// spice-protocol SpiceLinkErr values (protocol.h)
const LINK_ERR_TEXT: Record<number, string> = {
  1: 'the server refused the link (generic error)',
  2: 'the server says our link message has a bad magic',
  3: 'the server says our link message is invalid',
  4: 'the server speaks another SPICE protocol version',
  5: 'the server requires TLS for this channel',
  6: 'the server refuses TLS for this channel',
  7: 'permission denied (wrong or expired password / ticket)',
  8: 'the server does not know our session (bad connection id)',
  9: 'the server does not offer this channel',
};
const NEED_SECURED = 5;
const PERMISSION_DENIED = 7;

const DNS_RE = /\b(ENOTFOUND|EAI_AGAIN|EAI_NONAME|EAI_FAIL|getaddrinfo)\b/;
const PROXY_RE = /\bproxy\b|\b407\b/i;
const TLS_RE = /\b(TLS|SSL|certificate|CERT_|self[- ]signed|UNABLE_TO_VERIFY|ERR_TLS|handshake|host[- ]subject|altnames|issuer)\b/i;
const TCP_RE = /\b(ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ECONNRESET|EPIPE|ECONNABORTED|EADDRNOTAVAIL)\b|cannot connect|cannot open|timed out/i;
const REFUSED_RE = /\bECONNREFUSED\b/;

function sentence(s: string): string {
  const t = s.trim();
  return t ? t[0].toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? '' : '.') : t;
}

/** Which step a failed connect stopped at, from the error alone. */
export function failedStep(e: ErrorLike, wasConnected = false): DoctorStep {
  const code = e.code ?? '';
  const msg = e.message ?? '';
  if (code === 'CONFIG') {
    if (e.linkError === NEED_SECURED || /^TLS:/.test(msg)) return 'tls';
    if (PROXY_RE.test(msg) && !/^(line \d+|Invalid file)/.test(msg)) return 'proxy';
    return 'parse';
  }
  // the proxy's 407 (ProxyAuthRequired) is AUTH_FAILED without a link error
  if (/^proxy\b/i.test(msg) && e.linkError === undefined) return 'proxy';
  if (code === 'AUTH_FAILED') return 'auth';
  if (code === 'LINK_ERROR') {
    if (e.linkError === PERMISSION_DENIED) return 'auth';
    if (e.linkError === NEED_SECURED || e.linkError === 6) return 'tls';
    return 'channel';
  }
  if (code === 'BAD_MAGIC' || code === 'BAD_VERSION' || code === 'BAD_LINK_REPLY') return 'channel';
  if (code === 'TRANSPORT' || code === 'TIMEOUT' || code === 'CLOSED' || code === '') {
    if (PROXY_RE.test(msg)) return 'proxy';
    if (DNS_RE.test(msg)) return 'dns';
    if (/\(TLS port\)/.test(msg) && TCP_RE.test(msg)) return 'tcp'; // nothing listens on the TLS port
    if (TLS_RE.test(msg)) return 'tls';
    if (code === 'TIMEOUT' && /link reply/i.test(msg)) return 'channel';
    if (code === 'CLOSED' && /during|link/i.test(msg)) return 'channel';
    if (wasConnected) return 'session';
    if (TCP_RE.test(msg) || code === 'TRANSPORT') return 'tcp';
    return code === 'CLOSED' ? 'channel' : 'tcp';
  }
  return wasConnected ? 'session' : 'channel';
}

function summaryFor(step: DoctorStep, e: ErrorLike): { summary: string; hint: string } {
  const msg = e.message ?? '';
  switch (step) {
    case 'parse':
      return { summary: sentence(`the connection settings could not be used: ${msg}`), hint: 'Check the spice:// address or the .vv file (remote-viewer syntax).' };
    case 'dns':
      return { summary: 'The host name could not be resolved.', hint: 'Check the spelling of the host, your DNS server, or use an IP address.' };
    case 'proxy':
      // a broker's proxy (Proxmox spiceproxy) refusing the ticket in the host: the file is stale, not the proxy wrong
      if (/\b401\b/.test(msg) && /ticket/i.test(msg)) return { summary: sentence(msg), hint: 'Download a fresh connection file from the broker (Proxmox: Console → SPICE) and open it at once: its ticket is valid for about 40 seconds.' };
      return /407/.test(msg)
        ? { summary: 'The proxy wants a user name and password.', hint: 'Put them in the proxy URL: http://user:password@proxy:3128.' }
        : { summary: sentence(`the HTTP proxy could not open the tunnel: ${msg}`), hint: 'Check the proxy address (proxy= in the .vv, or SPICE_PROXY) and that it allows CONNECT to the SPICE port.' };
    case 'tcp':
      if (REFUSED_RE.test(msg)) return { summary: 'Nothing accepts connections on that port: the VM is stopped, or the SPICE port is different.', hint: 'Start the VM, check its -spice port= setting and any firewall.' };
      if (/ETIMEDOUT|timed out/i.test(msg)) return { summary: 'The host did not answer in time.', hint: 'Check the network path and firewalls between here and the host.' };
      if (/EHOSTUNREACH|ENETUNREACH/.test(msg)) return { summary: 'The host cannot be reached on this network.', hint: 'Check the address, routing and VPN.' };
      return { summary: sentence(`the network connection failed: ${msg}`), hint: 'Check the host, port and firewalls.' };
    case 'tls':
      if (e.linkError === NEED_SECURED || /needs TLS/i.test(msg)) return { summary: 'The server requires TLS, but no TLS port is configured.', hint: 'Use tls-port= (or spice+tls://) and the CA of the server.' };
      if (/subject/i.test(msg)) return { summary: "The server's certificate does not match the expected subject.", hint: 'Check host-subject= / --spice-host-subject.' };
      return { summary: sentence(`the secure (TLS) connection failed: ${msg}`), hint: 'Check the CA (ca= / --spice-ca-file), the certificate host name and the TLS port.' };
    case 'auth':
      return { summary: 'The server rejected the password (or the ticket expired).', hint: 'Check the password; tickets from Proxmox/oVirt .vv files are valid only for a short time.' };
    case 'channel': {
      if (e.code === 'BAD_MAGIC') return { summary: 'Something answered, but it is not a SPICE server.', hint: 'Check the port: it may belong to VNC, HTTP or another service.' };
      if (e.code === 'BAD_VERSION') return { summary: sentence(msg), hint: 'The server is too old or too new for this client.' };
      if (e.linkError !== undefined && LINK_ERR_TEXT[e.linkError]) return { summary: sentence(`the SPICE link was refused: ${LINK_ERR_TEXT[e.linkError]}`), hint: 'See the error details below.' };
      return { summary: sentence(`the SPICE handshake failed: ${msg}`), hint: 'The server closed or stalled the link; see the error details below.' };
    }
    case 'session':
      return { summary: sentence(`the session ended: ${msg}`), hint: 'See the error details below.' };
  }
}

export interface ReportContext {
  /** How the target is shown (no password). */
  target: string;
  appVersion: string;
  startedAt?: number;
  failedAt: number;
  channels?: string[];
  linkFailures?: { name: string; message: string }[];
  /** Strings that must never appear in the report (password). */
  secrets?: string[];
  extra?: string[];
  wasConnected?: boolean;
}

/** Replaces every secret (and any password= query value) by "***". */
export function redact(text: string, secrets: readonly string[] = []): string {
  // the value ends where the query part does, or at the quote around a URI in a message
  let out = text.replace(/([?&;]password=)[^&;\s"'”]*/gi, '$1***');
  for (const s of secrets) if (s) out = out.split(s).join('***');
  return out;
}

export function diagnose(e: ErrorLike, ctx: ReportContext): Diagnosis {
  const step = failedStep(e, ctx.wasConnected);
  const { summary, hint } = summaryFor(step, e);
  const iso = (t: number | undefined): string => (t === undefined ? '-' : new Date(t).toISOString());
  const lines = [
    'SPICE viewer connection report',
    `App: spice-viewer ${ctx.appVersion}`,
    `Target: ${ctx.target}`,
    `Failed step: ${step} (${STEP_TEXT[step]})`,
    `Summary: ${summary}`,
    `Error: ${e.code ?? 'ERROR'}${e.linkError !== undefined ? ` (link error ${e.linkError})` : ''}: ${e.message}`,
    `Started: ${iso(ctx.startedAt)}`,
    `Failed: ${iso(ctx.failedAt)}${ctx.startedAt !== undefined ? ` (+${ctx.failedAt - ctx.startedAt} ms)` : ''}`,
    `Channels linked: ${ctx.channels?.length ? ctx.channels.join(', ') : 'none'}`,
  ];
  if (ctx.linkFailures?.length) lines.push(`Channels not linked: ${ctx.linkFailures.map((f) => `${f.name} (${f.message})`).join('; ')}`);
  if (ctx.extra) lines.push(...ctx.extra);
  const secrets = ctx.secrets ?? [];
  return {
    step,
    stepText: STEP_TEXT[step],
    summary: redact(summary, secrets),
    hint,
    report: redact(lines.join('\n') + '\n', secrets),
  };
}

export interface DropContext {
  /** The session had been up (vs. an attempt that failed). */
  wasConnected: boolean;
  /**
   * After the server closed us: could a plain TCP connection still be opened
   * to the SPICE port (probe without linking)? undefined = not probed.
   */
  serverReachable?: boolean;
}

export const DROP_TEXT: Readonly<Record<DropReason, string>> = {
  network: 'The network connection to the VM was lost.',
  'server-closed': 'The SPICE server closed the connection.',
  'vm-stopped': 'The virtual machine is not running (its SPICE server is gone).',
  'taken-over': 'Another viewer connected to this VM and took the console over (a SPICE server serves one client).',
  auth: 'The server rejected the password.',
  config: 'The connection settings cannot be used.',
  protocol: 'The connection failed because of a protocol error.',
};

/**
 * Why a kiosk session dropped. spice-server sends nothing before closing an
 * old client when a new one links (no NOTIFY, no DISCONNECTING): every socket
 * just closes. QEMU quitting closes them the same way. What tells them apart
 * is whether the port still accepts a TCP connection right afterwards.
 */
export function classifyDrop(e: ErrorLike, ctx: DropContext): DropReason {
  const code = e.code ?? '';
  const step = failedStep(e);
  if (step === 'auth') return 'auth';
  if (code === 'CONFIG' || step === 'tls') return 'config'; // a certificate problem does not heal by retrying fast
  if (code === 'CLOSED' && ctx.wasConnected) {
    if (ctx.serverReachable === true) return 'taken-over';
    if (ctx.serverReachable === false) return 'vm-stopped';
    return 'server-closed';
  }
  if (REFUSED_RE.test(e.message)) return 'vm-stopped';
  if (code === 'TRANSPORT' || code === 'TIMEOUT' || code === 'CLOSED') return 'network';
  if (step === 'dns' || step === 'tcp' || step === 'proxy') return 'network';
  return 'protocol';
}
