// A digest's HTML part in headless Chromium, at a phone's and a desktop's width: nothing
// may be wider than a 390-px screen (long links, addresses and titles included), and the
// body must not run past 600 px on a desktop. Prints `height <name> <px>` per size.
//
// Started by tests/api/browser.rs with DIGEST_HTML (a file), SCREENSHOT_DIR and CHROMIUM.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import assert from "node:assert/strict";

const { DIGEST_HTML: FILE, SCREENSHOT_DIR: SHOTS } = process.env;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
if (!FILE || !SHOTS) {
  console.error("DIGEST_HTML and SCREENSHOT_DIR must be set (tests/api/browser.rs sets them)");
  process.exit(2);
}
mkdirSync(SHOTS, { recursive: true });

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
let failed = 0;
for (const { name, width, height } of [{ name: "phone", width: 390, height: 844 }, { name: "desktop", width: 1280, height: 900 }]) {
  const page = await browser.newPage({ viewport: { width, height } });
  try {
    await page.goto(pathToFileURL(FILE).href);
    const measured = await page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      const wide = [...document.querySelectorAll("body *")].filter((e) => e.getBoundingClientRect().right > width + 0.5)
        .slice(0, 5).map((e) => `${e.tagName.toLowerCase()} ${Math.round(e.getBoundingClientRect().width)} px: ${e.textContent.slice(0, 60)}`);
      const card = document.querySelector("table table");
      return { width, scrollWidth: document.documentElement.scrollWidth, wide, card: card ? card.getBoundingClientRect().width : 0, height: document.documentElement.scrollHeight };
    });
    console.log(`height ${name} ${measured.height}`);
    await page.screenshot({ path: join(SHOTS, `digest-${name}.png`), fullPage: true });
    assert.ok(measured.wide.length === 0 && measured.scrollWidth <= measured.width,
      `wider than the ${measured.width}-px screen (page ${measured.scrollWidth} px): ${measured.wide.join(" | ")}`);
    assert.ok(measured.card <= 600, `the digest is ${measured.card} px wide, over 600`);
    console.log(`ok - ${name}`);
  } catch (error) {
    failed += 1;
    console.error(`not ok - ${name}: ${error.stack || error}`);
  } finally {
    await page.close();
  }
}
await browser.close();
process.exit(failed ? 1 : 0);
