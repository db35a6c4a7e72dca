// What the console's pages are built of: tables and cells, status tags in staff's words, a button
// that says how its action went, "load more" paging over a cursor, and the page's query in its hash.
import { explain, get, h } from "./api.js";

export const hashQuery = () => new URLSearchParams(location.hash.split("?")[1] || "");
export const enc = encodeURIComponent;

export function table(headers, rows, empty = "暂无数据") {
  if (!rows.length) return h("p", { class: "muted" }, empty);
  return h("table", {}, h("thead", {}, h("tr", {}, headers.map(([label, num]) => h("th", { class: num ? "num" : "" }, label)))),
           h("tbody", {}, rows));
}
export const cell = (value, num) => h("td", { class: num ? "num" : "" }, value);
export const idCell = (value) => h("td", { class: "id" }, value);
export const STATUS_WORDS = {
  PENDING_PAYMENT: "待支付", PAID: "已支付", SHIPPED: "已发货", COMPLETED: "已完成", CANCELLED: "已取消", EXPIRED: "已过期",
  REFUNDING: "退款中", REFUNDED: "已退款", PARTIALLY_REFUNDED: "部分退款", REQUESTED: "待审核", APPROVED: "已批准",
  PROCESSING: "处理中", SUCCEEDED: "已退款", FAILED: "退款失败", REJECTED: "已拒绝", listed: "在售", unlisted: "未上架",
  MATCHED: "一致", DIFFERENCES: "有差异", NOT_RUN: "未对账", critical: "严重", warning: "警告", info: "提示",
};
export const tag = (text) => h("span", { class: "tag " + text, title: text }, STATUS_WORDS[text] || text);

// Runs an action and says how it went next to the button that started it.
export function action(label, work, options = {}) {
  const note = h("span", { class: "hint" });
  const button = h("button", { class: options.secondary ? "secondary" : options.danger ? "danger" : "", type: "button",
    onclick: async () => {
      button.disabled = true;
      note.className = "hint";
      note.textContent = "处理中…";
      try {
        const message = await work();
        note.className = "notice";
        note.textContent = message || "已完成";
        if (options.then) await options.then();
      } catch (error) {
        note.className = "error";
        note.textContent = explain(error);
      } finally {
        button.disabled = false;
      }
    } }, label);
  return h("span", { class: "row" }, button, note);
}

// "Load more" paging over a cursor.
export async function paged(container, path, render) {
  const join = path.includes("?") ? "&" : "?";
  let cursor = null;
  const more = h("button", { class: "secondary", type: "button", onclick: () => next() }, "加载更多");
  if (container.more) container.more.remove();       // a new search: the old list's button goes
  container.more = more;
  // A second click while a page is on its way would ask for the same cursor and show its rows twice.
  async function next() {
    if (more.disabled) return;
    more.disabled = true;
    try {
      const page = await get(path + (cursor ? `${join}cursor=${enc(cursor)}` : ""));
      render(page.items);
      cursor = page.next;
      more.hidden = !cursor;
    } finally {
      more.disabled = false;
    }
  }
  container.after(more);
  await next();
}

// A form's input under its label (the label stays readable once the field is filled).
export const field = (label, input) => h("label", { class: "field" }, h("span", {}, label), input);

// Which kinds of goods a promotion applies to (门票, 文创): both ticked is everything.
export const kindBoxes = () => [["ticket", "门票"], ["merch", "文创"]].map(([kind, word]) =>
  h("label", { class: "check" }, h("input", { type: "checkbox", value: kind, checked: true, testid: "scope-" + kind }), word));
export const checkedKinds = (boxes) => boxes.map((b) => b.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
