// Sound and a visible flash for what must not be missed on the command map: a ringing call, an
// escalation, a missed arrival, a crew's backup request, a crew's emergency button. Browsers
// start audio only after a click on the page: until then the sound button shows a warning, and
// the flash still shows.
import { $ } from "../common/dom.js";

let ctx = null;

function audio() {
  if (!ctx) {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    ctx = Ctx ? new Ctx() : null;
  }
  return ctx;
}

export function soundOn() {
  return Boolean(ctx && ctx.state === "running");
}

function showState(T) {
  const button = $("sound");
  if (!button) return;
  const on = soundOn();
  button.dataset.state = on ? "on" : "off";
  button.textContent = on ? T.soundOn : T.soundOff;
  button.title = on ? T.soundOnHint : T.soundOffHint;
}

// The sound button: one click enables sound (the browser's autoplay rule), with a test beep.
export function initAlarm(T) {
  const button = $("sound");
  const enable = async () => {
    const c = audio();
    if (!c) return;
    try {
      await c.resume();
    } catch {
      /* still off: the warning stays */
    }
    showState(T);
    if (soundOn()) beep([880], 0.08);
  };
  button?.addEventListener("click", enable);
  // Any first click on the page counts too: the dispatcher works with the mouse anyway.
  document.addEventListener("pointerdown", () => audio() && !soundOn() && enable(), { once: true });
  showState(T);
  setInterval(() => showState(T), 5000);
}

function beep(freqs, seconds) {
  const c = audio();
  if (!c || c.state !== "running") return;
  let t = c.currentTime;
  for (const f of freqs) {
    const osc = c.createOscillator();
    const gain = c.createGain();
    osc.frequency.value = f;
    gain.gain.setValueAtTime(0.25, t);
    gain.gain.exponentialRampToValueAtTime(0.001, t + seconds);
    osc.connect(gain).connect(c.destination);
    osc.start(t);
    osc.stop(t + seconds);
    t += seconds + 0.05;
  }
}

const PATTERNS = {
  ringing: { tones: [660, 880, 660, 880], length: 0.18, cls: "flash-ring" },
  escalated: { tones: [988, 784, 988, 784, 988], length: 0.15, cls: "flash-alarm" },
  breach: { tones: [523, 523, 523], length: 0.3, cls: "flash-alarm" },
  backup: { tones: [784, 988, 784, 988], length: 0.15, cls: "flash-alarm" },
  // A siren, unlike every other tone on the page: an officer in danger.
  emergency: { tones: [1175, 784, 1175, 784, 1175, 784], length: 0.2, cls: "flash-emergency" },
};

// kind: "ringing" | "escalated" | "breach" | "backup" | "emergency". The counts are for the
// browser tests.
export const alarms = { ringing: 0, escalated: 0, breach: 0, backup: 0, emergency: 0 };

export function alarm(kind) {
  const p = PATTERNS[kind];
  if (!p) return;
  alarms[kind] += 1;
  beep(p.tones, p.length);
  document.body.classList.remove(p.cls);
  void document.body.offsetWidth; // restart the animation
  document.body.classList.add(p.cls);
  setTimeout(() => document.body.classList.remove(p.cls), 2400);
}

// An alarm that repeats until it is stopped: a single beep is easily missed at a busy desk, and
// an emergency stays loud until a commander takes charge of it.
const REPEAT_MS = 3000;
const repeating = new Map(); // kind → interval id

export function keepSounding(kind, on) {
  if (on && !repeating.has(kind)) {
    alarm(kind);
    repeating.set(kind, setInterval(() => alarm(kind), REPEAT_MS));
  } else if (!on && repeating.has(kind)) {
    clearInterval(repeating.get(kind));
    repeating.delete(kind);
  }
}
