// Paying inside WeChat. The shop may run inside a mini-program's <web-view>: there it cannot call
// wx.requestPayment (only the mini-program can), so it hands the order over to the mini-program's own
// pay page with wx.miniProgram.navigateTo({url: "/pages/pay/index?order_id=<id>"}); that page asks the
// API for the payment parameters (POST /orders/{id}/payment), calls wx.requestPayment, and navigates
// back; the shop meanwhile polls the order until it is PAID. wx.miniProgram is WeChat's JSSDK
// (jweixin), which the web-view's host provides; the shop loads nothing from outside its origin.
// Pure given `win` (tests/js/shop-wx.test.mjs).
export const PAY_PAGE = "/pages/pay/index";

export function inMiniProgram(win = globalThis) {
  return !!(win.wx && win.wx.miniProgram) || win.__wxjs_environment === "miniprogram";
}

export function payPageUrl(orderId) {
  return `${PAY_PAGE}?order_id=${encodeURIComponent(orderId)}`;
}

// Asks the mini-program to open its pay page for the order. True when asked (WeChat answers a failed
// navigation later, through `onFail`), false when this page has no wx.miniProgram to ask.
export function handOver(orderId, win = globalThis, onFail = () => {}) {
  const mini = win.wx && win.wx.miniProgram;
  if (!mini || typeof mini.navigateTo !== "function") return false;
  mini.navigateTo({ url: payPageUrl(orderId), fail: onFail });
  return true;
}
