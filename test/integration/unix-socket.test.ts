// spice+unix:///path against a real QEMU whose SPICE server listens on a UNIX
// socket (-spice unix=on,addr=PATH). No guest is needed: SeaBIOS on QXL draws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Session } from '../../main/spice/session';
import { defaultTransportFactory } from '../../main/transport/index';
import { connectTargetToEndpoint, parseConnectUri } from '../../main/config/uri';
import { sleep } from '../helpers/client';

test('spice+unix:// links every channel over the UNIX socket', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spice-unix-'));
  const sock = path.join(dir, 'spice.sock');
  const qemu = spawn('qemu-system-x86_64', ['-machine', 'pc', '-accel', 'tcg', '-m', '64', '-nodefaults', '-no-user-config', '-vga', 'qxl', '-display', 'none', '-spice', `unix=on,addr=${sock},disable-ticketing=on`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  qemu.stderr.on('data', (d) => (stderr += d));
  try {
    for (let i = 0; !fs.existsSync(sock); i++) {
      if (i > 200 || qemu.exitCode !== null) assert.fail(`QEMU did not create ${sock}: ${stderr}`);
      await sleep(50);
    }
    const { endpoint } = connectTargetToEndpoint(parseConnectUri(`spice+unix://${sock}`));
    const s = new Session({ endpoint, transport: defaultTransportFactory });
    await s.connect();
    const names = s.channels().map((c) => c.name);
    assert.ok(names.includes('display 0') && names.includes('inputs 0'), `linked: ${names}`);
    assert.equal(s.main.connection?.transport.description, `unix ${sock}`);
    s.disconnect();
  } finally {
    qemu.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
