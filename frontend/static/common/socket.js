// A websocket that reconnects with capped exponential backoff and jitter, pings to detect dead
// links, and says hello with the last sequence number after every (re)connect.
const MAX_DELAY_MS = 30000;
const PING_MS = 25000;
const DEAD_MS = 60000;

// The websocket URL of a path on this host (wss on an https page).
export function wsUrl(path) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}${path}`;
}

export class Socket {
  constructor({ url, lastSeq, onFrame, onState }) {
    this.url = url; // () => string
    this.lastSeq = lastSeq; // () => number
    this.onFrame = onFrame;
    this.onState = onState;
    this.ws = null;
    this.attempt = 0;
    this.timer = null;
    this.stopped = true;
    this.state = "offline";
  }

  setState(state, detail) {
    this.state = state;
    this.onState(state, detail);
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pinger);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
    this.setState("offline");
  }

  connect() {
    clearTimeout(this.timer);
    if (this.stopped || this.ws) return;
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.schedule();
      return;
    }
    this.ws = ws;
    this.lastHeard = Date.now();
    ws.onopen = () => {
      this.attempt = 0;
      this.setState("online");
      this.send({ type: "hello", last_seq: this.lastSeq() });
      clearInterval(this.pinger);
      this.pinger = setInterval(() => {
        if (Date.now() - this.lastHeard > DEAD_MS) ws.close(4000);
        else this.send({ type: "ping" });
      }, PING_MS);
    };
    ws.onmessage = (event) => {
      this.lastHeard = Date.now();
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame && typeof frame.type === "string") this.onFrame(frame);
    };
    ws.onclose = (event) => {
      clearInterval(this.pinger);
      if (this.ws === ws) this.ws = null;
      if (this.stopped) return;
      if (event.code === 4401 || event.code === 4403) {
        this.setState("denied", event.code);
        return;
      }
      this.schedule();
    };
  }

  schedule() {
    const base = Math.min(MAX_DELAY_MS, 1000 * 2 ** this.attempt);
    const delay = base / 2 + Math.random() * (base / 2); // "equal jitter"
    this.attempt = Math.min(this.attempt + 1, 10);
    this.setState("reconnecting");
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  // The network came back: try at once instead of waiting out the backoff.
  kick() {
    if (this.stopped) return;
    this.attempt = 0;
    if (this.ws && this.ws.readyState === WebSocket.OPEN) return;
    if (this.ws) {
      const stale = this.ws; // an attempt made while offline: abandon it
      this.ws = null;
      stale.onclose = null;
      stale.close();
    }
    this.connect();
  }

  // The network is gone: the link is as good as dead; close it and back off until kick().
  drop() {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.close(4000, "offline");
  }

  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }
}
