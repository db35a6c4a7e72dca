// What every page shows while it waits and when something fails: a visible waiting state on every
// request (a phone on a slow network must see that something is happening), errors in Chinese
// with a way to try again.
import { explain, h } from "./api.js";

export function loading(text = "正在加载…") {
  return h("p", { class: "loading", role: "status", testid: "loading" }, h("span", { class: "spinner" }), text);
}

export function errorBox(error, retry) {
  return h("div", { class: "error", role: "alert", testid: "error" },
           h("p", {}, explain(error)),
           retry ? h("button", { type: "button", class: "secondary", onclick: retry }, "重试") : null);
}

// Fills `container` with what `build()` resolves to, showing the waiting state until then and the
// error (with 重试) if it fails.
export async function fill(container, build) {
  container.replaceChildren(loading());
  try {
    container.replaceChildren(await build());
  } catch (e) {
    container.replaceChildren(errorBox(e, () => fill(container, build)));
  }
}

// Runs `action` for a button: the button waits (disabled, 处理中…) so that it cannot be tapped twice,
// and an error shows in `message` (an element of the page) in Chinese. Answers what `action` answered,
// or undefined when it failed. `words` says an error (a page may know its own codes better).
export async function act(button, message, action, waiting = "处理中…", words = explain) {
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  button.textContent = waiting;
  if (message) { message.hidden = true; message.textContent = ""; }
  try {
    return await action();
  } catch (e) {
    if (message) { message.hidden = false; message.textContent = words(e); }
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.textContent = label;
  }
}

// An order's number: 27 letters and digits, set small and monospaced so that it fits a 360 px row.
export const orderNumber = (id) => h("span", { class: "order-no" }, id);

// A line of a summary: label on the left, value on the right.
export const row = (label, value, attributes = {}) =>
  h("div", { class: "row", ...attributes }, h("span", { class: "muted" }, label), h("span", {}, value));

export const empty = (text, ...more) => h("div", { class: "empty" }, h("p", {}, text), ...more);

export const link = (href, text, attributes = {}) => h("a", { href, ...attributes }, text);
