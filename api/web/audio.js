// Listen-in audio in the browser (docs/api.md, "Listen-in audio"): binary WebSocket messages
// of [4-byte big-endian RTP timestamp][one 20 ms Opus packet], 48 kHz mono, both ways.
// Incoming: WebCodecs AudioDecoder → AudioBuffers scheduled on an AudioContext a little ahead.
// Outgoing (whisper, barge, takeover): getUserMedia → AudioEncoder → the same framing.
// WebCodecs and getUserMedia exist only in a secure context (HTTPS, or http://localhost).

const RATE = 48000;
const LEAD_S = 0.06; // how far ahead of "now" a frame is scheduled
const MAX_BEHIND_S = 0.2; // a frame later than this is dropped
const MAX_AHEAD_S = 0.3; // more queued than this (drift, timestamp jump): re-anchor
const KEEP_SAMPLES = 5 * RATE;

// The test hook the browser tests read: frames received, frames decoded, the last ~5 s of
// decoded PCM (Float32Array chunks, 48 kHz mono) and the RMS of its last second.
const hook = {
  frames: 0,
  decoded: 0,
  sent: 0,
  samples: [],
  rms(seconds = 1) {
    let need = Math.round(seconds * RATE);
    let sum = 0;
    let count = 0;
    for (let i = this.samples.length - 1; i >= 0 && need > 0; i--) {
      const chunk = this.samples[i];
      const from = Math.max(0, chunk.length - need);
      for (let j = from; j < chunk.length; j++) sum += chunk[j] * chunk[j];
      count += chunk.length - from;
      need -= chunk.length - from;
    }
    return count ? Math.sqrt(sum / count) : 0;
  },
};
window.hotlineAudio = hook;

function keepSamples(pcm) {
  hook.samples.push(pcm);
  let total = hook.samples.reduce((n, c) => n + c.length, 0);
  while (total - hook.samples[0].length >= KEEP_SAMPLES) total -= hook.samples.shift().length;
}

// Channel 0 of an AudioData as Float32 (decoders give f32 or f32-planar; mics may be stereo).
function channelZero(audio) {
  const pcm = new Float32Array(audio.numberOfFrames);
  try {
    audio.copyTo(pcm, { planeIndex: 0, format: 'f32-planar' });
  } catch {
    audio.copyTo(pcm, { planeIndex: 0 }); // mono f32: the same bytes
  }
  return pcm;
}

function rmsOf(pcm) {
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) sum += pcm[i] * pcm[i];
  return pcm.length ? Math.sqrt(sum / pcm.length) : 0;
}

export function browserAudioSupport() {
  return {
    decode: typeof AudioDecoder === 'function' && typeof AudioContext === 'function',
    encode: typeof AudioEncoder === 'function' && !!navigator.mediaDevices?.getUserMedia,
  };
}

// ---------------------------------------------------------------- the shared AudioContext

let context = null;

// Creates or resumes the context; call it from a click so autoplay rules let it run.
export function audioContext() {
  if (!context) {
    try {
      context = new AudioContext({ sampleRate: RATE, latencyHint: 'interactive' });
    } catch {
      context = new AudioContext(); // AudioBuffers at 48 kHz are resampled by the browser
    }
  }
  if (context.state === 'suspended') context.resume().catch(() => {});
  return context;
}

export function audioUnlocked() {
  return !!context && context.state === 'running';
}

// Browsers keep audio off until the user has touched the page: the first touch switches it on.
export function unlockOnFirstInteraction() {
  const unlock = () => {
    audioContext();
    for (const type of ['pointerdown', 'keydown']) removeEventListener(type, unlock, true);
  };
  for (const type of ['pointerdown', 'keydown']) addEventListener(type, unlock, true);
}

// A short two-tone chime for a new alarm.
export function beep() {
  if (!audioUnlocked()) return;
  const now = context.currentTime;
  const gain = context.createGain();
  gain.connect(context.destination);
  gain.gain.setValueAtTime(0.0001, now);
  gain.gain.exponentialRampToValueAtTime(0.25, now + 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, now + 0.35);
  [880, 660].forEach((freq, i) => {
    const osc = context.createOscillator();
    osc.frequency.value = freq;
    osc.connect(gain);
    osc.start(now + i * 0.16);
    osc.stop(now + i * 0.16 + 0.15);
  });
}

function frameHeader(timestamp) {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, timestamp >>> 0);
  return bytes;
}

// ---------------------------------------------------------------- incoming: decode and play

export class ListenPlayer {
  constructor() {
    this.decoder = null;
    this.level = 0;
    this.dropped = 0;
  }

  start() {
    this.stop();
    this.last32 = null;
    this.extended = 0;
    this.anchor = null; // AudioContext time minus stream time, set by the first frame
    this.decoder = new AudioDecoder({ output: (d) => this.output(d), error: (e) => this.failed(e) });
    this.decoder.configure({ codec: 'opus', sampleRate: RATE, numberOfChannels: 1 });
  }

  stop() {
    if (this.decoder && this.decoder.state !== 'closed') this.decoder.close();
    this.decoder = null;
    this.level = 0;
  }

  // A corrupt packet closes the decoder; start a fresh one rather than go silent.
  failed(error) {
    console.warn('opus decoder', error);
    if (this.decoder) this.start();
  }

  // RTP timestamps are 32 bits and wrap; this turns them into a count that keeps growing.
  unwrap(ts32) {
    if (this.last32 !== null) this.extended += (ts32 - this.last32) | 0;
    this.last32 = ts32;
    return this.extended;
  }

  push(buffer) {
    hook.frames++;
    if (!this.decoder || this.decoder.state !== 'configured' || buffer.byteLength <= 4) return;
    if (this.decoder.decodeQueueSize > 25) return; // the decoder fell behind: drop, stay live
    const ts = this.unwrap(new DataView(buffer).getUint32(0));
    const chunk = new EncodedAudioChunk({
      type: 'key',
      timestamp: Math.round((ts * 1e6) / RATE),
      data: new Uint8Array(buffer, 4),
    });
    this.decoder.decode(chunk);
  }

  output(audio) {
    const pcm = channelZero(audio);
    const rate = audio.sampleRate;
    const at = audio.timestamp / 1e6;
    audio.close();
    hook.decoded++;
    keepSamples(pcm);
    this.level = rmsOf(pcm);
    this.schedule(pcm, rate, at);
  }

  // The jitter buffer: stream time maps to context time with a fixed anchor, LEAD_S ahead.
  schedule(pcm, rate, at) {
    if (!audioUnlocked()) return;
    const now = context.currentTime;
    if (this.anchor === null) this.anchor = now + LEAD_S - at;
    let when = this.anchor + at;
    if (now - when > MAX_BEHIND_S) {
      this.dropped++;
      this.anchor = null;
      return;
    }
    if (when < now + 0.005 || when > now + MAX_AHEAD_S) {
      this.anchor = now + LEAD_S - at;
      when = now + LEAD_S;
    }
    const buffer = context.createBuffer(1, pcm.length, rate);
    buffer.copyToChannel(pcm, 0);
    const source = context.createBufferSource();
    source.buffer = buffer;
    source.connect(context.destination);
    source.start(when);
  }
}

// ---------------------------------------------------------------- outgoing: capture and encode

// Opus configurations to try, best first; Chromium accepts the first (checked on 156).
function encoderConfigs(rate) {
  const base = { codec: 'opus', sampleRate: rate, numberOfChannels: 1, bitrate: 32000 };
  return [
    { ...base, opus: { frameDuration: 20000, application: 'voip' } },
    { ...base, opus: { frameDuration: 20000 } },
    base, // the spec's default frame is 20 ms too
  ];
}

async function supportedEncoderConfig(rate) {
  for (const config of encoderConfigs(rate)) {
    try {
      if ((await AudioEncoder.isConfigSupported(config)).supported) return config;
    } catch {
      // a config this browser cannot even parse: try the next
    }
  }
  throw new Error(`no Opus encoder for ${rate} Hz`);
}

export class MicSender {
  constructor(send) {
    this.send = send;
    this.level = 0;
  }

  async start() {
    if (!browserAudioSupport().encode) throw new Error('WebCodecs AudioEncoder / getUserMedia unavailable');
    this.stopped = false;
    this.rtp = (Math.random() * 2 ** 32) >>> 0;
    this.inputUs = 0;
    this.encoder = null;
    this.unsupported = false;
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
    if (this.stopped) return this.stop();
    const track = this.stream.getAudioTracks()[0];
    if (typeof MediaStreamTrackProcessor === 'function') this.readTrack(track);
    else this.tapWithScriptProcessor();
  }

  stop() {
    this.stopped = true;
    this.reader?.cancel().catch(() => {});
    this.reader = null;
    this.processor?.disconnect();
    this.processor = null;
    for (const track of this.stream?.getTracks() || []) track.stop();
    this.stream = null;
    if (this.encoder && this.encoder.state !== 'closed') this.encoder.close();
    this.encoder = null;
    this.level = 0;
  }

  async readTrack(track) {
    this.reader = new MediaStreamTrackProcessor({ track }).readable.getReader();
    while (!this.stopped) {
      const { value, done } = await this.reader.read().catch(() => ({ done: true }));
      if (done || !value) break;
      const pcm = channelZero(value); // mono: the first channel
      const rate = value.sampleRate;
      value.close();
      this.feed(pcm, rate);
    }
  }

  // Browsers without MediaStreamTrackProcessor: a ScriptProcessor tap (about 21 ms blocks).
  tapWithScriptProcessor() {
    const ctx = audioContext();
    const source = ctx.createMediaStreamSource(this.stream);
    this.processor = ctx.createScriptProcessor(1024, 1, 1);
    this.processor.onaudioprocess = (e) => this.feed(e.inputBuffer.getChannelData(0).slice(), ctx.sampleRate);
    source.connect(this.processor);
    this.processor.connect(ctx.destination); // outputs silence; Chromium only runs connected nodes
  }

  feed(pcm, rate) {
    if (this.stopped) return;
    this.level = rmsOf(pcm);
    if (!this.encoder) return this.configure(rate);
    if (this.encoder.state !== 'configured' || this.encoder.encodeQueueSize > 10) return;
    const data = new AudioData({
      format: 'f32-planar',
      sampleRate: rate,
      numberOfFrames: pcm.length,
      numberOfChannels: 1,
      timestamp: Math.round(this.inputUs),
      data: pcm,
    });
    this.inputUs += (pcm.length * 1e6) / rate;
    this.encoder.encode(data);
    data.close();
  }

  // The first block tells the input rate; Opus packets carry a 48 kHz clock whatever it is.
  configure(rate) {
    if (this.configuring || this.unsupported) return;
    this.configuring = supportedEncoderConfig(rate)
      .then((config) => {
        if (this.stopped) return;
        this.encoder = new AudioEncoder({ output: (c) => this.packet(c), error: (e) => console.warn('opus encoder', e) });
        this.encoder.configure(config);
      })
      .catch((e) => {
        this.unsupported = true;
        console.warn(e);
      })
      .finally(() => {
        this.configuring = null;
      });
  }

  packet(chunk) {
    const out = new Uint8Array(4 + chunk.byteLength);
    out.set(frameHeader(this.rtp), 0);
    chunk.copyTo(out.subarray(4));
    this.rtp = (this.rtp + Math.round(((chunk.duration || 20000) * RATE) / 1e6)) >>> 0;
    hook.sent++;
    this.send(out.buffer);
  }
}
