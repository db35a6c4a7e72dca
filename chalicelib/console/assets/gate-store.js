// What this gate device keeps across reloads and network loss, in IndexedDB: the offline pack,
// the codes it admitted (so a second scan is refused offline), and the scans waiting to upload.

const DB = "micromall-gate";
let opened = null;

function open() {
  if (!opened) {
    opened = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB, 1);
      request.onupgradeneeded = () => {
        const db = request.result;
        db.createObjectStore("pack");
        db.createObjectStore("admitted", { keyPath: "key" });
        db.createObjectStore("queue", { keyPath: "nonce" });
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  return opened;
}

async function run(store, mode, work) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(store, mode);
    const result = work(tx.objectStore(store));
    tx.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error("IndexedDB transaction aborted"));   // quota, closing
  });
}

export const savePack = (pack) => run("pack", "readwrite", (s) => s.put(pack, "current"));
export const loadPack = () => run("pack", "readonly", (s) => s.get("current"));

// One entry per ticket id and per manual code, so that a QR and its typed code are one ticket.
export async function admitted(keys) {
  for (const key of keys) {
    const found = await run("admitted", "readonly", (s) => s.get(key));
    if (found) return found;
  }
  return null;
}
// The first key stands for the admission (it is what the day's count counts).
export const remember = (keys, gate, at, day) =>
  run("admitted", "readwrite", (s) => { keys.forEach((key, i) => s.put({ key, gate, at, day, counts: i === 0 })); });

export async function admittedToday(gate, day) {
  const all = await run("admitted", "readonly", (s) => s.getAll());
  return all.filter((e) => e.counts && e.gate === gate && e.day === day).length;
}

export const enqueue = (scan) => run("queue", "readwrite", (s) => s.put(scan));
export const queued = () => run("queue", "readonly", (s) => s.getAll());
export const dequeue = (nonces) => run("queue", "readwrite", (s) => { for (const n of nonces) s.delete(n); });

// What this device admitted more than a few days ago can no longer be scanned again (tickets are
// for a day or a session): forgotten, so the store stays small on a PDA.
export async function forgetBefore(day) {
  const all = await run("admitted", "readonly", (s) => s.getAll());
  const old = all.filter((e) => e.day && e.day < day).map((e) => e.key);
  if (old.length) await run("admitted", "readwrite", (s) => { for (const key of old) s.delete(key); });
}
