// Durable client state: the offline action queue in IndexedDB; small values in localStorage.
const DB_NAME = "cad-patrol";
const QUEUE = "queue";
let dbPromise = null;

function db() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = () => {
        // Auto-increment keys keep the queue in the order the crew acted.
        req.result.createObjectStore(QUEUE, { keyPath: "id", autoIncrement: true });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  return dbPromise;
}

async function tx(mode, fn) {
  const conn = await db();
  return new Promise((resolve, reject) => {
    const t = conn.transaction(QUEUE, mode);
    const result = fn(t.objectStore(QUEUE));
    t.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
    t.onerror = () => reject(t.error);
  });
}

export const queue = {
  add: (item) => tx("readwrite", (s) => s.add(item)),
  all: () => tx("readonly", (s) => s.getAll()),
  remove: (id) => tx("readwrite", (s) => s.delete(id)),
  clear: () => tx("readwrite", (s) => s.clear()),
};

export const kv = {
  get(key, fallback = null) {
    const raw = localStorage.getItem("cad." + key);
    return raw == null ? fallback : JSON.parse(raw);
  },
  set(key, value) {
    localStorage.setItem("cad." + key, JSON.stringify(value));
  },
  del(key) {
    localStorage.removeItem("cad." + key);
  },
};
