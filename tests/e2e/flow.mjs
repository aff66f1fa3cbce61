// A subscriber's first visit, in headless Chromium, at a desktop and a phone size:
// try the blog on the front page without an account → create an account with that feed →
// see captions → copy one (and read the clipboard back) → edit one
// while watching its counter → save → mark it as posted → filter → add the same blog's
// other feed (refused, naming the one followed) → log out. Every page
// visited is scanned with axe-core; serious or critical findings fail the run.
//
// Started by tests/api/browser.rs with:
//   BASE_URL        the app under test
//   FEED_URL        a feed the app may fetch (served on loopback by the test)
//   TWIN_FEED_URL   the same blog's Atom feed, offered as already followed
//   SCREENSHOT_DIR  where each step's screenshot goes (target/e2e-screenshots)
// Debian's chromium is used as installed (.ci/install-browser); no browser is downloaded.
import { chromium } from "playwright-core";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import assert from "node:assert/strict";
import { check, CHROMIUM_ARGS } from "./check.mjs";

const BASE = process.env.BASE_URL;
const FEED = process.env.FEED_URL;
// The same blog's Atom feed, which the flow tries to add next to the RSS it follows.
const TWIN = process.env.TWIN_FEED_URL;
const SHOTS = process.env.SCREENSHOT_DIR || join(dirname(new URL(import.meta.url).pathname), "../../target/e2e-screenshots");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
if (!BASE || !FEED || !TWIN) {
  console.error("BASE_URL, FEED_URL and TWIN_FEED_URL must be set (tests/api/browser.rs sets them)");
  process.exit(2);
}
// Only this run's screenshots: the folder is what CI keeps.
rmSync(SHOTS, { recursive: true, force: true });
mkdirSync(SHOTS, { recursive: true });

const VIEWPORTS = [
  { name: "desktop", viewport: { width: 1280, height: 900 } },
  { name: "phone", viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
];

const findings = [];
// Every page's axe findings, whatever their impact, for the report file.
const scan = (page, label) => check(page, label, { findings });

async function run({ name, ...options }) {
  const profile = mkdtempSync(join(tmpdir(), "captionfeed-e2e-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    // axe is injected as a script; the app's Content-Security-Policy would refuse it.
    bypassCSP: true,
    // Not the machine's own (often UTC, the form's default): the settings must pick it up.
    timezoneId: "Europe/Berlin",
    ...options,
  });
  let step = 0;
  const shot = async (page, what, fullPage = true) => {
    step += 1;
    await page.screenshot({ path: join(SHOTS, `${name}-${String(step).padStart(2, "0")}-${what}.png`), fullPage });
  };
  try {
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: BASE });
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(15000);
    const email = `e2e-${name}-${Date.now()}@example.com`;

    // Try the blog without an account: real captions on the front page.
    await page.goto(`${BASE}/`);
    await scan(page, `${name} / (front page)`);
    await page.getByLabel("Your blog's address, or its feed's").fill(FEED);
    await shot(page, "try");
    await Promise.all([page.waitForURL(/\?url=/), page.getByRole("button", { name: "Show my captions" }).click()]);
    const tried = page.locator("textarea[id^=text-]");
    assert.ok(await tried.count() >= 7, "captions for each platform before any account exists");
    // Copy is the first thing a visitor clicks: the exact caption lands on the clipboard.
    const firstTried = page.locator(".tried section.caption").first();
    const triedText = await firstTried.locator("textarea").inputValue();
    await firstTried.getByRole("button", { name: "Copy" }).click();
    await assert.doesNotReject(firstTried.getByRole("button", { name: /Copied/ }).waitFor(), "Copy on the front page says it copied");
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), triedText, "the clipboard holds the front page's caption");
    await scan(page, `${name} /?url= (tried)`);
    await shot(page, "tried");

    // One click turns that into an account that already follows the feed.
    await Promise.all([page.waitForURL(/\/signup/), page.getByRole("button", { name: "Create an account with this feed" }).click()]);
    await scan(page, `${name} /signup?feed=`);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel(/^Password/).fill("correct horse battery");
    await shot(page, "signup");
    await Promise.all([page.waitForURL(/\/signup\/check-inbox/), page.getByRole("button", { name: /sign up/i }).click()]);
    // The same page whether or not the address had an account; then the person logs in.
    await scan(page, `${name} /signup/check-inbox`);
    await logIn(page, email);

    // The captions arrive once the poller has read the feed, without a reload.
    await assert.doesNotReject(page.locator("section[data-caption]").first().waitFor({ timeout: 30000 }),
      "the first captions show on the desk after sign-up without a reload");
    await scan(page, `${name} /captions`);
    await shot(page, "desk");

    // Copy, from the keyboard: the exact caption lands on the clipboard.
    const x = page.locator("section[data-platform=x]").first();
    const text = await x.locator("textarea").inputValue();
    assert.ok(text.length > 20, `an X caption with text, got ${JSON.stringify(text)}`);
    const copy = x.getByRole("button", { name: "Copy" });
    await copy.focus();
    await page.keyboard.press("Enter");
    await assert.doesNotReject(x.getByRole("button", { name: /Copied/ }).waitFor(), "the Copy button says it copied");
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), text, "the clipboard holds the exact caption");
    await shot(page, "copied", false);

    // Edit: the counter follows the typing, the server measures again on save.
    const count = x.locator("[data-count]");
    const before = await count.textContent();
    const [length, limit] = before.split("/").map(Number);
    assert.equal(limit, 280);
    // A caption shows its first lines; More opens it for the rest.
    await x.getByRole("button", { name: "More" }).click();
    await x.locator("[data-more][aria-expanded=true]").waitFor();
    await x.getByRole("link", { name: "Edit" }).click();
    const area = x.locator("textarea");
    assert.equal(await area.evaluate((a) => a.readOnly), false, "Edit opens the text for typing");
    await area.press("End");
    await area.pressSequentially(" Worth a read.");
    assert.equal(await count.textContent(), `${length + 14}/280`, "the counter counts what was typed");
    // Too long: the counter turns red and the server refuses, saying why.
    await area.fill("a".repeat(300));
    assert.equal(await count.textContent(), "300/280");
    assert.ok(await count.evaluate((c) => c.classList.contains("over")));
    await x.getByRole("button", { name: "Save" }).click();
    await x.getByRole("alert").filter({ hasText: "Too long for X: 300/280" }).waitFor();
    await shot(page, "edit-refused", false);
    const edited = `${text} Worth a read.`;
    await area.fill(edited);
    await shot(page, "editing", false);
    await x.getByRole("button", { name: "Save" }).click();
    await x.locator("[data-edited-badge]:not([hidden])").waitFor();
    assert.equal(await area.evaluate((a) => a.readOnly), true, "saving closes the editor");
    assert.equal(await count.textContent(), `${length + 14}/280`, "the server's count matches the live one");
    await shot(page, "saved", false);

    // Composer links: X opens with the caption exactly as edited (the link is rebuilt from
    // the new text), and coming back the caption offers "mark as posted". The platforms'
    // pages are answered locally: the test needs only the address the browser opened.
    await context.route(/^https:\/\/(x\.com|www\.linkedin\.com)\//, (route) =>
      route.fulfill({ status: 200, contentType: "text/html", body: "<!doctype html><title>compose</title>" }));
    const [composer] = await Promise.all([context.waitForEvent("page"), x.getByRole("link", { name: "Post on X" }).click()]);
    const opened = new URL(composer.url());
    assert.equal(`${opened.origin}${opened.pathname}`, "https://x.com/intent/tweet");
    assert.equal(opened.searchParams.get("text"), edited, "X's compose box gets the caption exactly");
    await composer.close();
    await x.locator("[data-compose-next]:not([hidden])").waitFor();
    await shot(page, "composer-opened", false);
    // LinkedIn takes only a link: the caption is copied first, and the link says so.
    const linkedin = page.locator("section[data-platform=linkedin]").first();
    const linkedinText = await linkedin.locator("textarea").inputValue();
    await linkedin.getByRole("button", { name: "More" }).click();
    assert.match(await linkedin.locator("[data-compose-note]").textContent(), /Copies the caption first/);
    const [shared] = await Promise.all([context.waitForEvent("page"), linkedin.getByRole("link", { name: "Share on LinkedIn" }).click()]);
    assert.ok(new URL(shared.url()).searchParams.get("url").startsWith("http"), "LinkedIn gets the post's link");
    await shared.close();
    await page.waitForFunction((want) => navigator.clipboard.readText().then((got) => got === want), linkedinText);
    await scan(page, `${name} /captions (composer opened)`);

    // Mark as posted.
    await x.getByRole("button", { name: "Mark as posted" }).click();
    await x.locator("[data-posted-badge]:not([hidden])").waitFor();
    await x.getByRole("button", { name: "Mark as not posted" }).waitFor();
    await shot(page, "posted", false);
    // What docs/screenshots shows: the desk as it first appears, one caption edited and posted.
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, "dashboard", false);

    // The edit and the status are stored: a fresh page shows them.
    await page.reload();
    const xAgain = page.locator("section[data-platform=x]").filter({ hasText: "Worth a read." });
    assert.equal(await xAgain.locator("textarea").inputValue(), edited);
    await xAgain.locator("[data-posted-badge]:not([hidden])").waitFor();

    // Keyboard shortcuts: j moves to a caption, ? lists the keys.
    await page.locator("body").click({ position: { x: 5, y: 5 } });
    await page.keyboard.press("j");
    assert.ok(await page.evaluate(() => document.activeElement?.matches("section[data-caption]")), "j focuses a caption");
    await page.keyboard.press("?");
    await page.locator("dialog#shortcuts[open]").waitFor();
    await scan(page, `${name} /captions (shortcuts)`);
    await page.keyboard.press("Escape");

    // Filters: plain GET forms.
    await page.getByLabel("Status").selectOption("posted");
    await Promise.all([page.waitForURL(/status=posted/), page.getByRole("button", { name: "Show" }).click()]);
    assert.equal(await page.locator("section[data-caption]").count(), 1, "one caption is posted");
    assert.equal(await page.locator("section[data-caption] textarea").inputValue(), edited);
    await scan(page, `${name} /captions?status=posted`);
    await shot(page, "filter-posted");
    await page.getByLabel("Status").selectOption("new");
    await page.getByLabel("Platform").selectOption("bluesky");
    await Promise.all([page.waitForURL(/platform=bluesky/), page.getByRole("button", { name: "Show" }).click()]);
    const platforms = await page.locator("section[data-caption]").evaluateAll((s) => s.map((e) => e.dataset.platform));
    assert.ok(platforms.length > 0 && platforms.every((p) => p === "bluesky"), `only Bluesky captions, got ${platforms}`);
    await shot(page, "filter-bluesky-new");

    // The editor page that browsers without JavaScript use.
    const editor = await page.locator("a[data-edit]").first().getAttribute("href");
    await page.goto(`${BASE}${editor}`);
    await scan(page, `${name} /captions/{id}/edit`);
    await shot(page, "edit-page");

    // The feed's page: its health, its captions and its settings; choosing platforms
    // there says what happened to the captions not used yet.
    await page.goto(`${BASE}/feeds`);
    await Promise.all([page.waitForURL(/\/feeds\/[^/]+$/), page.locator("a[href^='/feeds/']:not([href='/feeds/new'])").first().click()]);
    await scan(page, `${name} /feeds/{id}`);
    await page.getByRole("checkbox", { name: "Facebook" }).uncheck();
    await Promise.all([page.waitForURL(/saved=1/), page.getByRole("button", { name: "Save settings" }).click()]);
    assert.equal(await page.getByRole("checkbox", { name: "Facebook" }).isChecked(), false);
    assert.match(await page.locator("p.notice[role=status]").first().textContent(), /Settings saved/);
    await scan(page, `${name} /feeds/{id} saved`);
    await shot(page, "feed-settings-saved");

    // The same blog through another of its feeds (its Atom next to the RSS followed): refused
    // with the feed already followed, and the choice to follow this one too.
    await page.goto(`${BASE}/feeds/new`);
    await page.getByLabel(/Feed address/).fill(TWIN);
    await page.locator("form[action='/feeds'] button[type=submit]", { hasText: "Add feed" }).click();
    const refusal = page.getByRole("status").filter({ hasText: "You already follow this blog through" });
    await assert.doesNotReject(refusal.waitFor(), "the second feed of a followed blog is refused, naming the first");
    assert.match(await refusal.textContent(), /“Field Notes”/);
    await refusal.getByRole("link", { name: "Open it" }).waitFor();
    await page.getByRole("button", { name: "Follow this feed too" }).waitFor();
    await scan(page, `${name} /feeds (same blog)`);
    await shot(page, "same-blog");

    // Every other page a subscriber reaches from the menu, each with its empty state.
    for (const [path, what, heading] of [
      ["/feeds", "feeds", /Your feeds/],
      ["/feeds/new", "add-feed", /Add a feed/],
      ["/queue", "queue", /Posting queue/],
      ["/queue/plans/bluesky", "queue-plan", /Posting plan for Bluesky/],
      ["/share/mastodon?text=Hello%20%F0%9F%A6%80%20%2B%20%26", "mastodon-chooser", /Post on Mastodon/],
      ["/templates", "templates", /Caption templates/],
      ["/settings", "settings", /Settings/],
      ["/settings/tokens", "tokens", /API and caption feeds/],
      ["/settings/webhooks", "webhooks", /Webhooks/],
      ["/connections", "connections", /Connections/],
      ["/connections/mastodon", "connect-mastodon", /Connect Mastodon/],
      ["/import/opml", "import", /Import feeds/],
      ["/billing", "billing", /Billing/],
    ]) {
      const response = await page.goto(`${BASE}${path}`);
      assert.equal(response.status(), 200, `${path} answers`);
      assert.match(await page.locator("main h1").first().textContent(), heading, `${path} says what it is`);
      await scan(page, `${name} ${path}`);
      await shot(page, what);
    }

    // Until the address is confirmed, every signed-in page says so.
    assert.match(await page.locator("main .banner").textContent(), /Confirm your address/);

    // The time zone is a list, and one never saved starts as the browser's own.
    await page.goto(`${BASE}/settings`);
    assert.equal(await page.locator("select#time_zone").inputValue(), "Europe/Berlin", "the browser's zone is preselected");

    // An OPML import is reviewed by title, each feed a checkbox; a dead address is not a feed.
    await page.goto(`${BASE}/import/opml`);
    const opml = `<?xml version="1.0"?><opml version="2.0"><head><title>reader</title></head><body>
      <outline text="Field Notes" xmlUrl="${FEED}"/>
      <outline text="A blog that moved away, with a long title that has to wrap on a phone" xmlUrl="${new URL("/gone-for-good/feed.xml", FEED)}"/></body></opml>`;
    await page.getByLabel("OPML").fill(opml);
    await Promise.all([page.waitForURL(/\/import\/opml$/), page.getByRole("button", { name: "Read the list" }).click()]);
    assert.equal(await page.getByRole("checkbox").count(), 2, "one checkbox per feed");
    assert.equal(await page.getByRole("checkbox", { name: /Field Notes/ }).isChecked(), true);
    await scan(page, `${name} /import/opml (review)`);
    await shot(page, "import-review");
    await Promise.all([page.waitForURL(/\/import\/opml\/confirm$/), page.getByRole("button", { name: "Follow the ticked feeds" }).click()]);
    assert.match(await page.locator("main").textContent(), /not a feed: This address answers HTTP 404/);
    await scan(page, `${name} /import/opml/confirm`);
    await shot(page, "import-result");

    // Log out.
    await Promise.all([page.waitForURL((u) => !u.pathname.startsWith("/captions")), page.getByRole("button", { name: "Log out" }).click()]);
    await page.goto(`${BASE}/captions`);
    assert.match(page.url(), /\/login/, "after logging out the desk asks to log in");
    await scan(page, `${name} /login`);
    await shot(page, "logged-out");
    console.log(`ok - ${name} (${options.viewport.width}×${options.viewport.height}): ${step} screenshots`);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

// Logs in from the page sign-up lands on (its link to the login form).
async function logIn(page, email) {
  await Promise.all([page.waitForURL(/\/login/), page.getByRole("link", { name: "Log in" }).first().click()]);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel(/^Password/).fill("correct horse battery");
  await Promise.all([page.waitForURL(/\/captions/), page.getByRole("button", { name: "Log in" }).click()]);
}

// Without JavaScript the desk is plain links and forms: edit on a page of its own, mark as
// posted with a form, filter with a GET form.
async function runWithoutJavaScript() {
  const name = "nojs";
  const profile = mkdtempSync(join(tmpdir(), "captionfeed-e2e-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    javaScriptEnabled: false,
    viewport: { width: 1024, height: 800 },
  });
  try {
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(15000);
    const email = `e2e-${name}-${Date.now()}@example.com`;
    await page.goto(`${BASE}/signup`);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel(/^Password/).fill("correct horse battery");
    await Promise.all([page.waitForURL(/\/signup\/check-inbox/), page.getByRole("button", { name: /sign up/i }).click()]);
    await logIn(page, email);
    await page.goto(`${BASE}/feeds/new`);
    await page.getByLabel(/Feed address/).fill(FEED);
    await Promise.all([page.waitForURL(/\/feeds\/[^/]+$/), page.locator("form[action='/feeds'] button[type=submit]").click()]);
    const deadline = Date.now() + 30000;
    for (;;) {
      await page.goto(`${BASE}/captions`);
      if (await page.locator("section[data-caption]").count() > 0) break;
      assert.ok(Date.now() < deadline, "no captions on /captions 30 s after adding the feed");
      await page.waitForTimeout(500);
    }
    const x = page.locator("section[data-platform=x]").first();
    assert.equal(await x.getByRole("button", { name: "Copy" }).count(), 0, "no Copy button that cannot work");
    await Promise.all([page.waitForURL(/\/edit/), x.getByRole("link", { name: "Edit" }).click()]);
    await page.getByLabel("Caption text").fill("Written without JavaScript https://fieldnotes.dev/");
    await page.screenshot({ path: join(SHOTS, `${name}-01-edit-page.png`), fullPage: true });
    await Promise.all([page.waitForURL(/\/captions(\?|#|$)/), page.getByRole("button", { name: "Save" }).click()]);
    const mine = page.locator("section[data-caption]").filter({ hasText: "Written without JavaScript" });
    assert.equal(await mine.locator("[data-count]").textContent(), "50/280", "27 + a link as 23");
    await Promise.all([page.waitForNavigation(), mine.getByRole("button", { name: "Mark as posted" }).click()]);
    await page.goto(`${BASE}/captions?status=posted`);
    assert.equal(await page.locator("section[data-caption]").count(), 1);
    await page.screenshot({ path: join(SHOTS, `${name}-02-posted.png`), fullPage: true });
    console.log(`ok - ${name}: edit page, save, mark as posted, filter`);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

let failed = 0;
for (const [label, flow] of [...VIEWPORTS.map((v) => [v.name, () => run(v)]), ["nojs", runWithoutJavaScript]]) {
  try {
    await flow();
  } catch (error) {
    failed += 1;
    console.error(`not ok - ${label}: ${error.stack || error}`);
  }
}
writeFileSync(join(SHOTS, "axe-findings.json"), JSON.stringify(findings, null, 2));
const minor = findings.length;
console.log(`axe: ${minor} finding(s) of any impact (details in ${join(SHOTS, "axe-findings.json")})`);
process.exit(failed ? 1 : 0);
