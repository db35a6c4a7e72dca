// The API as the console and the scanner page call it: same origin, the stage's base path, the
// staff token kept in localStorage (the scanner must still know its operator after an offline
// reload), and errors in the body of API.md ({"code","message"}).

export const BASE = location.pathname.split("/console")[0];
const SESSION = "mm.session";

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.body = body;
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

export function forget() {
  localStorage.removeItem(SESSION);
}

export async function login(username, password) {
  const answer = await request("POST", "/auth/staff/login", { username, password }, { anonymous: true });
  const kept = { token: answer.token, roles: answer.roles, username,
                 expires_at: Date.now() + answer.expires_in * 1000 };
  localStorage.setItem(SESSION, JSON.stringify(kept));
  return kept;
}

// Sends a request; JSON in and out unless `raw` (a string body of `contentType`) or `blob`.
export async function request(method, path, body, options = {}) {
  const headers = {};
  const current = session();
  if (current && !options.anonymous) headers.Authorization = "Bearer " + current.token;
  let payload;
  if (options.raw !== undefined) {
    payload = options.raw;
    headers["Content-Type"] = options.contentType || "text/plain";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  let response;
  const abort = new AbortController();
  const timer = options.timeoutMs ? setTimeout(() => abort.abort(), options.timeoutMs) : null;
  try {
    response = await fetch(BASE + path, { method, headers, body: payload, cache: "no-store", signal: abort.signal });
  } catch (e) {
    throw new Offline(abort.signal.aborted ? "no answer in time" : "network unreachable");
  } finally {
    if (timer) clearTimeout(timer);
  }
  if (options.blob && response.ok) return response.blob();
  const text = await response.text();
  let answer = null;
  try { answer = text ? JSON.parse(text) : null; } catch (e) { answer = { message: text }; }
  if (!response.ok && !options.answerAnyway) {
    if (response.status === 401 && !options.anonymous) forget();
    throw new ApiError(response.status, (answer && answer.code) || "HTTP_" + response.status,
                       answer && answer.message, answer);
  }
  return options.answerAnyway ? { status: response.status, body: answer } : answer;
}

export const get = (path, options) => request("GET", path, undefined, options);
export const post = (path, body, options) => request("POST", path, body, options);
export const patch = (path, body) => request("PATCH", path, body);
export const put = (path, body) => request("PUT", path, body);

export { yuan } from "./money.js";      // ¥1,234.00 from fen (money.js: pure, held by node)

// Saves a download that needs the token (CSV exports).
export async function download(path, filename) {
  const blob = await request("GET", path, undefined, { blob: true });
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// Text into the page without HTML: every value from the API goes through this.
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
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

export const ERROR_WORDS = {
  INVALID_CREDENTIALS: "用户名或密码不正确",
  TOO_MANY_ATTEMPTS: "尝试次数过多，请稍后再试",
  FORBIDDEN: "当前账号无权进行此操作",
  UNAUTHORIZED: "登录已过期，请重新登录",
  TOKEN_EXPIRED: "登录已过期，请重新登录",
  NEGATIVE_STOCK: "库存不能小于零",
  SHARDS_CANNOT_SHRINK: "分片数只能增加，不能减少",
  STOCK_CHANGED: "盘点期间库存有变动，请重新盘点",
  EDIT_CONFLICT: "他人刚修改过此商品，请刷新后重试",
  GOODS_NOT_RETURNED: "商品已交付，需确认已退回后才能退款",
  INVALID_STATE: "当前状态不允许此操作",
  USERNAME_TAKEN: "用户名已存在",
  LAST_ADMIN: "不能停用自己或取消自己的管理员角色，请由其他管理员操作",
  STAFF_NOT_FOUND: "员工账号不存在",
  STAFF_CHANGED: "该账号刚被他人修改，请刷新后重试",
  WRONG_PASSWORD: "原密码不正确",
  BILL_UNAVAILABLE: "暂时无法获取微信支付账单，请稍后再试",
  BILL_UNREADABLE: "微信支付账单无法解析",
  VALIDATION_ERROR: "输入有误",
  THROTTLED: "请求过于频繁，请稍后再试",
  TRY_AGAIN: "系统繁忙，请稍后重试",
  COUPON_NOT_FOUND: "优惠券不存在",
  COUPON_EXHAUSTED: "优惠券已发完",
  COUPON_LIMIT_REACHED: "已达每人限领张数",
  NOT_CLAIMABLE: "优惠券已停止或不在领取时间内",
  INVALID_CHANGE: "不能这样修改：发放总量只能增加，不限量的券没有总量可改",
  PROMOTION_NOT_FOUND: "满减活动不存在",
  CUSTOMER_NOT_FOUND: "用户不存在",
};

export function explain(error) {
  if (error instanceof Offline) return "网络不可用，请检查网络后重试";
  if (error instanceof ApiError) {
    const words = ERROR_WORDS[error.code];
    return words ? (error.code === "VALIDATION_ERROR" && error.message ? `${words}：${error.message}` : words)
                 : (error.message || error.code);
  }
  return String(error && error.message || error);
}
