// Reading a code at the gate (chalicelib/console/assets/gate-codes.js): only a payload whose
// signature a key of the offline pack verifies is believed, through WebCrypto or, where a browser
// has no Ed25519 there, the shipped noble-ed25519.
import assert from "node:assert/strict";
import { test } from "node:test";

import { claimsOf, keysOf, manualCode, verifyQr } from "../../chalicelib/console/assets/gate-codes.js";

const b64url = (bytes) => Buffer.from(bytes).toString("base64url");

async function signed(claims, kid = "k1") {
  const keys = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
  const head = `MM1.${kid}.${b64url(Buffer.from(JSON.stringify(claims)))}`;
  const signature = await crypto.subtle.sign({ name: "Ed25519" }, keys.privateKey, new TextEncoder().encode(head));
  const raw = await crypto.subtle.exportKey("raw", keys.publicKey);
  return { payload: `${head}.${b64url(new Uint8Array(signature))}`,
           pack: { keys: [{ kid, alg: "Ed25519", public_key: b64url(new Uint8Array(raw)) }], revoked: [] } };
}

const CLAIMS = { t: "T1", c: "123412341234", k: "ticket", s: "S1", f: 1796086800, u: 1796097600 };

test("a genuine payload gives its claims; an altered one, another key's or no pack gives null", async () => {
  const { payload, pack } = await signed(CLAIMS);
  assert.deepEqual(await verifyQr(payload, pack), CLAIMS);
  const [prefix, kid, , signature] = payload.split(".");
  const altered = [prefix, kid, b64url(Buffer.from(JSON.stringify({ ...CLAIMS, t: "T2" }))), signature].join(".");
  assert.equal(await verifyQr(altered, pack), null);
  assert.deepEqual(claimsOf(altered).t, "T2");                   // read unchecked, as claimsOf says
  assert.equal(await verifyQr(payload, (await signed(CLAIMS)).pack), null);
  assert.equal(await verifyQr(payload, null), null);
  assert.equal(await verifyQr("MM1.k1.not json.x", pack), null);
});

test("without Ed25519 in WebCrypto the shipped verifier decides the same", async () => {
  const { payload, pack } = await signed(CLAIMS);
  const importKey = crypto.subtle.importKey;
  crypto.subtle.importKey = () => Promise.reject(new Error("no Ed25519"));
  try {
    assert.deepEqual(await verifyQr(payload, pack), CLAIMS);
    const [prefix, kid, claims, signature] = payload.split(".");
    const other = signature.startsWith("A") ? "B" + signature.slice(1) : "A" + signature.slice(1);
    assert.equal(await verifyQr([prefix, kid, claims, other].join("."), pack), null);
  } finally {
    crypto.subtle.importKey = importKey;
  }
});

test("a QR and its typed code are remembered as one ticket", async () => {
  const { payload } = await signed(CLAIMS);
  assert.deepEqual(keysOf(payload), ["t:T1", "c:123412341234"]);
  assert.deepEqual(keysOf("1234 1234-1234"), ["c:123412341234"]);
  assert.equal(manualCode("1234 1234 123"), null);
  assert.deepEqual(keysOf("hello"), []);
});
