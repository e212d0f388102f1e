// Start and stop the real chatgate binary on ephemeral loopback ports.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

// Screenshots go to docs/screenshots/ only when asked (UPDATE_SCREENSHOTS=1),
// so that a test run leaves the working tree clean.
export const screenshotDir = process.env.UPDATE_SCREENSHOTS
  ? path.join(repoRoot, 'docs', 'screenshots')
  : path.join(tmpdir(), 'chatgate-screenshots');

export function binaryPath() {
  const bin = process.env.CHATGATE_BIN || 'build/chatgate';
  return path.isAbsolute(bin) ? bin : path.join(repoRoot, bin);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A self-signed certificate for 127.0.0.1 and localhost, made now (SPEC 13).
function makeCertificate(dir) {
  const cert = path.join(dir, 'fullchain.pem');
  const key = path.join(dir, 'privkey.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-subj', '/CN=chatgate-browser-test', '-days', '1', '-keyout', key, '-out', cert,
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ], { stdio: 'ignore' });
  return ['--tls-cert', cert, '--tls-key', key, '--tls-tcp-port', '0', '--irc-tls-port', '0'];
}

// `ports` pins listeners (to restart on the same ports); 0 means "any free port".
// `tls`: HTTPS and WSS with a certificate made for the run (url is https://).
export async function startServer({ ports = {}, args = [], tls = false, timeoutMs = 10000 } = {}) {
  const bin = binaryPath();
  if (!existsSync(bin)) throw new Error(`chatgate binary not found at ${bin} (set CHATGATE_BIN)`);
  const dir = mkdtempSync(path.join(tmpdir(), 'chatgate-browser-'));
  const portsFile = path.join(dir, 'ports.json');
  if (tls) args = [...makeCertificate(dir), ...args];
  const argv = [
    '--bind', '127.0.0.1',
    '--http-port', String(ports.http ?? 0),
    '--tcp-port', String(ports.tcp ?? 0),
    '--udp-port', String(ports.udp ?? 0),
    '--echo-port', String(ports.echo ?? 0),
    '--irc-port', String(ports.irc ?? 0),
    '--ports-file', portsFile,
    ...args,
  ];
  const child = spawn(bin, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk) => {
    log = (log + chunk).slice(-65536);
  });
  let exited = null;
  const exitPromise = new Promise((resolve) => child.on('exit', (code, signal) => {
    exited = { code, signal };
    resolve(exited);
  }));

  const deadline = Date.now() + timeoutMs;
  while (!existsSync(portsFile)) {
    if (exited) throw new Error(`chatgate exited early (${JSON.stringify(exited)}):\n${log}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`chatgate wrote no ports file within ${timeoutMs} ms:\n${log}`);
    }
    await sleep(25);
  }
  const bound = JSON.parse(readFileSync(portsFile, 'utf8'));

  return {
    ports: bound,
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${bound.http}/`,
    log: () => log,
    get running() { return exited === null; },
    async stop(signal = 'SIGTERM') {
      if (exited) return exited;
      child.kill(signal);
      const result = await Promise.race([exitPromise, sleep(5000).then(() => null)]);
      if (!result) {
        child.kill('SIGKILL');
        await exitPromise;
        throw new Error(`chatgate did not exit within 5 s of ${signal}`);
      }
      rmSync(dir, { recursive: true, force: true });
      return result;
    },
  };
}

// Restarting on the same ports can briefly fail while the old sockets wind down.
export async function startServerOnPorts(ports, { attempts = 20, ...options } = {}) {
  let lastError;
  for (let i = 0; i < attempts; i++) {
    try {
      return await startServer({ ports, ...options });
    } catch (error) {
      lastError = error;
      await sleep(250);
    }
  }
  throw lastError;
}
