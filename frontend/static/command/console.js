// The call-taker's console (接警台) on the command map: ringing calls from the telephony link, the
// new-call form (keyboard first, IME-safe), the pin (gazetteer search, a click or a drag on the
// map, the carrier's location), what is known before dispatch (the caller's earlier calls, the
// incidents near the pin), and dispatch of the best unit with one key.
//
// Keys: F2 takes the oldest ringing call (or opens an empty form); in the address field ↓/↑ and
// Enter pick a suggestion; 1–5 pick the category while the category row has the focus, Alt+1–5
// from anywhere in the form; Ctrl+Enter dispatches the highlighted unit; Esc closes the
// suggestions, then the form.
import { ApiError, errorText, newKey } from "../common/api.js";
import { ll } from "../common/basemap.js";
import { CONFIG } from "../common/config.js";
import { $, esc } from "../common/dom.js";
import { formatDistance, formatDuration, wgs84FromDisplay } from "../common/geo.js";
import { actionUrl } from "../common/lifecycle.js";
import { alarm } from "./alarm.js";

const SEARCH_DELAY_MS = 120;

// What to write in the address field for a place of the gazetteer.
function placeAddress(place) {
  if (place.address && !place.address.includes(place.name)) return `${place.address}${place.name}`;
  return place.address || place.name;
}

export function createConsole({ api, map, T, onDone }) {
  // The categories in the server's order (Category.choices): key 1 is the first.
  const categories = Object.keys(T.category);
  const calls = new Map(); // ringing calls by id
  let form = null; // the open form's state
  let pinMarker = null;
  let accuracyCircle = null;
  let searchTimer = null;
  let searchSeq = 0;
  let composing = false;
  let searchesScheduled = 0; // for the tests: what the input method's keys set off

  const el = {
    section: $("console"),
    form: $("call-form"),
    phone: $("f-phone"),
    name: $("f-name"),
    address: $("f-address"),
    suggest: $("f-suggest"),
    pin: $("f-pin"),
    category: $("f-category"),
    priority: $("f-priority"),
    description: $("f-description"),
    history: $("f-history"),
    nearby: $("f-nearby"),
    ranked: $("f-ranked"),
    msg: $("f-msg"),
    closeReason: $("f-close-reason"),
    closeCall: $("f-close-call"),
    ringing: $("ringing"),
  };
  el.closeReason.innerHTML = Object.entries(T.closeReason)
    .map(([value, label]) => `<option value="${esc(value)}">${esc(label)}</option>`)
    .join("");

  // --- ringing calls ------------------------------------------------------------------------

  // The ringing calls, the longest waiting first.
  function ringingCalls() {
    return [...calls.values()].sort((a, b) => a.received_at.localeCompare(b.received_at));
  }

  function renderCalls() {
    const rows = ringingCalls();
    el.ringing.innerHTML = rows
      .map((c) => {
        const since = formatDuration((Date.now() - Date.parse(c.received_at)) / 1000);
        const where = c.location ? ` · 📍${c.location.accuracy_m ? `±${Math.round(c.location.accuracy_m)} m` : ""}` : "";
        return `<li class="ringing" data-call="${c.id}"><strong>☎ ${esc(c.caller_phone || T.unknownCaller)}</strong>
          ${esc(c.line)} · ${esc(since)}${esc(where)}
          <button type="button" data-take="${c.id}">${esc(T.takeCall)}</button></li>`;
      })
      .join("");
    $("ringing-head").hidden = rows.length === 0;
  }

  function callRinging(call, { fresh }) {
    if (call.status && call.status !== "ringing") return;
    calls.set(call.id, call);
    renderCalls();
    if (fresh) alarm("ringing");
  }

  function callGone(callId) {
    calls.delete(callId);
    renderCalls();
  }

  // --- the form -----------------------------------------------------------------------------

  function open(call = null) {
    if (form && form.call && call && form.call.id === call.id) return;
    form = {
      key: newKey(), // the intake: a double Ctrl+Enter opens one incident
      linkKey: newKey(), // linking: a double click records one further call
      call,
      pin: null,
      category: null,
      priorityTouched: false,
      ranked: [], // the free units for the pin, best first: Ctrl+Enter sends the first
      suggestions: [],
      active: -1,
    };
    el.form.reset();
    el.priority.value = "2";
    el.msg.textContent = "";
    el.suggest.hidden = true;
    el.history.innerHTML = "";
    el.nearby.innerHTML = "";
    el.ranked.innerHTML = "";
    el.pin.textContent = T.noPin;
    renderCategory();
    el.closeCall.hidden = el.closeReason.hidden = !call;
    el.phone.value = call ? call.caller_phone : "";
    $("f-title").textContent = call
      ? `${T.takingCall} ${call.caller_phone || ""} ${call.line || ""}`
      : T.newCall;
    el.section.hidden = false;
    map.invalidateSize();
    if (call && call.location) {
      setPin(call.location.lat, call.location.lon, { accuracy: call.location.accuracy_m });
    } else clearPin();
    if (el.phone.value) loadHistory(el.phone.value);
    (call ? el.address : el.phone).focus();
  }

  function close() {
    form = null;
    el.section.hidden = true;
    clearPin();
    map.invalidateSize();
  }

  function takeOldest() {
    open(ringingCalls()[0] || null);
  }

  function say(text, bad = false) {
    el.msg.textContent = text;
    el.msg.classList.toggle("bad", bad);
  }

  // --- category and priority ----------------------------------------------------------------

  function renderCategory() {
    el.category.innerHTML = categories.map(
      (c, i) =>
        `<button type="button" tabindex="-1" data-category="${c}" aria-pressed="${form && form.category === c}"><kbd>${i + 1}</kbd>${esc(T.category[c] || c)}</button>`,
    ).join("");
  }

  function pickCategory(category) {
    form.category = category;
    // A criminal case is urgent unless the call-taker said otherwise.
    if (!form.priorityTouched) el.priority.value = category === "criminal" ? "1" : "2";
    renderCategory();
  }

  // --- the address: gazetteer suggestions ---------------------------------------------------

  function near() {
    if (form && form.pin) return `${form.pin[0].toFixed(6)},${form.pin[1].toFixed(6)}`;
    const c = map.getCenter();
    const [lat, lon] = wgs84FromDisplay(CONFIG.tileCrs, c.lat, c.lng);
    return `${lat.toFixed(6)},${lon.toFixed(6)}`;
  }

  function searchSoon() {
    searchesScheduled += 1;
    clearTimeout(searchTimer);
    searchTimer = setTimeout(search, SEARCH_DELAY_MS);
  }

  async function search() {
    const q = el.address.value.trim();
    const mine = ++searchSeq;
    if (!form || !q) {
      el.suggest.hidden = true;
      return;
    }
    let hits = [];
    try {
      hits = await api(`/api/places/?q=${encodeURIComponent(q)}&near=${near()}&limit=8`);
    } catch {
      hits = [];
    }
    if (mine !== searchSeq || !form) return; // a newer search or a closed form
    form.suggestions = hits;
    form.active = hits.length ? 0 : -1;
    renderSuggestions();
  }

  function renderSuggestions() {
    const hits = form.suggestions;
    el.suggest.innerHTML = hits
      .map(
        (p, i) =>
          `<li role="option" data-suggestion="${i}" aria-selected="${i === form.active}"><strong>${esc(p.name)}</strong> <small>${esc(T.placeKind[p.kind] || p.kind)} · ${esc(p.address)}</small></li>`,
      )
      .join("");
    el.suggest.hidden = hits.length === 0;
  }

  function pickSuggestion(i) {
    const place = form.suggestions[i];
    if (!place) return;
    el.address.value = placeAddress(place);
    el.suggest.hidden = true;
    setPin(place.lat, place.lon, { place });
    el.category.focus();
  }

  // --- the pin ------------------------------------------------------------------------------

  // An answer about a pin that has moved since (or a closed form) is dropped.
  function pinIs(lat, lon) {
    return Boolean(form && form.pin && form.pin[0] === lat && form.pin[1] === lon);
  }

  function clearPin() {
    pinMarker?.remove();
    accuracyCircle?.remove();
    pinMarker = accuracyCircle = null;
  }

  function setPin(lat, lon, { accuracy = null, place = null, fromMap = false } = {}) {
    if (!form) return;
    form.pin = [lat, lon];
    const p = ll(lat, lon);
    if (!pinMarker) {
      pinMarker = L.marker(p, { draggable: true, title: T.pin, keyboard: false }).addTo(map);
      pinMarker.on("dragend", () => {
        const at = pinMarker.getLatLng();
        const [wLat, wLon] = wgs84FromDisplay(CONFIG.tileCrs, at.lat, at.lng);
        setPin(wLat, wLon, { fromMap: true });
      });
    }
    pinMarker.setLatLng(p);
    accuracyCircle?.remove();
    accuracyCircle = accuracy
      ? L.circle(p, { radius: accuracy, color: "#1e88e5", weight: 1, fillOpacity: 0.1 }).addTo(map)
      : null;
    if (!fromMap) map.setView(p, Math.max(map.getZoom(), 16));
    el.pin.textContent = `${lat.toFixed(5)}, ${lon.toFixed(5)} …`;
    reverse(lat, lon, place);
    loadNearby(lat, lon);
    loadRanked(lat, lon);
  }

  async function reverse(lat, lon, place) {
    let found;
    try {
      found = await api(`/api/places/reverse/?lat=${lat}&lon=${lon}`);
    } catch {
      return;
    }
    if (!pinIs(lat, lon)) return;
    const parts = [
      `${T.gridCell}: ${found.grid_cell ? found.grid_cell.code : T.outsideGrid}`,
      `${T.station}: ${found.station ? found.station.name : "–"}`,
      `${T.stagingPoint}: ${found.staging_point ? `${found.staging_point.name} (${formatDistance(found.staging_point.distance_m)})` : "–"}`,
    ];
    const nearest = !place && found.places[0];
    el.pin.innerHTML =
      parts.map((p) => `<span>${esc(p)}</span>`).join(" · ") +
      (nearest
        ? `<br><button type="button" data-use-place>${esc(T.nearPlace)}: ${esc(nearest.name)} (${esc(formatDistance(nearest.distance_m))})</button>`
        : "");
    form.nearestPlace = nearest || null;
  }

  // --- before dispatch: the caller's history, the incidents nearby -----------------------------

  async function loadHistory(phone) {
    if (!phone) return; // the server refuses what is not a phone number
    let h;
    try {
      h = await api(`/api/incidents/caller-history/?phone=${encodeURIComponent(phone)}`);
    } catch {
      return;
    }
    if (!form) return;
    const earlier = h.calls.filter((c) => !form.call || c.id !== form.call.id);
    if (!earlier.length && !h.incidents.length) {
      el.history.innerHTML = `<p class="muted">${esc(T.noHistory.replace("%(days)s", T.historyDays))}</p>`;
      return;
    }
    const when = (iso) => new Date(iso).toLocaleString(CONFIG.language, { timeZone: CONFIG.timeZone });
    el.history.innerHTML =
      `<h3>${esc(T.callerHistory.replace("%(n)s", earlier.length).replace("%(days)s", T.historyDays))}</h3><ul>` +
      h.incidents
        .map(
          (i) =>
            `<li>${esc(when(i.received_at))} <strong>${esc(i.number)}</strong> ${esc(T.category[i.category] || i.category)} · ${esc(T.incidentStatus[i.status] || i.status)}<br><small>${esc(i.address)}</small></li>`,
        )
        .join("") +
      earlier
        .filter((c) => c.status === "closed")
        .map((c) => `<li>${esc(when(c.received_at))} ${esc(T.callClosed)}: ${esc(T.closeReason[c.close_reason] || c.close_reason)}</li>`)
        .join("") +
      "</ul>";
  }

  async function loadNearby(lat, lon) {
    let rows;
    try {
      rows = await api(`/api/incidents/nearby/?lat=${lat}&lon=${lon}`);
    } catch {
      return;
    }
    if (!pinIs(lat, lon)) return;
    if (!rows.length) {
      el.nearby.innerHTML = `<p class="muted">${esc(T.noNearby)}</p>`;
      return;
    }
    el.nearby.innerHTML =
      `<h3>${esc(T.nearbyIncidents)}</h3><ul>` +
      rows
        .map(
          (i) =>
            `<li class="${i.open ? "open" : ""}"><strong>${esc(i.number)}</strong> ${esc(T.category[i.category] || i.category)} · ${esc(T.incidentStatus[i.status] || i.status)} · ${esc(formatDistance(i.distance_m))}<br><small>${esc(i.address)}</small>
            ${i.open ? `<button type="button" data-link="${i.id}">${esc(T.linkCall)}</button>` : ""}</li>`,
        )
        .join("") +
      "</ul>";
  }

  async function loadRanked(lat, lon) {
    let rows;
    try {
      rows = await api(`/api/incidents/recommendations/?lat=${lat}&lon=${lon}`);
    } catch {
      return;
    }
    if (!pinIs(lat, lon)) return;
    form.ranked = rows;
    renderRanked();
  }

  function renderRanked() {
    if (!form.ranked.length) {
      el.ranked.innerHTML = `<p class="bad">${esc(T.noFreeUnit)}</p>`;
      return;
    }
    el.ranked.innerHTML =
      `<h3>${esc(T.recommended)}</h3><ol>` +
      form.ranked
        .map(
          (r, i) =>
            `<li class="${i === 0 ? "best" : ""}"><button type="button" data-rank="${i}">${esc(T.dispatch)}</button>
            <strong>${esc(r.callsign)}</strong> · ${esc(formatDuration(r.eta_s))} · ${esc(formatDistance(r.distance_m))}${i === 0 ? ` <kbd>Ctrl+Enter</kbd>` : ""}</li>`,
        )
        .join("") +
      "</ol>";
  }

  // --- submit: take the call, dispatch ------------------------------------------------------

  function fields() {
    const errors = [];
    const address = el.address.value.trim();
    if (!form.pin) errors.push(T.needPin);
    if (!address) errors.push(T.needAddress);
    if (!form.category) errors.push(T.needCategory);
    if (errors.length) {
      say(errors.join(" "), true);
      (!address ? el.address : !form.category ? el.category : el.address).focus();
      return null;
    }
    const body = {
      category: form.category,
      priority: Number(el.priority.value),
      location: { lat: form.pin[0], lon: form.pin[1] },
      address,
      description: el.description.value.trim(),
      caller_name: el.name.value.trim(),
      caller_phone: el.phone.value.trim(),
    };
    if (form.call) body.call = form.call.id;
    return body;
  }

  function fieldErrors(error) {
    const body = error && error.body;
    if (!body || typeof body !== "object" || body.detail) return errorText(error);
    return Object.entries(body)
      .filter(([k]) => k !== "code")
      .map(([k, v]) => `${T.field[k] || k}: ${[].concat(typeof v === "object" && !Array.isArray(v) ? Object.values(v).flat() : v).join(" ")}`)
      .join("; ");
  }

  async function submit(rank) {
    if (!form || form.busy) return;
    const body = fields();
    if (!body) return;
    form.busy = true;
    const unit = rank == null ? null : form.ranked[rank];
    say(T.sending);
    let incident;
    try {
      incident = await api("/api/incidents/", { method: "POST", body, key: form.key });
    } catch (error) {
      form.busy = false;
      renewIfRefused(error, "key");
      say(`${T.refused}: ${fieldErrors(error)}`, true);
      return;
    }
    const done = form;
    if (unit) {
      try {
        await api(actionUrl(incident.id, "dispatch"), { method: "POST", body: { unit: unit.unit } });
      } catch (error) {
        close();
        onDone(incident.id, `${T.refused}: ${errorText(error)}`);
        return;
      }
    }
    if (done === form) close();
    onDone(incident.id, unit ? `${incident.number}: ${T.dispatched} ${unit.callsign}` : `${incident.number}: ${T.saved}`);
  }

  // Ctrl+Enter and the form's button: the best unit, or record only when none is free.
  function submitBest() {
    if (form) submit(form.ranked.length ? 0 : null);
  }

  async function link(incidentId) {
    if (!form || form.busy) return;
    form.busy = true;
    const body = {
      caller_phone: el.phone.value.trim(),
      caller_name: el.name.value.trim(),
      description: [el.address.value.trim(), el.description.value.trim()].filter(Boolean).join(" — "),
    };
    if (form.call) body.call = form.call.id;
    try {
      const inc = await api(`/api/incidents/${incidentId}/calls/`, {
        method: "POST",
        body,
        key: `${form.linkKey}-${incidentId}`,
      });
      close();
      onDone(incidentId, `${inc.number}: ${T.linked}`);
    } catch (error) {
      form.busy = false;
      renewIfRefused(error, "linkKey");
      say(`${T.refused}: ${fieldErrors(error)}`, true);
    }
  }

  // A request the server refused for its fields (400) wrote nothing, and the server answers its
  // key with that refusal again: the corrected one is a new request with a new key. After a
  // network failure the key is kept, so a retry cannot open a second incident.
  function renewIfRefused(error, which) {
    if (error instanceof ApiError && error.status === 400) form[which] = newKey();
  }

  async function closeCall() {
    if (!form || !form.call) return;
    try {
      await api(`/api/calls/${form.call.id}/close/`, {
        method: "POST",
        body: { reason: el.closeReason.value, note: el.description.value.trim().slice(0, 500) },
      });
      callGone(form.call.id);
      close();
    } catch (error) {
      say(`${T.refused}: ${fieldErrors(error)}`, true);
    }
  }

  // --- keys and clicks ----------------------------------------------------------------------

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  document.addEventListener("keydown", (e) => {
    if (e.isComposing || e.keyCode === 229) return; // the IME owns this key
    if (e.key === "F2" || (e.key.toLowerCase() === "n" && !typing(e.target) && !e.ctrlKey && !e.metaKey && !e.altKey && !form)) {
      e.preventDefault();
      takeOldest();
      return;
    }
    if (!form) return;
    if (e.key === "Escape") {
      e.preventDefault();
      if (!el.suggest.hidden) el.suggest.hidden = true;
      else close();
      return;
    }
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      submitBest();
      return;
    }
    const digit = /^Digit([1-9])$/.exec(e.code);
    const category = digit && categories[Number(digit[1]) - 1];
    if (category && (e.altKey || el.category.contains(e.target))) {
      e.preventDefault();
      pickCategory(category);
      return;
    }
    if (e.target === el.address && !el.suggest.hidden && form.suggestions.length) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        const n = form.suggestions.length;
        form.active = (form.active + (e.key === "ArrowDown" ? 1 : n - 1)) % n;
        renderSuggestions();
      } else if (e.key === "Enter") {
        e.preventDefault();
        pickSuggestion(Math.max(form.active, 0));
      }
      return;
    }
    if (e.key === "Enter" && e.target.tagName === "INPUT") e.preventDefault(); // no stray submit
  });

  el.address.addEventListener("compositionstart", () => {
    composing = true;
  });
  el.address.addEventListener("compositionend", () => {
    composing = false;
    searchSoon();
  });
  el.address.addEventListener("input", () => {
    if (!composing) searchSoon();
  });
  el.phone.addEventListener("change", () => form && loadHistory(el.phone.value.trim()));
  el.priority.addEventListener("change", () => form && (form.priorityTouched = true));
  el.form.addEventListener("submit", (e) => {
    e.preventDefault();
    submitBest();
  });

  document.addEventListener("click", (e) => {
    const t = e.target.closest("button, li");
    if (!t) return;
    if (t.dataset.take) open(calls.get(Number(t.dataset.take)) || null);
    // Only the form's own buttons: a click elsewhere on the map (a backup request's 派警, say)
    // must not send the call being typed.
    if (!form || !el.section.contains(t)) return;
    if (t.dataset.suggestion) pickSuggestion(Number(t.dataset.suggestion));
    if (t.dataset.category) pickCategory(t.dataset.category);
    if (t.dataset.rank) submit(Number(t.dataset.rank));
    if (t.dataset.link) link(Number(t.dataset.link));
    if ("usePlace" in t.dataset && form.nearestPlace) el.address.value = placeAddress(form.nearestPlace);
    if (t.id === "f-save") submit(null);
    if (t.id === "f-close-call") closeCall();
    if (t.id === "f-cancel") close();
  });

  map.on("click", (e) => {
    if (!form) return;
    const [lat, lon] = wgs84FromDisplay(CONFIG.tileCrs, e.latlng.lat, e.latlng.lng);
    setPin(lat, lon, { fromMap: true });
  });

  $("new-call").addEventListener("click", () => takeOldest());
  setInterval(renderCalls, 1000);

  return {
    // The calls ringing when the live link (re)started: listed, no alarm.
    snapshot(list, { more = false } = {}) {
      if (!more) calls.clear();
      (list || []).forEach((c) => callRinging(c, { fresh: false }));
    },
    frame(frame) {
      if (frame.type === "call.ringing") {
        // A catch-up replay of a call that rang long ago is listed without the alarm.
        const age = (Date.now() - Date.parse(frame.call.received_at)) / 1000;
        callRinging(frame.call, { fresh: age < 120 });
      }
      if (frame.type === "call.updated") {
        callGone(frame.call_id);
        if (form && form.call && form.call.id === frame.call_id && !form.busy) {
          say(T.callTakenElsewhere, true);
        }
      }
    },
    calls,
    get form() {
      return form;
    },
    get searchesScheduled() {
      return searchesScheduled;
    },
  };
}
