// The order form's rules that need no page: what it sends to POST /orders (and /orders/quote), and
// what is still missing before it can. Pure (tests/js/shop-order-form.test.mjs).

const PHONE = /^1\d{10}$/;
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = "10X98765432";

// A mainland resident ID (居民身份证): 18 characters whose last is the check digit of the others.
export function validResidentId(text) {
  const id = String(text || "").trim().toUpperCase();
  if (!/^\d{17}[\dX]$/.test(id)) return false;
  const sum = WEIGHTS.reduce((total, weight, i) => total + weight * Number(id[i]), 0);
  return CHECK[sum % 11] === id[17];
}

export const validPhone = (text) => PHONE.test(String(text || "").trim());

// The request body from what the form holds:
// {sku_id, quantity, realName, visitors:[{name,id_type,id_number}], contact:{name,phone},
//  fulfillment?, address?, coupon_id?}
export function orderBody(form) {
  const body = { items: [{ sku_id: form.sku_id, quantity: form.quantity }],
                 contact: { name: form.contact.name.trim(), phone: form.contact.phone.trim() } };
  if (form.realName) {
    body.visitors = form.visitors.slice(0, form.quantity).map((v) => ({
      name: v.name.trim(), id_type: v.id_type || "id_card", id_number: v.id_number.trim().toUpperCase() }));
  }
  if (form.fulfillment) body.fulfillment = form.fulfillment;
  if (form.fulfillment === "shipping") {
    const a = form.address;
    body.address = { recipient: a.recipient.trim(), phone: a.phone.trim(), region: a.region.trim(), detail: a.detail.trim() };
  }
  if (form.coupon_id) body.coupon_id = form.coupon_id;
  return body;
}

// What the visitor still has to fill in, in their words; empty when the form can be sent.
export function missing(form) {
  const problems = [];
  if (form.realName) {
    for (let i = 0; i < form.quantity; i += 1) {
      const v = form.visitors[i] || { name: "", id_number: "" };
      if (!v.name.trim()) problems.push(`第 ${i + 1} 位游客的姓名`);
      if (!v.id_number.trim()) problems.push(`第 ${i + 1} 位游客的证件号码`);
      else if ((v.id_type || "id_card") === "id_card" && !validResidentId(v.id_number)) {
        problems.push(`第 ${i + 1} 位游客的身份证号码（18 位，末位校验码）`);
      }
    }
  }
  if (!form.contact.name.trim()) problems.push("联系人姓名");
  if (!validPhone(form.contact.phone)) problems.push("联系人手机号（11 位）");
  if (form.fulfillment === "shipping") {
    const a = form.address;
    if (!a.recipient.trim()) problems.push("收件人");
    if (!validPhone(a.phone)) problems.push("收件人手机号");
    if (!a.region.trim()) problems.push("所在地区");
    if (!a.detail.trim()) problems.push("详细地址");
  }
  return problems;
}
