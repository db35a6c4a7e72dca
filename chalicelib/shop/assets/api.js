// The API as the shop calls it: same origin, the stage's base path, the customer's token kept in
// localStorage (a web-view or a tab opened again stays signed in until the token expires), and
// every mutating call sent with an Idempotency-Key, so that a retry (a double tap, a flaky network)
// returns the first answer instead of doing the thing twice.
import { explainError } from "./errors.js";

// The API's base is what comes before the shop's own /shop (the last one: a stage or base path may
// itself contain "/shop").
export const BASE = location.pathname.slice(0, Math.max(0, location.pathname.lastIndexOf("/shop")));
const SESSION = "mm.shop.session";

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message || code);
    Object.assign(this, { status, code, body, details: (body && body.details) || {} });
  }
}

export class Offline extends Error {}

export function session() {
  try {
    const found = JSON.parse(localStorage.getItem(SESSION) || "null");
    if (found && found.expires_at > Date.now()) return found;
  } catch (e) { /* a damaged entry is no session */ }
  return null;
}

export function signOut() {
  localStorage.removeItem(SESSION);
}

// Signs in with a wx.login code (locally `dev:<openid>`) and keeps the token.
export async function signIn(code) {
  const answer = await request("POST", "/auth/wechat/login", { code }, { anonymous: true, key: false });
  const kept = { token: answer.token, user_id: answer.user_id, expires_at: Date.now() + answer.expires_in * 1000 };
  localStorage.setItem(SESSION, JSON.stringify(kept));
  return kept;
}

// A fresh Idempotency-Key: one per thing the visitor means to do once.
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// Sends a request, JSON in and out. Mutating calls carry `options.key` as their Idempotency-Key
// (a new one unless given; `key: false` for none).
export async function request(method, path, body, options = {}) {
  // An id of "." or ".." (from the hash) would climb out of its path once the URL is resolved,
  // encoded or not: no such thing.
  if (path.split("?")[0].split("/").some((s) => /^(\.|%2e){1,2}$/i.test(s))) {
    throw new ApiError(404, "NOT_FOUND", "no such path", null);
  }
  const headers = {};
  const current = session();
  if (current && !options.anonymous) headers.Authorization = "Bearer " + current.token;
  if (method !== "GET" && options.key !== false) headers["Idempotency-Key"] = options.key || newKey();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body),
                                          cache: "no-store" });
  } catch (e) {
    throw new Offline("network unreachable");
  }
  const text = await response.text();
  let answer = null;
  try { answer = text ? JSON.parse(text) : null; } catch (e) { answer = { message: text }; }
  if (!response.ok) {
    if (response.status === 401 && !options.anonymous) signOut();
    throw new ApiError(response.status, (answer && answer.code) || "HTTP_" + response.status,
                       answer && answer.message, answer);
  }
  return answer;
}

export const get = (path) => request("GET", path);
export const post = (path, body, options) => request("POST", path, body, options);
export const patch = (path, body, options) => request("PATCH", path, body, options);

// What went wrong, in the visitor's words.
export function explain(error) {
  if (error instanceof Offline) return "网络不可用，请检查网络后重试";
  if (error instanceof ApiError) return explainError(error.code, error.details, error.message);
  return /[\u4e00-\u9fff]/.test((error && error.message) || "") ? error.message : "出错了，请稍后重试";
}

// Text into the page without HTML: every value from the API goes through this.
export function h(tag, attributes = {}, ...children) {
  const svg = tag === "svg" || tag === "path";
  const element = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "testid") element.dataset.testid = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}
