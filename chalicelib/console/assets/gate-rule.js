// The gate's rule when the server cannot answer (离线核验): what a gate decides for a code from
// the claims of its QR as the offline pack's keys verified them, the time of the scan, and what
// the gate holds (the pack's revocations, this device's own admissions). No DOM, no storage, no
// clock: node holds it to the table of cases the server's rule is held to
// (tests/cases/admission_cases.json). The server is the authority: the checks, their order and
// their reasons are admission_checks' in chalicelib/domain/redemption.py, so a code let in here
// then taken back is "revoked" (as online), and a forged code "invalid" whatever the gate holds.

const refused = (reason) => ({ result: "rejected", reason });

// ticket: the claims of a genuine QR ({t ticket id, c code, k kind, s SKU, f valid from, u valid
// until; epoch seconds}), or null for a code that is not genuine. at: a Date. gate: {revoked:
// the pack's ticket ids taken back, admitted: this device's earlier admission of the code or null}.
export function admission(ticket, at, gate) {
  if (!ticket) return refused("invalid");
  if (gate.revoked.includes(ticket.t)) return refused("revoked");
  if (gate.admitted) return refused("already_redeemed");
  const seconds = at.getTime() / 1000;
  if (seconds < ticket.f) return refused("not_yet_valid");
  if (seconds >= ticket.u) return refused("expired");            // valid until u: not at u
  return { result: "ok", kind: ticket.k };
}

// A code the gate cannot check (typed digits, or a QR before any pack came): refused if this
// device let it in, else the operator decides after looking at the visitor's e-ticket.
export function unverifiable(gate) {
  return gate.admitted ? refused("already_redeemed") : { result: "unverified", reason: "unverified" };
}

// The gate's own rule, which the server does not have: an entrance takes tickets, a pickup desk
// pickup codes, a gate set to "any" both.
export function takes(mode, kind) {
  return !((mode === "entrance" && kind === "pickup") || (mode === "pickup" && kind === "ticket"));
}
