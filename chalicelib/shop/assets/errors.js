// The API's error codes in the visitor's words (the API's own messages are for developers, in
// English). Pure, so that node holds it to its cases (tests/js/shop-errors.test.mjs).
export const ERROR_WORDS = {
  UNAUTHORIZED: "登录已过期，请重新登录",
  TOKEN_EXPIRED: "登录已过期，请重新登录",
  INVALID_LOGIN_CODE: "登录失败，请重新进入",
  FORBIDDEN: "无权进行此操作",
  NOT_FOUND: "内容不存在",
  PRODUCT_NOT_FOUND: "商品不存在或已下架",
  SKU_NOT_FOUND: "该规格或场次不存在",
  ORDER_NOT_FOUND: "订单不存在",
  SOLD_OUT: "库存不足，请减少数量或选择其他场次",
  NOT_ON_SALE: "该商品当前不在售卖时间内",
  PURCHASE_LIMIT_EXCEEDED: "超过限购数量",
  VISITORS_REQUIRED: "实名制门票需为每张票填写一位游客",
  DUPLICATE_VISITOR: "同一场次每位游客只能购买一张票",
  FULFILLMENT_NOT_AVAILABLE: "该商品不支持所选的取货方式",
  UNPAID_LIMIT: "您有未支付的订单，请先支付或取消后再下单",
  COUPON_UNAVAILABLE: "优惠券不可用（已使用、已锁定或已过期）",
  COUPON_NOT_APPLICABLE: "订单不满足该优惠券的使用条件",
  COUPON_NOT_FOUND: "优惠券不存在",
  COUPON_EXHAUSTED: "优惠券已被领完",
  COUPON_LIMIT_REACHED: "您已领取过该优惠券",
  NOT_CLAIMABLE: "优惠券不在领取时间内",
  INVALID_STATE: "订单当前状态不允许此操作",
  PAYMENT_UNAVAILABLE: "暂时无法发起支付，请稍后重试",
  TRADE_CLOSED: "该笔支付已关闭，请重新发起支付",
  IDEMPOTENCY_KEY_REUSED: "请求重复，请刷新后重试",
  TRY_AGAIN: "当前购买人数较多，请稍后重试",
  THROTTLED: "请求过于频繁，请稍后重试",
  INTERNAL_ERROR: "系统繁忙，请稍后重试",
  NOT_REFUNDABLE: "该门票已使用或已过期，不能退款",
  VALIDATION_ERROR: "填写的信息有误",
};

// The fields of an order form a VALIDATION_ERROR names (`details.field`, e.g. "visitors[1].id_number").
const FIELD_WORDS = {
  contact: "联系人", "contact.name": "联系人姓名", "contact.phone": "联系人手机号", visitors: "游客信息",
  name: "姓名", id_number: "证件号码", id_type: "证件类型", address: "收货地址", "address.recipient": "收件人",
  "address.phone": "收件人手机号", "address.region": "所在地区", "address.detail": "详细地址",
  fulfillment: "取货方式", items: "商品", quantity: "数量", code: "登录码",
};

export function fieldWords(field) {
  if (!field) return "";
  const visitor = /^visitors\[(\d+)\]\.(\w+)$/.exec(field);
  if (visitor) return `第 ${Number(visitor[1]) + 1} 位游客的${FIELD_WORDS[visitor[2]] || "信息"}`;
  return FIELD_WORDS[field] || FIELD_WORDS[field.split(/[.[]/)[0]] || "";
}

export function explainError(code, details = {}, message = "") {
  if (code === "VALIDATION_ERROR") {
    const field = fieldWords(details.field);
    return field ? `${field}填写有误，请检查` : ERROR_WORDS.VALIDATION_ERROR;
  }
  return ERROR_WORDS[code] || (/[\u4e00-\u9fff]/.test(message) ? message : "出错了，请稍后重试");
}
