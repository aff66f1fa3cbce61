// Runs the desk's live counter (assets/app.js `measure`) outside a browser, on the samples
// given as JSON on stdin ([[platform, text], ...]), and prints the lengths as a JSON array.
// tests/api/browser.rs compares them with the server's counter.
import { readFileSync } from "node:fs";
import vm from "node:vm";

const script = readFileSync(new URL("../../assets/app.js", import.meta.url), "utf8");
// app.js wires itself to the page on load; these stand-ins let it load without one.
const page = {
  document: {
    addEventListener() {},
    readyState: "complete",
    querySelectorAll: () => [],
    querySelector: () => null,
    documentElement: { classList: { add() {} } },
  },
  Intl,
  TextEncoder,
  setTimeout,
};
vm.createContext(page);
vm.runInContext(`${script}\nthis.measure = measure;`, page);
const samples = JSON.parse(readFileSync(0, "utf8"));
console.log(JSON.stringify(samples.map(([platform, text]) => page.measure(platform, text))));
