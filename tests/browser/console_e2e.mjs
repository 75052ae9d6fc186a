// The web console in a real browser (docs/api.md, "Consoles on /ws"): Chromium driven by
// playwright-core against the `hotline` that console_e2e.sh started. An agent signs in and
// goes ready; a supervisor sees it; a SIPp caller dials 12333, presses 1 and speaks; the
// baresip phone answers; the supervisor listens in from the browser and what the page
// decodes must be the caller's speech (energy envelopes correlated, the delay measured);
// the agent classifies the call; the caller hangs up and the call leaves the wallboard.
//
// Run it through console_e2e.sh, which sets these:
//   HOTLINE_URL              http://127.0.0.1:<port>
//   HOTLINE_E2E_PASSWORD     the password of lead1 and wangfang
//   HOTLINE_E2E_SIP          127.0.0.1:<port> of the server's SIP listener
//   HOTLINE_E2E_CALLER_PORT  a free UDP port for SIPp's SIP
//   HOTLINE_E2E_CALLER_DIR   SIPp's working directory, holding speech.ul
//   HOTLINE_E2E_SCENARIO     the SIPp scenario (tests/fixtures/sip/sipp/caller_speech.xml)
//   HOTLINE_E2E_SPEECH_WAV   what the caller says (the WAV speech.ul was made from)
//   HOTLINE_E2E_SHOTS        where the screenshots go
//   HOTLINE_E2E_CALL_MS      how long the caller stays on once speaking (default 15000)
//   HOTLINE_E2E_CHROMIUM     the browser (default /usr/bin/chromium)
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run this through console_e2e.sh)`);
  return v;
}
const base = need('HOTLINE_URL');
const password = need('HOTLINE_E2E_PASSWORD');
const sipTarget = need('HOTLINE_E2E_SIP');
const callerDir = need('HOTLINE_E2E_CALLER_DIR');
const scenario = need('HOTLINE_E2E_SCENARIO');
const speechWav = need('HOTLINE_E2E_SPEECH_WAV');
const shots = need('HOTLINE_E2E_SHOTS');
const callMs = Number(process.env.HOTLINE_E2E_CALL_MS || 15000);

const CALLER = '13800138000'; // the From of the SIPp scenario
const MASKED = '138****8000'; // how a wall screen shows it
const MIN_RMS = 0.01; // −40 dBFS: anything quieter is "silent"
const MIN_CORRELATION = 0.5;
const MAX_DELAY_MS = 2000;

// ---------------------------------------------------------------- log and failure

const t0 = Date.now();
function log(text) {
  console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${text}`);
}
const failures = []; // checks that failed without stopping the run
const pageLogs = new Map(); // name → lines the page printed

class StepError extends Error {}
async function step(name, fn) {
  log(`${name} …`);
  try {
    const out = await fn();
    log(`ok   ${name}`);
    return out;
  } catch (e) {
    // Playwright's first line says what timed out, its call log what it was waiting for.
    const lines = e.message.split('\n');
    const waiting = lines.find((l) => l.includes('waiting for'));
    throw new StepError(`${name}: ${lines[0]}${waiting ? ` (${waiting.trim()})` : ''}`, { cause: e });
  }
}

function watch(page, name) {
  const lines = [];
  pageLogs.set(name, lines);
  page.e2eName = name;
  page.on('console', (m) => lines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => lines.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => lines.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('websocket', (ws) => ws.on('close', () => lines.push(`websocket closed: ${ws.url()}`)));
  return page;
}

// ---------------------------------------------------------------- pages

// Signs in on the sign-in page; it sends the user on to the console for their roles.
async function signIn(page, username, home) {
  await page.goto(`${base}/console/index.html`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click('#login');
  await page.waitForURL(new RegExp(`/console/${home.replace('.', '\\.')}`));
  await page.waitForSelector('#conn[data-state="open"]');
}

// The entry point: / must reach the sign-in page. Checked on its own, so that a broken
// redirect is reported without hiding what the rest of the run finds.
async function checkEntryPoint(browser) {
  const context = await browser.newContext();
  const page = watch(await context.newPage(), 'entry');
  try {
    await page.goto(`${base}/`);
    await page.waitForSelector('#username', { timeout: 5000 });
    log(`ok   ${base}/ leads to the sign-in page (${new URL(page.url()).pathname})`);
  } catch (e) {
    const why = e.message.split('\n')[0];
    failures.push(`${base}/ does not reach the sign-in page: ${why}`);
    log(`FAIL ${base}/ does not reach the sign-in page: ${why}`);
  } finally {
    await context.close();
  }
}

const agentCard = (state) => `#agents [data-agent="1001"] [data-field="state"][data-state="${state}"]`;
const callRow = (call) => `#calls tr[data-call="${call}"]`;

// ---------------------------------------------------------------- the caller

function startCaller() {
  const args = ['-sf', scenario, '-s', '12333', '-d', String(callMs), '-m', '1', '-i', '127.0.0.1',
    '-p', need('HOTLINE_E2E_CALLER_PORT'), '-mi', '127.0.0.1', '-trace_logs', '-trace_err', '-nostdin', sipTarget];
  const out = fs.openSync(path.join(callerDir, 'sipp.out'), 'w');
  const child = spawn('sipp', args, { cwd: callerDir, stdio: ['ignore', out, out] });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  return { child, exited };
}

// When SIPp began to stream speech.ul (its <log> action, wall clock in seconds), or null.
function speechStarted() {
  const file = fs.readdirSync(callerDir).find((f) => f.endsWith('_logs.log'));
  const m = file && fs.readFileSync(path.join(callerDir, file), 'utf8').match(/speech starts .*\t(\d+\.\d+)/);
  return m ? Number(m[1]) * 1000 : null;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function callerLog() {
  const lines = [];
  for (const f of fs.readdirSync(callerDir)) {
    if (f === 'sipp.out' || f.endsWith('_errors.log') || f.endsWith('_logs.log')) {
      const text = fs.readFileSync(path.join(callerDir, f), 'utf8');
      lines.push(`== ${f}`, text.slice(-3000));
    }
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------- audio

// Mono 16-bit PCM WAV, parsed by hand: {rate, samples: Float32Array}.
function readWav(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') throw new Error(`${file}: not a WAV`);
  let fmt = null;
  for (let at = 12; at + 8 <= buf.length;) {
    const id = buf.toString('ascii', at, at + 4);
    const size = buf.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'fmt ') {
      fmt = {
        format: buf.readUInt16LE(body), channels: buf.readUInt16LE(body + 2),
        rate: buf.readUInt32LE(body + 4), bits: buf.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (!fmt || fmt.format !== 1 || fmt.channels !== 1 || fmt.bits !== 16) {
        throw new Error(`${file}: want mono 16-bit PCM, got ${JSON.stringify(fmt)}`);
      }
      const n = Math.min(size, buf.length - body) >> 1;
      const samples = new Float32Array(n);
      for (let i = 0; i < n; i++) samples[i] = buf.readInt16LE(body + 2 * i) / 32768;
      return { rate: fmt.rate, samples };
    }
    at = body + size + (size & 1);
  }
  throw new Error(`${file}: no data chunk`);
}

function rms(samples, from, count) {
  let sum = 0;
  for (let i = from; i < from + count; i++) sum += samples[i] * samples[i];
  return Math.sqrt(sum / count);
}

function pearson(x, y) {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0;
}

// Records every chunk the page's decoder puts into window.hotlineAudio.samples, with the
// wall-clock time it came out of the decoder (the hook itself keeps only the last 5 s), and
// when the last click reached the page.
function recordDecodedAudio() {
  const hook = window.hotlineAudio;
  const rec = { chunks: [], clickAt: 0 };
  window.e2eAudio = rec;
  document.addEventListener('click', () => { rec.clickAt = performance.timeOrigin + performance.now(); }, true);
  const push = hook.samples.push;
  hook.samples.push = function (...chunks) {
    const at = performance.timeOrigin + performance.now();
    for (const pcm of chunks) rec.chunks.push({ at, pcm });
    return push.apply(this, chunks);
  };
}

// In the page: the 20 ms RMS envelope of everything decoded so far, and the wall-clock
// time of its first sample (the median over chunks of "decoded at" minus "position").
function decodedEnvelope() {
  const RATE = 48000;
  const FRAME = RATE / 50;
  const chunks = window.e2eAudio.chunks;
  const total = chunks.reduce((n, c) => n + c.pcm.length, 0);
  const all = new Float32Array(total);
  const starts = [];
  let pos = 0;
  for (const c of chunks) {
    all.set(c.pcm, pos);
    starts.push(c.at - (pos / RATE) * 1000);
    pos += c.pcm.length;
  }
  starts.sort((a, b) => a - b);
  const envelope = [];
  for (let at = 0; at + FRAME <= total; at += FRAME) {
    let sum = 0;
    for (let i = at; i < at + FRAME; i++) sum += all[i] * all[i];
    envelope.push(Math.sqrt(sum / FRAME));
  }
  return { firstMs: starts[starts.length >> 1], envelope };
}

// The decoded envelope (20 ms frames from firstMs) against the speech's, which SIPp started
// at speechMs and loops (silence before): the best Pearson correlation over delays
// 0…MAX_DELAY_MS, on the frames decoded after the speech started.
function correlate(decoded, speechMs, speech) {
  const hop = Math.round(speech.rate / 200); // 5 ms steps
  const frame = Math.round(speech.rate / 50); // 20 ms windows
  const loopMs = (speech.samples.length / speech.rate) * 1000;
  const env = [];
  for (let at = 0; at + frame <= speech.samples.length; at += hop) env.push(rms(speech.samples, at, frame));
  // Past the first 200 ms of listening (the mix fades in) and from the speech's start.
  const skip = Math.max(10, Math.ceil((speechMs - decoded.firstMs) / 20));
  const x = decoded.envelope.slice(skip);
  let best = { r: -1, delayMs: 0 };
  const all = [];
  for (let delayMs = 0; delayMs <= MAX_DELAY_MS; delayMs += 5) {
    const y = x.map((_, k) => {
      const ms = decoded.firstMs + (k + skip) * 20 - delayMs - speechMs;
      if (ms < 0) return 0; // not speaking yet
      return env[Math.min(Math.round((ms % loopMs) / 5), env.length - 1)];
    });
    const r = pearson(x, y);
    all.push(r);
    if (r > best.r) best = { r, delayMs };
  }
  all.sort((a, b) => a - b);
  return { ...best, medianR: all[all.length >> 1], frames: x.length, fromMs: decoded.firstMs + skip * 20 - speechMs };
}

// ---------------------------------------------------------------- the run

const SHOTS = ['wallboard-1920x1080.png', 'supervisor-laptop-1366x768.png', 'agent-desktop.png'];

async function run(browser, pages) {
  fs.mkdirSync(shots, { recursive: true });
  for (const f of fs.readdirSync(shots)) {
    if (SHOTS.includes(f) || f.startsWith('failed-')) fs.rmSync(path.join(shots, f)); // an earlier run's
  }
  const laptop = { width: 1366, height: 768 };
  const agentContext = await browser.newContext({ viewport: laptop, locale: 'zh-CN' });
  const supContext = await browser.newContext({ viewport: laptop, locale: 'zh-CN' });
  const agent = watch(await agentContext.newPage(), 'agent');
  const sup = watch(await supContext.newPage(), 'supervisor');
  pages.push(agent, sup);

  await checkEntryPoint(browser);

  await step('agent: sign in as wangfang → agent.html', () => signIn(agent, 'wangfang', 'agent.html'));
  await step('agent: Log in, then Ready → #state ready', async () => {
    await agent.click('#btn-login:not([disabled])');
    await agent.waitForFunction(() => !['', 'logged_out'].includes(document.getElementById('state').dataset.state));
    await agent.click('#btn-ready:not([disabled])');
    await agent.waitForSelector('#state[data-state="ready"]');
  });
  await step('agent: the callbacks panel lists none (N-17); phrase placeholders are blanks', async () => {
    if (!(await agent.$('#callbacks'))) {
      log('     skipped: this console has no callbacks panel (a binary built before it; HOTLINE_E2E_WEB_ROOT=api/web)');
      return;
    }
    await agent.waitForSelector('#callbacks-status[data-status="empty"]');
    const items = await agent.$$eval('#callbacks [data-callback]', (nodes) => nodes.length);
    if (items !== 0) throw new Error(`${items} callback requests listed, want none`);
    await agent.waitForSelector('#phrases .blank[data-placeholder]');
    const raw = await agent.$eval('#phrases', (node) => node.textContent.match(/\{[^{}]+\}/g));
    if (raw) throw new Error(`placeholders shown raw in the phrases: ${raw.join(' ')}`);
  });

  await step('supervisor: sign in as lead1 → supervisor.html', () => signIn(sup, 'lead1', 'supervisor.html'));
  await step('supervisor: agent 1001 shows ready, its phone registered', async () => {
    await sup.waitForSelector(agentCard('ready'));
    await sup.waitForSelector('#agents [data-agent="1001"] [data-field="phone"][data-online="true"]', { timeout: 15000 });
  });
  const wall = watch(await supContext.newPage(), 'wallboard');
  pages.push(wall);
  await step('wallboard: supervisor.html?display=wallboard at 1920×1080', async () => {
    await wall.setViewportSize({ width: 1920, height: 1080 });
    await wall.goto(`${base}/console/supervisor.html?display=wallboard`);
    await wall.waitForSelector('#conn[data-state="open"]');
    await wall.waitForSelector(agentCard('ready'));
  });
  await sup.evaluate(recordDecodedAudio);

  log(`caller: SIPp dials 12333 at ${sipTarget}, presses 1, speaks for ${callMs / 1000} s`);
  const caller = startCaller();
  let sippCode = null;
  caller.exited.then((code) => {
    sippCode = code;
    log(`caller: SIPp exited (${code})`);
  });
  try {
    await withCaller(caller, { agent, sup, wall });
  } catch (e) {
    if (sippCode === null) caller.child.kill('SIGKILL');
    console.log(callerLog());
    throw e;
  }
}

async function withCaller(caller, { agent, sup, wall }) {
  const call = await step('supervisor: a call row appears and connects to agent 1001', async () => {
    const row = await sup.waitForSelector('#calls tr[data-call]', { timeout: 15000 });
    const id = await row.getAttribute('data-call');
    await sup.waitForSelector(`${callRow(id)} [data-field="state"][data-state="connected"]`, { timeout: 20000 });
    const from = await sup.textContent(`${callRow(id)} [data-field="from"]`);
    const who = await sup.textContent(`${callRow(id)} [data-field="agent"]`);
    if (from !== CALLER) throw new Error(`the desk shows caller "${from}", want ${CALLER}`);
    if (!who.startsWith('1001')) throw new Error(`the call's agent is "${who}", want 1001`);
    const badge = await sup.$(`${callRow(id)} .call-badge:not([hidden])`);
    if (badge) throw new Error('an incoming call carries the callback badge');
    log(`     call ${id} from ${from}, agent ${who}`);
    return id;
  });
  await step('wallboard: the same call, number masked', async () => {
    await wall.waitForSelector(`${callRow(call)} [data-field="state"][data-state="connected"]`);
    const from = await wall.textContent(`${callRow(call)} [data-field="from"]`);
    if (from !== MASKED) throw new Error(`the wallboard shows caller "${from}", want ${MASKED}`);
  });
  await step('agent: screen pop with the caller number', async () => {
    await agent.waitForSelector(`#screen-pop[data-call="${call}"]`);
    const from = await agent.textContent('#screen-pop [data-field="from"]');
    if (from !== CALLER) throw new Error(`the screen pop shows "${from}", want ${CALLER}`);
    await agent.waitForSelector('#state[data-state="talking"]');
  });

  const decodedBefore = await sup.evaluate(() => window.hotlineAudio.decoded);
  await step('supervisor: Listen → #monitor open, 150 frames (3 s) decoded', async () => {
    await sup.click(`${callRow(call)} button[data-action="listen"]:not([disabled])`);
    await sup.waitForSelector(`#monitor:not([hidden])[data-call="${call}"][data-mode="listen"]`);
    await sup.waitForFunction((n) => window.hotlineAudio.decoded >= n, decodedBefore + 150, { timeout: 15000 });
    const { chunks, first, clickAt } = await sup.evaluate(() => {
      const rec = window.e2eAudio;
      return { chunks: rec.chunks.length, first: rec.chunks[0].at, clickAt: rec.clickAt };
    });
    log(`     the first audio came out of the decoder ${Math.round(first - clickAt)} ms after the click (${chunks} chunks so far)`);
  });
  const speechMs = await step('caller: speaking (SIPp streams speech.ul); 3 s of it decoded', async () => {
    let started = null;
    for (const until = Date.now() + 20000; Date.now() < until; await sleep(200)) {
      started ??= speechStarted();
      const last = await sup.evaluate(() => window.e2eAudio.chunks.at(-1)?.at ?? 0);
      if (started !== null && last >= started + 3500) return started;
    }
    throw new Error(started === null ? 'SIPp never logged "speech starts"' : 'less than 3 s decoded since the speech started');
  });
  await step('supervisor: what the browser hears is not silence', async () => {
    const level = await sup.evaluate(() => window.hotlineAudio.rms());
    const { frames, decoded } = await sup.evaluate(() => ({ frames: hotlineAudio.frames, decoded: hotlineAudio.decoded }));
    const db = (20 * Math.log10(level || 1e-9)).toFixed(1);
    log(`     rms of the last second ${level.toFixed(4)} (${db} dBFS); frames received ${frames}, decoded ${decoded}`);
    if (!(level > MIN_RMS)) throw new Error(`rms ${level} ≤ ${MIN_RMS}: the listen-in audio is silent`);
  });
  await step(`supervisor: it is the caller's speech (envelope correlation ≥ ${MIN_CORRELATION})`, async () => {
    const decoded = await sup.evaluate(decodedEnvelope);
    const c = correlate(decoded, speechMs, readWav(speechWav));
    log(`     correlation ${c.r.toFixed(3)} at a delay of ${c.delayMs} ms (caller's RTP → browser decoder); ` +
        `median over the other delays ${c.medianR.toFixed(3)}; ${c.frames} frames of 20 ms ` +
        `from ${(c.fromMs / 1000).toFixed(2)} s into the speech`);
    console.log(`RESULT correlation=${c.r.toFixed(3)} delay_ms=${c.delayMs} median_other=${c.medianR.toFixed(3)}`);
    if (!(c.r >= MIN_CORRELATION)) throw new Error(`best correlation ${c.r.toFixed(3)} < ${MIN_CORRELATION}`);
  });
  await step('screenshots: supervisor laptop (monitoring) and wallboard', async () => {
    await sup.screenshot({ path: path.join(shots, 'supervisor-laptop-1366x768.png') });
    await wall.screenshot({ path: path.join(shots, 'wallboard-1920x1080.png') });
  });
  await step('supervisor: Stop → the monitor panel closes', async () => {
    await sup.click('#monitor-stop');
    await sup.waitForSelector('#monitor[hidden]', { state: 'attached' });
    await sup.waitForFunction((sel) => document.querySelector(sel)?.textContent === '', `${callRow(call)} [data-field="monitor"]`);
  });

  await step('agent: classify consultation / pension with a note → saved', async () => {
    await agent.selectOption('#classification', 'consultation');
    await agent.selectOption('#topic', 'pension');
    await agent.fill('#note', '来电咨询养老金领取手续，已告知所需材料。');
    await agent.click('#classify-save:not([disabled])');
    await agent.waitForSelector('#classify-status[data-status="saved"]');
    await agent.screenshot({ path: path.join(shots, 'agent-desktop.png') });
  });

  await step('caller hangs up → the call leaves the wallboard; the agent sees it ended', async () => {
    const timeout = callMs + 15000;
    await sup.waitForSelector(callRow(call), { state: 'detached', timeout });
    await wall.waitForSelector(callRow(call), { state: 'detached' });
    await agent.waitForSelector('#screen-pop [data-field="status"][data-state="ended"]');
  });
  await step('caller: SIPp finished its scenario', async () => {
    const code = await Promise.race([caller.exited, new Promise((r) => setTimeout(() => r('still running'), 10000))]);
    if (code !== 0) throw new Error(`SIPp exit ${code}\n${callerLog()}`);
  });
  await step('supervisor: the call is in the call records, answered by 1001; its recording plays', async () => {
    const row = `#records tr[data-record="${call}"]`;
    const playable = `${row} button[data-action="play"]:not([disabled])`;
    // The record is written a few seconds after the call ends, the recording when encoded.
    for (const deadline = Date.now() + 30000; !(await sup.$(playable)); await sup.waitForTimeout(1000)) {
      if (Date.now() > deadline) throw new Error(`no playable record of call ${call}: ${await sup.textContent('#records-panel')}`);
      await sup.click('#records-refresh');
    }
    const outcome = await sup.getAttribute(`${row} [data-field="outcome"]`, 'data-outcome');
    const agentId = await sup.textContent(`${row} [data-field="agent"]`);
    if (outcome !== 'answered' || agentId !== '1001') throw new Error(`the record says ${outcome} by "${agentId}"`);
    await sup.click(playable);
    const seconds = await sup.waitForFunction(() => {
      const a = document.querySelector('#records-player');
      return a && !a.hidden && a.readyState >= 1 && Number.isFinite(a.duration) && a.duration > 1 && a.duration;
    }, null, { timeout: 10000 });
    log(`     recording: ${(await seconds.jsonValue()).toFixed(1)} s, Ogg Opus decoded by Chromium`);
    await sup.locator('#records-panel').scrollIntoViewIfNeeded();
    await sup.screenshot({ path: path.join(shots, 'supervisor-records.png') });
  });
}

const browser = await chromium.launch({
  executablePath: process.env.HOTLINE_E2E_CHROMIUM || '/usr/bin/chromium',
});
log(`chromium ${browser.version()}`);
let ok = false;
const pages = [];
try {
  await run(browser, pages);
  ok = failures.length === 0;
} catch (e) {
  log(`FAIL ${e.message}`);
  if (!(e instanceof StepError)) console.log(e.stack);
  for (const page of pages) {
    await page.screenshot({ path: path.join(shots, `failed-${page.e2eName}.png`) }).catch(() => {});
  }
  log(`screenshots of the pages as they were: ${shots}/failed-*.png`);
} finally {
  await browser.close().catch(() => {});
}
for (const f of failures) log(`FAIL ${f}`);
if (!ok) {
  for (const [name, lines] of pageLogs) {
    console.log(`--- ${name} page console (last 40 lines) ---`);
    console.log(lines.slice(-40).join('\n') || '(nothing)');
  }
}
log(ok ? 'PASS' : 'FAILED');
process.exit(ok ? 0 : 1);
