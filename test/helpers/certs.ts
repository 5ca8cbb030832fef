// Test PKI made with the openssl CLI at test time (nothing checked in): a CA,
// server certificates signed by it with a chosen subject and subjectAltNames,
// and QEMU's x509-dir layout (ca-cert.pem, server-cert.pem, server-key.pem).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TestCa {
  dir: string;
  certPath: string;
  keyPath: string;
  /** PEM text of the CA certificate. */
  pem: string;
}

export interface ServerCert {
  certPath: string;
  keyPath: string;
  certPem: string;
  keyPem: string;
  /** Subject as given, openssl form ("/C=IL/L=Raanana/O=Red Hat/CN=my server"). */
  subject: string;
}

function openssl(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`openssl ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** A fresh temp directory for one test file's certificates. */
export function certDir(prefix = 'spice-certs-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A self-signed CA (basicConstraints CA:TRUE) in dir/<name>-cert.pem / -key.pem. */
export async function makeCa(dir: string, name = 'ca', subject = '/C=IL/O=Spice Viewer Tests/CN=Test CA'): Promise<TestCa> {
  const certPath = path.join(dir, `${name}-cert.pem`);
  const keyPath = path.join(dir, `${name}-key.pem`);
  await openssl([
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2',
    '-keyout', keyPath, '-out', certPath, '-subj', subject,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ], dir);
  return { dir, certPath, keyPath, pem: fs.readFileSync(certPath, 'utf8') };
}

/**
 * A server certificate signed by ca. san: openssl subjectAltName items
 * ("IP:127.0.0.1", "DNS:localhost"); empty = no subjectAltName extension.
 */
export async function makeServerCert(ca: TestCa, name: string, subject: string, san: string[]): Promise<ServerCert> {
  const dir = ca.dir;
  const keyPath = path.join(dir, `${name}-key.pem`);
  const csrPath = path.join(dir, `${name}.csr`);
  const certPath = path.join(dir, `${name}-cert.pem`);
  const extPath = path.join(dir, `${name}.ext`);
  await openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', csrPath, '-subj', subject], dir);
  const ext = ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth'];
  if (san.length) ext.push(`subjectAltName=${san.join(',')}`);
  fs.writeFileSync(extPath, ext.join('\n') + '\n');
  await openssl([
    'x509', '-req', '-in', csrPath, '-CA', ca.certPath, '-CAkey', ca.keyPath, '-set_serial', String(Date.now() + Math.floor(Math.random() * 1e6)),
    '-days', '2', '-sha256', '-extfile', extPath, '-out', certPath,
  ], dir);
  return { certPath, keyPath, certPem: fs.readFileSync(certPath, 'utf8'), keyPem: fs.readFileSync(keyPath, 'utf8'), subject };
}

/** QEMU's -spice x509-dir for this CA and server certificate (a subdirectory of the CA's dir). */
export function x509Dir(ca: TestCa, server: ServerCert, name = 'x509'): string {
  const dir = path.join(ca.dir, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(ca.certPath, path.join(dir, 'ca-cert.pem'));
  fs.copyFileSync(server.certPath, path.join(dir, 'server-cert.pem'));
  fs.copyFileSync(server.keyPath, path.join(dir, 'server-key.pem'));
  return dir;
}

/** "/C=IL/L=Raanana/O=Red Hat/CN=my server" → "C=IL,L=Raanana,O=Red Hat,CN=my server" (remote-viewer host-subject form). */
export function hostSubjectOf(opensslSubject: string): string {
  return opensslSubject.split('/').filter((p) => p !== '').map((p) => p.replace(/,/g, '\\,')).join(',');
}
