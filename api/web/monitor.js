// Listen-in, whisper, barge-in and take-over (N-40) from the supervisor console: the monitor
// commands, the #monitor panel and, for via:"browser", the audio both ways (audio.js).

import { el, label, queueLabel, setText, t, toast } from './common.js';
import { audioContext, browserAudioSupport, ListenPlayer, MicSender } from './audio.js';
import { MONITOR_MODES } from './wallboard.js';

const PHONE_KEY = 'hotline.monitor.phone';
const VIA_PHONE_KEY = 'hotline.monitor.via_phone';

function remembered(key) {
  try {
    return localStorage.getItem(key) || '';
  } catch {
    return '';
  }
}

function remember(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // not kept across visits; fine
  }
}

// A level in dB mapped to 0…1 for the meter bars (−60 dB empty, 0 dB full).
function meterFraction(rms) {
  if (rms <= 0) return 0;
  return Math.max(0, Math.min(1, (20 * Math.log10(rms) + 60) / 60));
}

export class Monitor {
  constructor(con, { panel, viaPhone, myPhone, onChange }) {
    this.con = con;
    this.panel = panel;
    this.viaPhone = viaPhone;
    this.myPhone = myPhone;
    this.onChange = onChange;
    this.active = null; // {call, mode, via}
    this.player = new ListenPlayer();
    this.mic = new MicSender((buffer) => con.sendBinary(buffer));
    this.micOn = false;
    this.restoreOptions();
    this.buildPanel();
    con.on('monitor', (msg) => this.fromServer(msg));
    con.on('binary', (buffer) => this.player.push(buffer));
    con.on('close', () => this.teardown());
  }

  restoreOptions() {
    this.myPhone.value = remembered(PHONE_KEY);
    this.viaPhone.checked = remembered(VIA_PHONE_KEY) === '1';
    this.myPhone.addEventListener('change', () => remember(PHONE_KEY, this.myPhone.value.trim()));
    this.viaPhone.addEventListener('change', () => remember(VIA_PHONE_KEY, this.viaPhone.checked ? '1' : '0'));
  }

  buildPanel() {
    const modes = this.panel.querySelector('.monitor-modes');
    for (const mode of MONITOR_MODES) {
      modes.append(el('button', { type: 'button', class: `mode-${mode}`, dataset: { mode, i18n: `act.${mode}` }, onclick: () => this.setMode(mode) }, t(`act.${mode}`)));
    }
    this.panel.querySelector('#monitor-stop').addEventListener('click', () => this.stop());
  }

  monitoringCall() {
    return this.active ? String(this.active.call) : null;
  }

  // A row button: start monitoring this call in this mode, or switch mode if already on it.
  async begin(callKey, mode) {
    const call = this.con.calls.get(String(callKey));
    if (!call) return;
    const via = this.viaPhone.checked ? 'phone' : 'browser';
    const phone = this.myPhone.value.trim();
    if (via === 'phone' && !phone) return toast(t('mon.phone_needed'), 'error');
    if (via === 'browser') {
      if (!browserAudioSupport().decode) return toast(t('mon.no_webcodecs'), 'error');
      audioContext(); // inside the click, so the browser lets it play
    }
    if (this.active && String(this.active.call) === String(call.call)) return this.setMode(mode);
    if (this.active) await this.stop();
    const fields = { call: call.call, mode, via };
    if (via === 'phone') {
      fields.phone = phone;
      toast(t('mon.calling_phone', { phone }));
    }
    try {
      // Via a phone the answer waits until the supervisor picks it up.
      await this.con.command('monitor', fields, via === 'phone' ? 60000 : 15000);
      this.started({ call: call.call, mode, via });
    } catch (e) {
      toast(t('err.command', { error: e.message }), 'error');
    }
  }

  async setMode(mode) {
    if (!this.active || this.active.mode === mode) return;
    if (this.active.via === 'browser') audioContext();
    try {
      await this.con.command('monitor_mode', { mode });
      if (this.active) this.update({ mode });
    } catch (e) {
      toast(t('err.command', { error: e.message }), 'error');
    }
  }

  async stop() {
    if (!this.active) return;
    try {
      await this.con.command('monitor_stop');
    } catch (e) {
      if (e.code !== 'disconnected') toast(t('err.command', { error: e.message }), 'error');
    }
    this.teardown();
  }

  // {"type":"monitor","state":"started"|"mode"|"ended",...} — the server's word wins.
  fromServer(msg) {
    if (msg.state === 'ended') {
      if (this.active) toast(msg.reason ? `${t('mon.ended')}: ${msg.reason}` : t('mon.ended'));
      return this.teardown();
    }
    const fields = { call: msg.call, mode: msg.mode, via: msg.via };
    for (const key of Object.keys(fields)) if (fields[key] === undefined) delete fields[key];
    if (!this.active && msg.state === 'started') return this.started(fields);
    if (this.active) this.update(fields);
  }

  started(monitor) {
    if (this.active && String(this.active.call) === String(monitor.call)) return this.update(monitor);
    this.active = { via: 'browser', mode: 'listen', ...monitor };
    if (this.active.via === 'browser' && browserAudioSupport().decode) {
      window.hotlineAudio.samples.length = 0;
      this.player.start();
    }
    this.note('');
    this.syncMic();
    this.meterTimer = setInterval(() => this.drawMeters(), 100);
    this.render();
  }

  update(fields) {
    Object.assign(this.active, fields);
    this.syncMic();
    this.render();
  }

  teardown() {
    if (!this.active) return;
    this.active = null;
    this.player.stop();
    this.syncMic();
    clearInterval(this.meterTimer);
    this.render();
  }

  // The microphone runs only while the supervisor can be heard, and only via the browser.
  syncMic() {
    const talk = !!this.active && this.active.via === 'browser' && this.active.mode !== 'listen';
    if (talk === this.micOn) return;
    this.micOn = talk;
    if (!talk) return this.mic.stop();
    this.mic.start().catch((e) => {
      this.micOn = false;
      this.mic.stop();
      this.note(t('mon.no_mic', { error: e.message || e.name }));
    });
  }

  note(text) {
    setText(this.panel.querySelector('#monitor-note'), text);
  }

  drawMeters() {
    this.panel.querySelector('#meter-in .meter-fill').style.width = `${meterFraction(this.player.level) * 100}%`;
    this.panel.querySelector('#meter-mic .meter-fill').style.width = `${meterFraction(this.micOn ? this.mic.level : 0) * 100}%`;
  }

  callSummary() {
    const call = this.con.calls.get(String(this.active.call));
    if (!call) return `#${this.active.call}`;
    const agent = call.agent ? this.con.agents.get(String(call.agent)) : null;
    return [call.from, queueLabel(call.queue), agent ? `${agent.agent} ${agent.name || ''}`.trim() : call.agent]
      .filter(Boolean)
      .join(' · ');
  }

  render() {
    const active = this.active;
    this.panel.hidden = !active;
    this.panel.dataset.call = active ? String(active.call) : '';
    this.panel.dataset.mode = active ? active.mode : '';
    this.panel.dataset.via = active ? active.via : '';
    if (active) {
      setText(this.panel.querySelector('#monitor-call'), this.callSummary());
      setText(this.panel.querySelector('#monitor-via'), t(active.via === 'phone' ? 'mon.via_phone' : 'mon.via_browser'));
      for (const button of this.panel.querySelectorAll('[data-mode]')) {
        button.setAttribute('aria-pressed', String(button.dataset.mode === active.mode));
        setText(button, label('act', button.dataset.mode));
      }
      this.panel.querySelector('#meter-mic').hidden = active.via !== 'browser';
      this.panel.querySelector('#meter-in').hidden = active.via !== 'browser';
    }
    this.onChange();
  }
}
