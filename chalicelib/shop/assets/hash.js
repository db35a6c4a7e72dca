// The shop's address: #/<name>/<arg>...?<query>. Pure (tests/js/shop-review.test.mjs). A segment
// that is not valid percent-encoding (a mangled link) is taken as it is rather than stopping the shop.
const decoded = (segment) => {
  try { return decodeURIComponent(segment); } catch (e) { return segment; }
};

export function parse(hash) {
  const [path, search = ""] = hash.replace(/^#\/?/, "").split("?");
  const [name = "", ...args] = path.split("/").filter(Boolean).map(decoded);
  return { name, args, query: new URLSearchParams(search) };
}
