// States as visitors read them. Pure (tests/js/shop-words.test.mjs).
export const ORDER_STATUS = {
  PENDING_PAYMENT: "待支付", PAID: "已支付", SHIPPED: "已发货", COMPLETED: "已完成", CANCELLED: "已取消",
  EXPIRED: "已超时关闭", REFUNDING: "退款中", REFUNDED: "已退款", PARTIALLY_REFUNDED: "部分退款",
};
export const TICKET_STATUS = { VALID: "待使用", REDEEMED: "已使用", REVOKED: "已作废", EXPIRED: "已过期" };
export const COUPON_STATUS = { AVAILABLE: "可使用", LOCKED: "下单占用中", USED: "已使用", EXPIRED: "已过期" };
export const FULFILLMENT = { pickup: "到店自提", shipping: "快递配送" };
export const ID_TYPES = { id_card: "居民身份证", passport: "护照" };
// Who moved an order in its history (`by`): the customer never sees staff names, only "customer",
// "staff" or the system's part (wechatpay, gate, refunds, system).
const ACTORS = { customer: "您", staff: "客服", wechatpay: "微信支付", gate: "检票口", refunds: "退款", system: "系统" };
export const actorWords = (by) => ACTORS[by] || "系统";
export const statusWords = (status) => ORDER_STATUS[status] || status;
