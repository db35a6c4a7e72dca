// The offline scanner's rule (chalicelib/console/assets/gate-rule.js) against the table of cases
// the server's rule is held to (tests/unit/test_admission_cases.py): a gate offline refuses what
// the server would refuse, for the reason the server would give. Run: node --test tests/js
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { admission, takes, unverifiable } from "../../chalicelib/console/assets/gate-rule.js";

const { cases } = JSON.parse(readFileSync(new URL("../cases/admission_cases.json", import.meta.url), "utf-8"));

for (const c of cases) {
  test(`shared case: ${c.case}`, () => {
    const decided = admission(c.ticket, new Date(c.scanned_at), c.gate);
    assert.equal(decided.result === "ok" ? "admit" : decided.reason, c.expect);
  });
}

test("a code the gate cannot check is refused if this device let it in, else left to the operator", () => {
  assert.deepEqual(unverifiable({ revoked: [], admitted: null }), { result: "unverified", reason: "unverified" });
  assert.deepEqual(unverifiable({ revoked: [], admitted: { at: "2026-12-01T01:30:00Z", gate: "东门" } }),
                   { result: "rejected", reason: "already_redeemed" });
});

test("an entrance takes tickets, a pickup desk pickup codes, a gate set to any both", () => {
  assert.ok(takes("entrance", "ticket") && !takes("entrance", "pickup"));
  assert.ok(takes("pickup", "pickup") && !takes("pickup", "ticket"));
  assert.ok(takes("any", "ticket") && takes("any", "pickup"));
});

test("the rule reads only what it is given", () => {
  const ticket = Object.freeze({ t: "T1", c: "123412341234", k: "ticket", s: "S1", f: 1796086800, u: 1796097600 });
  const gate = Object.freeze({ revoked: Object.freeze([]), admitted: null });
  const at = new Date("2026-12-01T02:00:00Z");
  assert.deepEqual(admission(ticket, at, gate), { result: "ok", kind: "ticket" });
  assert.deepEqual(admission(ticket, at, gate), admission(ticket, at, gate));
});
