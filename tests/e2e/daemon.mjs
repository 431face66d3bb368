// Starts `tracermon run` on a generated configuration (in-process simulated buses, HTTP on a free
// port) and talks to its API; the URL comes from <runtime_dir>/daemon.json.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const tracermon = process.env.TRACERMON_BIN || path.join(repo, 'build/tracermon');

// Polls `check` until it returns something truthy; a condition, not a fixed sleep.
export async function waitFor(check, what, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (e) {
      if (e.fatal) throw e;
      last = e;
    }
    if (Date.now() > deadline) {
      const why = last ? `: ${last.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// Two buses: "cabin" with two simulated controllers and a third id the simulator lacks (shed:
// it never answers), and "garage" with one controller (roof), a site complete on its own.
export function configText(dir, extra = '') {
  return `runtime_dir = "${dir}/run"
[poll]
fast = "1s"
slow = "2s"
settings = "1h"
max_skip_cycles = 2
[store]
path = "${dir}/history.db"
commit_interval = "1s"
[files]
json_dir = "${dir}/state"
[http]
listen = "127.0.0.1:0"
[log]
level = "info"
${extra}

[[bus]]
name = "cabin"
port = "sim:ids=1,2&profile=tracer-an+tracer-bn&seed=7"
timeout = "200ms"
retries = 0
gap = "0ms"
site = "cabin"
  [[bus.device]]
  id = 1
  name = "east"
  [[bus.device]]
  id = 2
  name = "west"
  [[bus.device]]
  id = 4
  name = "shed"

[[bus]]
name = "garage"
port = "sim:ids=1&profile=tracer-an&seed=11"
timeout = "200ms"
retries = 0
gap = "0ms"
site = "garage"
  [[bus.device]]
  id = 1
  name = "roof"
`;
}

export class Daemon {
  // Starts the daemon with `days` of demo history and waits until it serves HTTP.
  // `control`: a token, to turn [control] on with it (the token file readable by the owner only).
  static async start({ days = 2, env = {}, control = null } = {}) {
    if (!fs.existsSync(tracermon)) {
      throw new Error(`${tracermon} not found: build it, or set TRACERMON_BIN`);
    }
    const d = new Daemon();
    d.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracermon-e2e-'));
    d.config = path.join(d.dir, 'tracermon.toml');
    let extra = '';
    if (control) {
      const tokenFile = path.join(d.dir, 'control.token');
      fs.writeFileSync(tokenFile, `${control}\n`, { mode: 0o600 });
      extra = `[control]\nenabled = true\ntoken_file = "${tokenFile}"\nclock_sync = "off"\n`;
    }
    fs.writeFileSync(d.config, configText(d.dir, extra));
    d.logPath = path.join(d.dir, 'daemon.log');
    const log = fs.openSync(d.logPath, 'w');
    d.proc = spawn(tracermon, ['run', '--config', d.config, '--demo-history', String(days)], {
      stdio: ['ignore', log, log],
      env: { ...process.env, ...env },
    });
    fs.closeSync(log);
    d.exit = new Promise((resolve) => d.proc.on('exit', (code, signal) => resolve({ code, signal })));
    let exited = null;
    d.exit.then((e) => { exited = e; });
    const infoPath = path.join(d.dir, 'run', 'daemon.json');
    try {
      const info = await waitFor(() => {
        if (exited) {
          const why = `daemon exited (${JSON.stringify(exited)}):\n${d.logText()}`;
          throw Object.assign(new Error(why), { fatal: true });
        }
        const j = JSON.parse(fs.readFileSync(infoPath, 'utf8'));
        return j.pid === d.proc.pid ? j : null;
      }, 'daemon.json', 120000);
      d.url = info.http.replace(/\/?$/, '/');
    } catch (e) {
      d.proc.kill('SIGKILL');
      throw new Error(`${e.message}\n(files kept in ${d.dir})`);
    }
    return d;
  }

  logText() {
    try { return fs.readFileSync(this.logPath, 'utf8'); } catch { return ''; }
  }

  async api(pathAndQuery) {
    const r = await fetch(new URL(pathAndQuery.replace(/^\//, ''), this.url));
    if (!r.ok) throw new Error(`GET ${pathAndQuery}: ${r.status} ${await r.text()}`);
    return r.json();
  }

  // SIGTERM, then the exit status (the daemon commits its store and exits 0).
  async stop() {
    if (this.proc.exitCode == null && this.proc.signalCode == null) this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 30000);
    const result = await this.exit;
    clearTimeout(timer);
    return result;
  }

  remove() {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
