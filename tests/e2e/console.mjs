// The operator's console in headless Chromium at 1280×900 and 390×844: the password
// confirmation, the business, system health and its rows, an account, the audit log, and
// the subscriber's "Your data" page. Each page is scanned with axe-core (a serious or
// critical finding fails) and, on the phone, nothing may reach past the screen's right
// edge. Prints `ok - <size>` per size.
//
// Started by tests/api/browser.rs with BASE_URL, OPERATOR, SUBSCRIBER, PASSWORD,
// SCREENSHOT_DIR and CHROMIUM.
import { chromium } from "playwright-core";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { check, CHROMIUM_ARGS } from "./check.mjs";

const { BASE_URL: BASE, OPERATOR, SUBSCRIBER, PASSWORD, SCREENSHOT_DIR: SHOTS } = process.env;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
if (!BASE || !OPERATOR || !SUBSCRIBER || !PASSWORD || !SHOTS) {
  console.error("BASE_URL, OPERATOR, SUBSCRIBER, PASSWORD and SCREENSHOT_DIR must be set (tests/api/browser.rs sets them)");
  process.exit(2);
}
mkdirSync(SHOTS, { recursive: true });

const SIZES = [
  { name: "desktop", viewport: { width: 1280, height: 900 } },
  { name: "phone", viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 },
];
const findings = [];
const scan = (page, label) => check(page, label, { findings });

async function logIn(page, email) {
  await page.goto(`${BASE}/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel(/^Password/).fill(PASSWORD);
  await Promise.all([page.waitForURL(/\/captions/), page.getByRole("button", { name: /log in/i }).click()]);
}

let failed = 0;
for (const { name, ...options } of SIZES) {
  const profile = mkdtempSync(join(tmpdir(), "captionfeed-console-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    // axe is injected as a script; the app's Content-Security-Policy would refuse it.
    bypassCSP: true,
    ...options,
  });
  try {
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(15000);
    await logIn(page, OPERATOR);
    await page.goto(`${BASE}/admin`);
    assert.match(page.url(), /\/admin\/confirm\?next=%2Fadmin$/, "the console asks for the password first");
    await scan(page, `${name} confirm`);
    await page.screenshot({ path: join(SHOTS, `console-${name}-confirm.png`), fullPage: true });
    await page.getByLabel("Password").fill(PASSWORD);
    await Promise.all([page.waitForURL(/\/admin$/), page.getByRole("button", { name: /open the console/i }).click()]);
    const pages = [
      ["business", "/admin"],
      ["health", "/admin/health"],
      ["failing-feeds", "/admin/health/feeds"],
      ["mail", "/admin/health/mail"],
      ["account", `/admin/accounts?email=${encodeURIComponent(SUBSCRIBER)}`],
      ["audit", "/admin/audit"],
      ["your-data", "/settings/account"],
    ];
    for (const [label, path] of pages) {
      const answer = await page.goto(`${BASE}${path}`);
      assert.equal(answer.status(), 200, `${path} answers`);
      await scan(page, `${name} ${label}`);
      await page.screenshot({ path: join(SHOTS, `console-${name}-${label}.png`), fullPage: true });
    }
    // The charts are drawn without script: present with JavaScript's output ignored.
    await page.goto(`${BASE}/admin`);
    assert.ok(await page.locator("svg.chart rect.bar").count() > 30, "bars on the business page");
    console.log(`ok - ${name}`);
  } catch (e) {
    failed += 1;
    console.error(`not ok - ${name}: ${e.stack || e}`);
  } finally {
    await context.close();
  }
}
writeFileSync(join(SHOTS, "console-axe-findings.json"), JSON.stringify(findings, null, 2));
console.log(`axe: ${findings.length} finding(s) of any impact`);
process.exit(failed ? 1 : 0);
