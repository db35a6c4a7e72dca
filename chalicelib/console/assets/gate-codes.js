// Reading a code at the gate: a signed QR payload (MM1.<kid>.<claims>.<signature>, base64url,
// Ed25519 over what comes before the signature) or the 12 digits printed under it, typed by
// hand. Only the claims of a payload whose signature one of the offline pack's keys verifies are
// believed; claimsOf reads any payload unchecked, for what the server has already judged.
import * as ed from "./noble-ed25519-2.3.0.js";

const MAX_QR = 600;                          // the server's limit
const B64URL = /^[A-Za-z0-9_-]+$/;

const b64url = (text) => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")
  + "=".repeat((4 - text.length % 4) % 4)), (c) => c.charCodeAt(0));

function parts(payload) {
  const found = payload.split(".");
  return payload.length <= MAX_QR && found.length === 4 && found[0] === "MM1" && found.slice(1).every((p) => B64URL.test(p))
    ? found : null;
}

export const isQr = (code) => code.startsWith("MM1.");

// What a payload says of itself, unchecked (for a payload the server already accepted).
export function claimsOf(payload) {
  const found = parts(payload);
  try { return found ? JSON.parse(new TextDecoder().decode(b64url(found[2]))) : null; } catch (e) { return null; }
}

async function signatureHolds(publicKey, signature, message) {
  try {
    const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    return await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  } catch (e) {
    return ed.verifyAsync(signature, message, publicKey);   // browsers without WebCrypto Ed25519
  }
}

// The claims of a genuine payload, or null (forged, altered, a key the pack does not hold).
export async function verifyQr(payload, pack) {
  const found = parts(payload);
  const key = found && pack && pack.keys.find((k) => k.kid === found[1]);
  if (!key) return null;
  try {
    const message = new TextEncoder().encode(found.slice(0, 3).join("."));
    return await signatureHolds(b64url(key.public_key), b64url(found[3]), message) ? claimsOf(payload) : null;
  } catch (e) {
    return null;
  }
}

// The 12 digits of a typed code, spaces and dashes aside, or null.
export function manualCode(text) {
  const digits = text.replace(/[\s-]/g, "");
  return /^[0-9]{12}$/.test(digits) ? digits : null;
}

// What this device remembers an admission under: the ticket id and the code of a QR, the digits
// of a typed code, so that a QR and its typed code are one ticket.
export function keysOf(code) {
  const claims = isQr(code) ? claimsOf(code) : null;
  const digits = manualCode(code);
  return claims ? ["t:" + claims.t, "c:" + claims.c] : digits ? ["c:" + digits] : [];
}
