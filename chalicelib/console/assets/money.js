// Money as staff read and type it: the API counts integer fen, staff see and enter yuan. Pure (no
// page, no network), so that node holds it to its cases (tests/js/money.test.mjs).

// ¥1,234.00 from fen: money is integer fen everywhere, shown in yuan.
export function yuan(fen) {
  if (fen === null || fen === undefined) return "—";
  const sign = fen < 0 ? "-" : "";
  const abs = Math.abs(fen);
  const whole = Math.floor(abs / 100).toLocaleString("en-US");
  return `${sign}¥${whole}.${String(abs % 100).padStart(2, "0")}`;
}

// ¥100 or ¥99.50: the short form of a coupon's or a tier's figure ("满¥100减¥20").
export function shortYuan(fen) {
  return fen % 100 === 0 ? yuan(fen).slice(0, -3) : yuan(fen);
}

// What a money field shows for a figure it edits: "1000", "99.50".
export const yuanInput = (fen) => (fen % 100 ? (fen / 100).toFixed(2) : String(fen / 100));

export class InputError extends Error {}

// Fen from what staff typed in yuan ("12", "12.5", "¥1,200.00"): exact, never through a float.
// Blank is `null` (a field left empty); anything else that is not a sum of money is an
// InputError naming the field in staff's words.
export function fenOf(text, label = "金额") {
  const typed = String(text ?? "").trim().replace(/^¥/, "").replace(/,/g, "");
  if (!typed) return null;
  const match = /^(\d+)(?:\.(\d{1,2}))?$/.exec(typed);
  if (!match) throw new InputError(`${label}请填写元，最多两位小数，如 12.50`);
  const fen = Number(match[1]) * 100 + Number((match[2] || "").padEnd(2, "0"));
  if (!Number.isSafeInteger(fen)) throw new InputError(`${label}过大`);
  return fen;
}

// A whole number staff typed (a total, a limit, days); blank is `null`.
export function countOf(text, label, minimum = 1) {
  const typed = String(text ?? "").trim();
  if (!typed) return null;
  if (!/^\d+$/.test(typed) || Number(typed) < minimum) throw new InputError(`${label}请填写不小于 ${minimum} 的整数`);
  return Number(typed);
}

// The API's percent_off from a discount as staff say it, in 折: "8.5" 折 takes 15% off. 10 折 is
// no discount (0); one decimal at most, as a price tag says it.
export function percentOffOf(text, label = "折扣") {
  const typed = String(text ?? "").trim().replace(/折$/, "");
  if (!typed) return null;
  const match = /^(\d{1,2})(?:\.(\d))?$/.exec(typed);
  const tenths = match ? Number(match[1]) * 10 + Number(match[2] || 0) : NaN;
  if (!(tenths >= 1 && tenths <= 100)) throw new InputError(`${label}请填写 0.1 到 10 之间的折数，如 8.5`);
  return 100 - tenths;
}

// "8.5折" from percent_off 15; "不打折" for 0.
export function zhe(percentOff) {
  if (!percentOff) return "不打折";
  return `${(100 - percentOff) / 10}折`;
}

// What a 折 field shows for a percent_off it edits: "9.5", "10" (no discount).
export const zheInput = (percentOff) => String((100 - percentOff) / 10);

// 25.0% from the API's ratio (redemption_rate); "—" where nothing was issued.
export function percent(ratio, issued = 1) {
  if (!issued || ratio === null || ratio === undefined) return "—";
  return `${(ratio * 100).toFixed(1)}%`;
}
