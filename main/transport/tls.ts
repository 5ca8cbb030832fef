// TLS transport (node:tls over TCP or over a proxy tunnel) with spice-gtk's
// peer checks (spice-common common/ssl_verify.c): the chain must verify
// against the given CA (else the system CAs); then, when a host-subject is
// given, the certificate subject must equal it (X509_NAME_cmp: same
// attributes in the same order, values compared case-insensitively with
// whitespace normalised) INSTEAD of a hostname check; otherwise the host must
// match a subjectAltName DNS (wildcards) or IP entry, or — only when the
// certificate has no DNS/IP altnames — one of its CNs.
import net from 'node:net';
import tls from 'node:tls';
import type { Dial, TlsOptions, Transport } from '../spice/transport';
import { SpiceError } from '../spice/wire/errors';
import { openProxyTunnel, type ProxyHopOptions } from './proxy';
import { hostPort, socketTransport } from './tcp';

const TLS_TIMEOUT_MS = 10_000;

// ---------------------------------------------------------------- DER reading

interface Tlv {
  tag: number;
  /** content start/end */
  start: number;
  end: number;
}

function tlv(buf: Uint8Array, pos: number, limit: number): Tlv {
  if (pos + 2 > limit) throw new SpiceError('BAD_MESSAGE', 'certificate: truncated DER');
  const tag = buf[pos];
  let len = buf[pos + 1];
  let start = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > limit) throw new SpiceError('BAD_MESSAGE', 'certificate: bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i];
    start += n;
  }
  if (start + len > limit) throw new SpiceError('BAD_MESSAGE', 'certificate: DER element overruns its container');
  return { tag, start, end: start + len };
}

function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = parent.start; p < parent.end; ) {
    const c = tlv(buf, p, parent.end);
    out.push(c);
    p = c.end;
  }
  return out;
}

function oidText(b: Uint8Array): string {
  const ids: number[] = [];
  let v = 0;
  for (const byte of b) {
    v = v * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      ids.push(v);
      v = 0;
    }
  }
  if (!ids.length) return '';
  const first = ids[0] < 40 ? 0 : ids[0] < 80 ? 1 : 2;
  return [first, ids[0] - 40 * first, ...ids.slice(1)].join('.');
}

/** One attribute of a distinguished name. */
interface NameAttribute {
  oid: string;
  /** ASN.1 string tag (UTF8String 12, PrintableString 19, …). */
  tag: number;
  /** Decoded text (undefined for a non-string type). */
  text?: string;
  raw: Uint8Array;
}

interface CertNames {
  /** Subject RDNs in certificate order; each RDN is a set of attributes. */
  subject: NameAttribute[][];
  dns: string[];
  /** IP subjectAltNames as raw 4/16-byte addresses. */
  ips: Uint8Array[];
}

const STRING_TAGS = new Set([12, 19, 20, 22, 26, 28, 30]);

function decodeString(tag: number, b: Uint8Array): string | undefined {
  switch (tag) {
    case 12:
      return Buffer.from(b).toString('utf8');
    case 19: case 20: case 22: case 26: // Printable, T61 (as Latin-1, like OpenSSL), IA5, Visible
      return Buffer.from(b).toString('latin1');
    case 30: { // BMPString, UCS-2 BE
      let s = '';
      for (let i = 0; i + 1 < b.length; i += 2) s += String.fromCharCode((b[i] << 8) | b[i + 1]);
      return s;
    }
    case 28: { // UniversalString, UCS-4 BE
      let s = '';
      for (let i = 0; i + 3 < b.length; i += 4) s += String.fromCodePoint(((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0);
      return s;
    }
    default:
      return undefined;
  }
}

/** Subject and subjectAltNames (DNS, IP) of a DER certificate. */
function certNames(der: Uint8Array): CertNames {
  const cert = tlv(der, 0, der.length);
  const tbs = tlv(der, cert.start, cert.end);
  const items = children(der, tbs);
  let i = items[0]?.tag === 0xa0 ? 1 : 0; // [0] version
  i += 4; // serial, signature algorithm, issuer, validity
  const subjectTlv = items[i];
  if (!subjectTlv || subjectTlv.tag !== 0x30) throw new SpiceError('BAD_MESSAGE', 'certificate: no subject');
  const subject = children(der, subjectTlv).map((rdn) =>
    children(der, rdn).map((ava) => {
      const [oid, value] = children(der, ava);
      const raw = der.subarray(value.start, value.end);
      const a: NameAttribute = { oid: oidText(der.subarray(oid.start, oid.end)), tag: value.tag, raw };
      const text = decodeString(value.tag, raw);
      if (text !== undefined) a.text = text;
      return a;
    }),
  );
  const dns: string[] = [];
  const ips: Uint8Array[] = [];
  for (const it of items.slice(i + 1)) {
    if (it.tag !== 0xa3) continue; // [3] extensions
    for (const ext of children(der, tlv(der, it.start, it.end))) {
      const parts = children(der, ext);
      if (oidText(der.subarray(parts[0].start, parts[0].end)) !== '2.5.29.17') continue;
      const octets = parts[parts.length - 1];
      for (const gn of children(der, tlv(der, octets.start, octets.end))) {
        if (gn.tag === 0x82) dns.push(Buffer.from(der.subarray(gn.start, gn.end)).toString('latin1'));
        else if (gn.tag === 0x87) ips.push(der.subarray(gn.start, gn.end));
      }
    }
  }
  return { subject, dns, ips };
}

// ------------------------------------------------------------- host-subject

interface AttrType {
  sn: string;
  ln: string;
  oid: string;
  min?: number;
  max?: number;
  /** PrintableString only / IA5 (ASCII) only, as OpenSSL's string table has it. */
  charset?: 'printable' | 'ascii';
}

// OpenSSL short/long names (OBJ_txt2obj is case-sensitive) and its a_strnid.c size limits.
const ATTR_TYPES: AttrType[] = [
  { sn: 'C', ln: 'countryName', oid: '2.5.4.6', min: 2, max: 2, charset: 'printable' },
  { sn: 'ST', ln: 'stateOrProvinceName', oid: '2.5.4.8', max: 128 },
  { sn: 'L', ln: 'localityName', oid: '2.5.4.7', max: 128 },
  { sn: 'O', ln: 'organizationName', oid: '2.5.4.10', max: 64 },
  { sn: 'OU', ln: 'organizationalUnitName', oid: '2.5.4.11', max: 64 },
  { sn: 'CN', ln: 'commonName', oid: '2.5.4.3', max: 64 },
  { sn: 'emailAddress', ln: 'emailAddress', oid: '1.2.840.113549.1.9.1', max: 128, charset: 'ascii' },
  { sn: 'serialNumber', ln: 'serialNumber', oid: '2.5.4.5', max: 64, charset: 'printable' },
  { sn: 'street', ln: 'streetAddress', oid: '2.5.4.9' },
  { sn: 'title', ln: 'title', oid: '2.5.4.12' },
  { sn: 'description', ln: 'description', oid: '2.5.4.13' },
  { sn: 'postalCode', ln: 'postalCode', oid: '2.5.4.17' },
  { sn: 'SN', ln: 'surname', oid: '2.5.4.4' },
  { sn: 'GN', ln: 'givenName', oid: '2.5.4.42' },
  { sn: 'initials', ln: 'initials', oid: '2.5.4.43' },
  { sn: 'generationQualifier', ln: 'generationQualifier', oid: '2.5.4.44' },
  { sn: 'name', ln: 'name', oid: '2.5.4.41' },
  { sn: 'dnQualifier', ln: 'dnQualifier', oid: '2.5.4.46', charset: 'printable' },
  { sn: 'pseudonym', ln: 'pseudonym', oid: '2.5.4.65' },
  { sn: 'DC', ln: 'domainComponent', oid: '0.9.2342.19200300.100.1.25', charset: 'ascii' },
  { sn: 'UID', ln: 'userId', oid: '0.9.2342.19200300.100.1.1' },
];

interface SubjectEntry {
  key: string;
  oid: string;
  value: string;
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/**
 * Parses a host-subject the way spice-common's subject_to_x509_name does:
 * `key=value` entries split on `,`; `\,` and `\\` are the only escapes;
 * spaces before a key are skipped, everything else (spaces in and around
 * values, case) is kept; keys are OpenSSL short or long names (case
 * matters) or dotted OIDs. Throws SpiceError CONFIG with the reason.
 */
export function parseHostSubject(subject: string): SubjectEntry[] {
  const bad = (why: string): never => {
    throw new SpiceError('CONFIG', `TLS: host-subject '${subject}' is invalid: ${why}`);
  };
  const out: SubjectEntry[] = [];
  let key = '';
  let value = '';
  let inValue = false;
  for (let i = 0; ; i++) {
    let c: string | undefined = subject[i];
    let escaped = false;
    if (c === '\\') {
      c = subject[++i];
      if (c !== '\\' && c !== ',') bad(`only \\\\ and \\, may follow a backslash (position ${i})`);
      escaped = true;
    }
    if (!inValue) {
      if (c === ' ' && key === '') continue;
      if (c === undefined) {
        if (key === '') return out;
        return bad(`'${key}' has no '=value'`);
      }
      if (c === ',' && !escaped) bad(`an entry before position ${i} has no '=value'`);
      if (c === '=' && !escaped) {
        inValue = true;
        value = '';
      } else key += c;
      continue;
    }
    if (c === undefined || (c === ',' && !escaped)) {
      if (value === '') bad(`'${key}' has an empty value`);
      out.push(subjectEntry(key, value, bad));
      if (c === undefined) return out;
      inValue = false;
      key = '';
    } else value += c;
  }
}

function subjectEntry(key: string, value: string, bad: (why: string) => never): SubjectEntry {
  let oid: string;
  const t = ATTR_TYPES.find((a) => a.sn === key || a.ln === key);
  if (t) oid = t.oid;
  else if (/^\d+(\.\d+)+$/.test(key)) oid = key;
  else return bad(`unknown attribute '${key}' (names are case-sensitive: C, ST, L, O, OU, CN, emailAddress, …)`);
  const n = [...value].length;
  if (t?.min !== undefined && n < t.min) bad(`${key} must have at least ${t.min} characters`);
  if (t?.max !== undefined && n > t.max) bad(`${key} must have at most ${t.max} characters`);
  if (t?.charset === 'printable' && !PRINTABLE.test(value)) bad(`${key} allows only PrintableString characters`);
  if (t?.charset === 'ascii' && !/^[\x00-\x7f]*$/.test(value)) bad(`${key} allows only ASCII`);
  return { key, oid, value };
}

/** OpenSSL's canonical form of a name value (x_name.c asn1_string_canon). */
function canon(s: string): string {
  return s
    .replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, '')
    .replace(/[ \t\n\v\f\r]+/g, ' ')
    .replace(/[A-Z]/g, (c) => c.toLowerCase());
}

const escapeValue = (v: string): string => v.replace(/[\\,]/g, (c) => `\\${c}`);

/** "C=IL,L=Raanana,O=Red Hat,CN=my server" (multi-valued RDNs joined with '+'). */
function formatSubject(subject: NameAttribute[][]): string {
  return subject
    .map((rdn) =>
      rdn.map((a) => `${ATTR_TYPES.find((t) => t.oid === a.oid)?.sn ?? a.oid}=${a.text !== undefined ? escapeValue(a.text) : `#${Buffer.from(a.raw).toString('hex')}`}`).join('+'),
    )
    .join(',');
}

/** X509_NAME_cmp of the certificate subject with the parsed host-subject. */
function subjectMatches(subject: NameAttribute[][], expected: SubjectEntry[]): boolean {
  if (subject.length !== expected.length) return false;
  return subject.every((rdn, i) => {
    if (rdn.length !== 1) return false;
    const a = rdn[0];
    const e = expected[i];
    return a.oid === e.oid && STRING_TAGS.has(a.tag) && a.text !== undefined && canon(a.text) === canon(e.value);
  });
}

// ----------------------------------------------------------------- hostname

const upper = (c: string): string => (c >= 'a' && c <= 'z' ? c.toUpperCase() : c);

/**
 * spice-common's _gnutls_hostname_compare: ASCII case-insensitive; `*`
 * matches any run (possibly empty) within one label; several wildcards allowed.
 */
export function hostnameMatches(certName: string, hostname: string): boolean {
  let i = 0;
  let j = 0;
  while (i < certName.length && certName[i] !== '\0' && j < hostname.length && upper(certName[i]) === upper(hostname[j])) {
    i++;
    j++;
  }
  if (i === certName.length && j === hostname.length) return true;
  if (certName[i] !== '*') return false;
  const rest = certName.slice(i + 1);
  for (;;) {
    if (hostnameMatches(rest, hostname.slice(j))) return true;
    if (j >= hostname.length || hostname[j] === '.') return false;
    j++;
  }
}

/** Address bytes of an IPv4/IPv6 literal; null when host is not one. */
function ipBytes(host: string): Uint8Array | null {
  const kind = net.isIP(host);
  if (kind === 4) return Uint8Array.from(host.split('.').map(Number));
  if (kind !== 6) return null;
  let text = host.replace(/%.*$/, '');
  const groups: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = v4[1].split('.').map(Number);
    text = text.slice(0, -v4[1].length) + `${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  for (const g of [...h, ...Array<string>(fill).fill('0'), ...t]) groups.push(parseInt(g, 16));
  const out = new Uint8Array(16);
  groups.forEach((g, k) => {
    out[2 * k] = g >> 8;
    out[2 * k + 1] = g & 255;
  });
  return out;
}

function ipText(b: Uint8Array): string {
  if (b.length === 4) return [...b].join('.');
  if (b.length !== 16) return Buffer.from(b).toString('hex');
  const g: string[] = [];
  for (let k = 0; k < 16; k += 2) g.push(((b[k] << 8) | b[k + 1]).toString(16));
  return g.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/** null when host matches the certificate the way spice-common's verify_hostname does, else the names it has. */
function hostnameMismatch(names: CertNames, host: string): string[] | null {
  if (names.dns.length || names.ips.length) {
    if (names.dns.some((d) => hostnameMatches(d, host))) return null;
    const ip = ipBytes(host);
    if (ip && names.ips.some((a) => a.length === ip.length && a.every((v, k) => v === ip[k]))) return null;
    return [...names.dns.map((d) => `DNS:${d}`), ...names.ips.map((a) => `IP:${ipText(a)}`)];
  }
  const cns = names.subject.flat().filter((a) => a.oid === '2.5.4.3' && a.text !== undefined).map((a) => a.text!);
  if (cns.some((cn) => hostnameMatches(cn, host))) return null;
  return cns.map((cn) => `CN:${cn}`);
}

/**
 * Node TLS options with spice-gtk's peer check for host: CA (else system CAs),
 * ciphers, SNI for a name (not an address, as spice-gtk), and, once the chain
 * verified, the host-subject (parsed here, once per dial; a bad one throws
 * CONFIG before any socket) or else the hostname. Used by TLS and wss.
 */
export function peerCheckOptions(host: string, o: TlsOptions = {}): tls.ConnectionOptions {
  const expected = o.hostSubject !== undefined ? parseHostSubject(o.hostSubject) : undefined;
  const check = (der: Uint8Array): SpiceError | undefined => {
    let names: CertNames;
    try {
      names = certNames(der);
    } catch (e) {
      return new SpiceError('TRANSPORT', `TLS: cannot read the server certificate: ${(e as Error).message}`);
    }
    if (expected) {
      if (subjectMatches(names.subject, expected)) return undefined;
      return new SpiceError('TRANSPORT', `TLS: certificate subject '${formatSubject(names.subject)}' does not match host-subject '${o.hostSubject}'`);
    }
    const miss = hostnameMismatch(names, host);
    if (!miss) return undefined;
    return new SpiceError('TRANSPORT', `TLS: hostname ${host} does not match certificate names [${miss.join(', ')}]`);
  };
  const options: tls.ConnectionOptions = {
    rejectUnauthorized: true,
    // runs only when the chain verified (node skips it on a chain error)
    checkServerIdentity: (_name, cert) => check(cert.raw),
  };
  if (o.ca) options.ca = o.ca;
  if (o.ciphers) options.ciphers = o.ciphers;
  if (!net.isIP(host)) options.servername = host;
  return options;
}

// ---------------------------------------------------------------- transport

const UNKNOWN_CA = new Set([
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

/** A SpiceError naming the TLS failure (unknown CA, expired, peer check, handshake, connect). */
export function tlsError(e: Error | undefined, where: string, handshakeStarted: boolean): SpiceError {
  if (e instanceof SpiceError) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code ?? '';
  const msg = e?.message ?? 'connection closed';
  if (UNKNOWN_CA.has(code)) {
    return new SpiceError('TRANSPORT', `TLS: certificate of ${where} is signed by an unknown CA (${msg}); give its CA with ca= / --spice-ca-file`);
  }
  if (code === 'CERT_HAS_EXPIRED') return new SpiceError('TRANSPORT', `TLS: certificate of ${where} has expired`);
  if (code === 'CERT_NOT_YET_VALID') return new SpiceError('TRANSPORT', `TLS: certificate of ${where} is not yet valid`);
  if (/^(CERT_|ERR_TLS_CERT)/.test(code)) return new SpiceError('TRANSPORT', `TLS: certificate of ${where} rejected: ${msg} (${code})`);
  if (handshakeStarted || /^ERR_SSL_|^ERR_TLS_/.test(code)) return new SpiceError('TRANSPORT', `TLS: handshake with ${where} failed: ${msg}`);
  return new SpiceError('TRANSPORT', `cannot connect to ${where} (TLS port): ${msg}`);
}

/** Connects with TLS to dial.host:dial.port (directly or through dial.proxy) and checks the peer. */
export async function connectTls(dial: Dial, opts: ProxyHopOptions = {}): Promise<Transport> {
  const host = dial.host;
  const where = hostPort(host, dial.port);
  const o = dial.tls ?? {};
  const options = peerCheckOptions(host, o);
  let description = `tls ${where}`;
  if (dial.proxy) {
    options.socket = await openProxyTunnel(dial.proxy, host, dial.port, opts);
    description += ` via proxy ${hostPort(dial.proxy.host, dial.proxy.port)}`;
  } else {
    options.host = host;
    options.port = dial.port;
  }
  const tunnel = options.socket;
  const timeoutMs = opts.timeoutMs ?? TLS_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    let sock: tls.TLSSocket;
    try {
      sock = tls.connect(options);
    } catch (e) {
      tunnel?.destroy();
      reject(new SpiceError('CONFIG', `TLS: ${o.ciphers ? `tls-ciphers '${o.ciphers}': ` : ''}${(e as Error).message}`));
      return;
    }
    let tcpUp = !!tunnel;
    let done = false;
    let lastErr: Error | undefined;
    const timer = setTimeout(() => sock.destroy(new SpiceError('TIMEOUT', `TLS: no handshake with ${where} within ${timeoutMs} ms`)), timeoutMs);
    sock.once('connect', () => {
      tcpUp = true;
      sock.setNoDelay(true);
    });
    const onError = (e: Error): void => {
      lastErr = e;
    };
    const onClose = (): void => {
      clearTimeout(timer);
      if (done) return;
      done = true;
      reject(tlsError(lastErr, where, tcpUp));
    };
    sock.on('error', onError);
    sock.once('close', onClose);
    sock.once('secureConnect', () => {
      clearTimeout(timer);
      if (done) return;
      done = true;
      sock.off('close', onClose);
      const t = socketTransport(sock, description);
      sock.off('error', onError);
      resolve(t);
    });
  });
}
