// Runs one package's README example (?package=<name>) with console.log captured the way
// packages/physmem/test/readme.test.ts captures it in Node (objects as JSON, arguments joined by a
// space), then publishes { printed } or { error } as window.readmeResult for the test to read.
const name = new URLSearchParams(location.search).get("package");
const printed = [];
const log = console.log;
console.log = (...args) => {
  printed.push(args.map((a) => (typeof a === "object" ? JSON.stringify(a) : String(a))).join(" "));
};
try {
  if (name === null || !/^[a-z0-9-]+$/.test(name)) throw new Error(`bad ?package= ${JSON.stringify(name)}`);
  await import(`/examples/${name}.js`);
  window.readmeResult = { printed };
} catch (e) {
  window.readmeResult = { printed, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
} finally {
  console.log = log;
}
