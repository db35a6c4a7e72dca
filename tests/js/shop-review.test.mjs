// Review of the shop's pure parts and its API client (chalicelib/shop/assets): a hash a visitor (or a
// link someone sent them) can open never breaks the page, a value from the hash never climbs out of
// the API path it is put in, and the API is found under any stage or base path.
import assert from "node:assert/strict";
import { test } from "node:test";

const ASSETS = "../../chalicelib/shop/assets/";

// api.js reads the page's address when loaded and calls fetch and localStorage: a fresh copy of the
// module per address, with those stood in for.
async function apiAt(pathname) {
  const sent = [];
  globalThis.location = { pathname };
  globalThis.localStorage = { getItem: () => null, setItem: () => {}, removeItem: () => {} };
  globalThis.fetch = async (url, init) => {
    sent.push({ url, method: init.method });
    return { ok: true, status: 200, text: async () => "{}" };
  };
  const api = await import(`${ASSETS}api.js?at=${encodeURIComponent(pathname)}`);
  return { api, sent };
}

test("a hash with a broken percent escape opens a page instead of stopping the shop", async () => {
  const { parse } = await import(`${ASSETS}hash.js`);
  const found = parse("#/order/%E0%A4%A");
  assert.equal(found.name, "order");
  assert.equal(found.args.length, 1);
  assert.deepEqual(parse("#/order/O%2F1?x=1").args, ["O/1"]);
  assert.equal(parse("#/tickets/A1?ticket=T%zz").query.get("ticket"), "T%zz");
  assert.deepEqual(parse(""), { name: "", args: [], query: new URLSearchParams() });
});

test("an id of . or .. from the hash never reaches another API path", async () => {
  const { api, sent } = await apiAt("/api/shop/");
  for (const id of ["..", "."]) {
    await assert.rejects(api.get(`/orders/${encodeURIComponent(id)}`), (e) => e instanceof api.ApiError && e.status === 404);
    await assert.rejects(api.post(`/orders/${encodeURIComponent(id)}/refunds`, {}),
                         (e) => e instanceof api.ApiError && e.status === 404);
  }
  assert.deepEqual(sent, []);
  await api.get(`/orders/${encodeURIComponent("../x")}`);          // a slash is encoded: stays one segment
  await api.get(`/orders/${encodeURIComponent("%2e%2e")}`);        // an escape is escaped in turn
  await api.get("/catalog/products?limit=200");
  assert.deepEqual(sent.map((s) => s.url),
                   ["/api/orders/..%2Fx", "/api/orders/%252e%252e", "/api/catalog/products?limit=200"]);
});

test("the API is found under a stage or base path that itself contains /shop", async () => {
  for (const [pathname, base] of [["/shop/", ""], ["/api/shop/", "/api"], ["/shop-prod/shop/", "/shop-prod"],
                                  ["/shop/shop/", "/shop"], ["/v1/shopfront/shop/", "/v1/shopfront"]]) {
    const { api } = await apiAt(pathname);
    assert.equal(api.BASE, base, pathname);
  }
});
