// The copy desk, improved: copy buttons, inline editing with a live counter, "mark as
// posted" without a reload, keyboard shortcuts. Every action here is also a plain link or
// form that works without JavaScript; this file only saves round trips.
"use strict";

// The stylesheet shows each desk caption in full until this runs: without JavaScript
// nothing could open a folded one.
document.documentElement.classList.add("js");

// ---- Counting, as the server does it (approximately: the server measures again on save).

const SHORT_URL = 23;
// http(s) links, and for X also bare domains with a common top-level domain (twitter-text
// links those too). Trailing punctuation is not part of a link.
const HTTP_URL = /https?:\/\/[^\s<>"']+/giu;
const BARE_DOMAIN = /(?<![\w@.\/-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:com|org|net|io|dev|co|app|blog|me|info|ai|xyz|uk|de|fr|ca|au|us|eu|nl|es|it|jp|ly|tv|gg)\b(?:\/[^\s<>"']*)?/giu;
const TRAILING = /[.,;:!?)\]}'"»”’]+$/u;
const EMOJI = /\p{Extended_Pictographic}|\p{Regional_Indicator}/u;
const segmenter = typeof Intl !== "undefined" && Intl.Segmenter
  ? new Intl.Segmenter(undefined, { granularity: "grapheme" })
  : null;

function graphemes(text) {
  if (!segmenter) return Array.from(text);
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

// Replaces each link by a placeholder and says how many there were.
function withoutLinks(text, bareDomains) {
  let count = 0;
  const cut = (match) => {
    const tail = match.match(TRAILING);
    // Reserved names (RFC 2606) are no top-level domain: the platforms do not link them.
    const host = match.replace(/^https?:\/\//i, "").split(/[/?#:]/)[0].toLowerCase();
    if (/\.(example|test|invalid|localhost|local)\.?$/.test(host) || !host.includes(".")) return match;
    count += 1;
    return "\u0000" + (tail ? tail[0] : "");
  };
  let rest = text.replace(HTTP_URL, cut);
  if (bareDomains) rest = rest.replace(BARE_DOMAIN, cut);
  return { rest: rest.replaceAll("\u0000", ""), links: count };
}

function xWeight(ch) {
  const c = ch.codePointAt(0);
  if (c <= 0x10ff || (c >= 0x2000 && c <= 0x200d) || (c >= 0x2010 && c <= 0x201f) ||
      (c >= 0x2032 && c <= 0x2037)) return 1;
  return 2;
}

function utf8Length(text) {
  return new TextEncoder().encode(text).length;
}

function measure(platform, text) {
  switch (platform) {
    case "x": {
      const { rest, links } = withoutLinks(text.normalize("NFC"), true);
      let total = links * SHORT_URL;
      for (const g of graphemes(rest)) {
        total += EMOJI.test(g) ? 2 : Array.from(g).reduce((n, ch) => n + xWeight(ch), 0);
      }
      return total;
    }
    case "mastodon": {
      const { rest, links } = withoutLinks(text, false);
      // A remote mention counts only as @user.
      const local = rest.replace(/(^|[^\w/])(@\w+)@[a-z0-9.-]*[a-z0-9]/giu, "$1$2");
      return links * SHORT_URL + Array.from(local).length;
    }
    case "bluesky":
      return graphemes(text).length;
    case "threads":
      return graphemes(text).reduce((n, g) => n + (EMOJI.test(g) ? utf8Length(g) : Array.from(g).length), 0);
    default:
      return Array.from(text).length;
  }
}

// The text as the server stores it: trimmed, with \n line ends.
function normalized(text) {
  return text.replace(/\r\n?/g, "\n").trim();
}

function updateCount(block, text) {
  const count = block.querySelector("[data-count]");
  if (!count) return;
  const limit = Number(block.dataset.limit);
  const length = measure(block.dataset.platform, normalized(text));
  count.textContent = `${length}/${limit}`;
  count.classList.toggle("over", length > limit);
}

// ---- Small helpers.

function announce(message) {
  let region = document.getElementById("announce");
  if (!region) {
    region = document.createElement("p");
    region.id = "announce";
    region.className = "visually-hidden";
    region.setAttribute("aria-live", "polite");
    document.body.append(region);
  }
  region.textContent = "";
  // A new text node each time, so the same message is read twice in a row.
  setTimeout(() => { region.textContent = message; }, 30);
}

async function sendForm(form) {
  const response = await fetch(form.action, {
    method: "POST",
    body: new URLSearchParams(new FormData(form)),
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  });
  let body = null;
  try { body = await response.json(); } catch (_) { /* an error page: no JSON */ }
  return { ok: response.ok, status: response.status, body };
}

function blockOf(element) {
  return element && element.closest ? element.closest("[data-caption]") : null;
}

// ---- Copy.

// The button names its text field (data-copy) and its label (aria-describedby), so Copy
// works wherever a caption is shown: the desk, a feed's page, the front page's try-it.
async function copyCaption(button) {
  const area = button && document.getElementById(button.dataset.copy);
  if (!area) return;
  const label = "Copy";
  const name = document.getElementById(button.getAttribute("aria-describedby") || "")?.textContent || "The";
  try {
    await navigator.clipboard.writeText(area.value);
    button.textContent = "Copied ✓";
    announce(`${name} caption copied`);
  } catch (_) {
    area.focus();
    area.select();
    button.textContent = "Press Ctrl+C";
  }
  button.classList.add("copied");
  clearTimeout(button._reset);
  button._reset = setTimeout(() => { button.textContent = label; button.classList.remove("copied"); }, 2000);
}

// ---- Composer links: the platform's compose box with the caption in it.

// A caption edited in place has a new text: the link is built again from it (the server
// built it from the saved text). LinkedIn and Facebook take only a link, so the caption is
// copied first, and the link says so. Back on the desk, the caption offers "mark as posted".
function openComposer(link) {
  const area = document.getElementById(link.dataset.copy);
  if (area && link.dataset.composeBase !== undefined) {
    link.href = link.dataset.composeBase + encodeURIComponent(area.value);
  }
  if (area && link.hasAttribute("data-compose-copy")) {
    navigator.clipboard?.writeText(area.value).then(
      () => announce("Caption copied: paste it into the post"),
      () => announce("Copy the caption, then paste it into the post"),
    );
  }
  const block = blockOf(link);
  if (block && block.querySelector("form.status-form") && !block.classList.contains("is-posted")) {
    setOpen(block, true);
    show(block, "[data-compose-next]", true);
    block.querySelector("[data-status-button]")?.classList.add("suggested");
  }
}

// ---- Opening a caption: its whole text and its buttons.

function setOpen(block, open) {
  if (!block || !block.classList.contains("chip")) return;
  block.classList.toggle("open", open);
  const more = block.querySelector("[data-more]");
  if (more) more.setAttribute("aria-expanded", String(open));
}

// ---- Editing in place.

function show(block, selector, visible) {
  const element = block.querySelector(selector);
  if (element) element.hidden = !visible;
}

function startEditing(block) {
  const area = block.querySelector("textarea");
  if (!area || !block.querySelector("[data-save]")) return;
  setOpen(block, true);
  if (area.readOnly) {
    area.dataset.saved = area.value;
    area.readOnly = false;
    block.classList.add("editing");
    show(block, "[data-edit]", false);
    show(block, "[data-save]", true);
    show(block, "[data-cancel]", true);
  }
  area.focus();
  area.setSelectionRange(area.value.length, area.value.length);
}

function stopEditing(block, text) {
  const area = block.querySelector("textarea");
  area.value = text;
  area.readOnly = true;
  block.classList.remove("editing");
  show(block, "[data-edit]", true);
  show(block, "[data-save]", false);
  show(block, "[data-cancel]", false);
  show(block, "[data-edit-error]", false);
}

function cancelEditing(block) {
  const area = block.querySelector("textarea");
  stopEditing(block, area.dataset.saved ?? area.value);
  updateCount(block, area.value);
  block.querySelector("[data-edit]")?.focus();
}

async function saveEdit(block) {
  const form = block.querySelector("form.edit-form");
  const error = block.querySelector("[data-edit-error]");
  const save = block.querySelector("[data-save]");
  save.disabled = true;
  try {
    const { ok, body } = await sendForm(form);
    if (ok && body) {
      stopEditing(block, body.text);
      const count = block.querySelector("[data-count]");
      count.textContent = `${body.length}/${body.limit}`;
      count.classList.toggle("over", body.length > body.limit);
      show(block, "[data-edited-badge]", body.edited);
      announce("Caption saved");
      block.querySelector("[data-edit]")?.focus();
    } else {
      error.textContent = (body && body.error) || "The caption could not be saved. Reload the page and try again.";
      error.hidden = false;
    }
  } catch (_) {
    error.textContent = "The caption could not be saved: the server did not answer. Try again.";
    error.hidden = false;
  } finally {
    save.disabled = false;
  }
}

// ---- Posted or not.

async function toggleStatus(block) {
  const form = block.querySelector("form.status-form");
  if (!form) return;
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const { ok, body } = await sendForm(form);
    if (!ok || !body) {
      form.submit();
      return;
    }
    const posted = body.status === "posted";
    block.classList.toggle("is-posted", posted);
    show(block, "[data-posted-badge]", posted);
    show(block, "[data-compose-next]", false);
    button.classList.remove("suggested");
    const at = block.querySelector("[data-posted-at]");
    if (at) at.textContent = body.posted_at || "";
    form.querySelector("input[name=status]").value = posted ? "new" : "posted";
    button.textContent = posted ? "Mark as not posted" : "Mark as posted";
    announce(posted ? "Marked as posted" : "Marked as not posted");
    adjustNewCount(posted ? -1 : 1);
  } catch (_) {
    form.submit();
  } finally {
    button.disabled = false;
  }
}

function adjustNewCount(delta) {
  const line = document.getElementById("new-count");
  if (!line) return;
  const match = line.textContent.match(/^(\d+)/);
  const now = Math.max(0, (match ? Number(match[1]) : 0) + delta);
  line.textContent = now === 0 ? "Nothing waiting to be posted."
    : now === 1 ? "1 caption waiting to be posted."
    : `${now} captions waiting to be posted.`;
}

// ---- Wiring.

function enhance() {
  for (const button of document.querySelectorAll("button.copy[hidden]")) button.hidden = false;
  for (const note of document.querySelectorAll("[data-compose-note]")) {
    note.textContent = "Copies the caption first: paste it there.";
  }
  for (const button of document.querySelectorAll("[data-shortcuts-open], [data-focus-mode], [data-more][hidden]")) button.hidden = false;
  const awaiting = document.querySelector("[data-awaiting-captions]");
  if (awaiting) awaitCaptions();
  // The editor page: its counter follows the typing too.
  for (const area of document.querySelectorAll("textarea[data-live-count]")) {
    updateCount(blockOf(area), area.value);
  }
}

document.addEventListener("click", (event) => {
  const target = event.target instanceof Element ? event.target : null;
  if (!target) return;
  const copy = target.closest("button.copy");
  if (copy) { copyCaption(copy); return; }
  const compose = target.closest("a[data-compose]");
  if (compose) { openComposer(compose); return; }
  const edit = target.closest("a[data-edit]");
  if (edit && blockOf(edit)?.querySelector("[data-save]")) {
    event.preventDefault();
    startEditing(blockOf(edit));
    return;
  }
  const more = target.closest("[data-more]");
  if (more) { setOpen(blockOf(more), !blockOf(more).classList.contains("open")); return; }
  // A folded caption's text opens it.
  if (target instanceof HTMLTextAreaElement && target.readOnly && blockOf(target)?.matches(".chip:not(.open)")) {
    setOpen(blockOf(target), true);
    return;
  }
  const cancel = target.closest("[data-cancel]");
  if (cancel) { cancelEditing(blockOf(cancel)); return; }
  if (target.closest("[data-shortcuts-open]")) document.getElementById("shortcuts")?.showModal();
  if (target.closest("[data-focus-mode]")) enterFocus();
});

document.addEventListener("submit", (event) => {
  const form = event.target;
  const block = blockOf(form);
  if (!block || !window.fetch) return;
  if (form.classList.contains("edit-form")) {
    event.preventDefault();
    saveEdit(block);
  } else if (form.classList.contains("status-form")) {
    event.preventDefault();
    toggleStatus(block);
  }
});

document.addEventListener("input", (event) => {
  const area = event.target;
  if (area instanceof HTMLTextAreaElement) {
    const block = blockOf(area);
    if (block) updateCount(block, area.value);
  }
});

// Posts without a fetched image yet: no broken picture.
document.addEventListener("error", (event) => {
  const img = event.target;
  if (img instanceof HTMLImageElement && img.matches(".post-thumb")) img.hidden = true;
}, true);

// ---- The first captions, right after sign-up: the feed is being read while the empty
// desk shows. The desk answers from its stored page while nothing changed, so asking
// every two seconds costs the server almost nothing; the page is swapped in once it
// holds captions (for two minutes at most, then the message asks for a reload).
async function awaitCaptions() {
  const until = Date.now() + 120000;
  while (Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    try {
      const response = await fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!response.ok) continue;
      const next = new DOMParser().parseFromString(await response.text(), "text/html");
      if (!next.querySelector("section[data-caption]")) continue;
      const main = document.getElementById("main");
      const fresh = next.getElementById("main");
      if (!main || !fresh) { location.reload(); return; }
      main.replaceChildren(...fresh.childNodes);
      enhance();
      announce("Your first captions are here");
      return;
    } catch (_) { /* the server did not answer: ask again */ }
  }
  const awaiting = document.querySelector("[data-awaiting-captions]");
  if (awaiting) awaiting.textContent += " Reload the page to see them.";
}

function isTyping(element) {
  if (!element) return false;
  if (element.isContentEditable) return true;
  if (element instanceof HTMLTextAreaElement) return !element.readOnly;
  if (element instanceof HTMLInputElement) {
    return !["button", "submit", "checkbox", "radio", "reset"].includes(element.type);
  }
  return element instanceof HTMLSelectElement;
}

function captionBlocks() {
  return Array.from(document.querySelectorAll("section[data-caption]"));
}

let current = null;

function currentBlock() {
  return blockOf(document.activeElement) || current;
}

function moveTo(step) {
  const blocks = captionBlocks();
  if (blocks.length === 0) return;
  const at = blocks.indexOf(currentBlock());
  const next = at === -1 ? (step > 0 ? 0 : blocks.length - 1)
    : Math.min(blocks.length - 1, Math.max(0, at + step));
  current = blocks[next];
  current.focus({ preventScroll: true });
  current.scrollIntoView({ block: "nearest", behavior: "smooth" });
}

// ---- Focus mode: the waiting captions one at a time, from the keyboard. The current one
// is open and centred, the others dimmed; c copies, p marks it posted and moves on, n/j
// and k move, Esc leaves.

let focusMode = false;

function waitingBlocks() {
  return captionBlocks().filter((b) => !b.classList.contains("is-posted"));
}

function focusBar() {
  let bar = document.getElementById("focus-bar");
  if (!bar) {
    bar = document.createElement("p");
    bar.id = "focus-bar";
    bar.className = "focus-bar";
    bar.setAttribute("role", "status");
    document.getElementById("main")?.prepend(bar);
  }
  return bar;
}

function focusOn(block) {
  for (const b of document.querySelectorAll(".chip.focused")) {
    b.classList.remove("focused");
    setOpen(b, false);
  }
  if (!block) {
    leaveFocus("No caption is waiting on this page.");
    return;
  }
  block.classList.add("focused");
  setOpen(block, true);
  current = block;
  block.focus({ preventScroll: true });
  block.scrollIntoView({ block: "center" });
  const waiting = waitingBlocks();
  const name = block.querySelector("h3")?.textContent || "";
  focusBar().textContent = `Focus: ${name}, ${waiting.indexOf(block) + 1} of ${waiting.length} waiting here. c copy · p posted, next · n next · k back · Esc leave`;
}

// The next waiting caption after (or before) `from` in page order.
function waitingFrom(from, step) {
  const all = captionBlocks();
  let at = all.indexOf(from);
  for (;;) {
    at += step;
    if (at < 0 || at >= all.length) return null;
    if (!all[at].classList.contains("is-posted")) return all[at];
  }
}

function enterFocus() {
  const start = current && !current.classList.contains("is-posted") ? current : waitingBlocks()[0];
  focusMode = true;
  document.body.classList.add("focus-mode");
  focusOn(start || null);
}

function leaveFocus(message) {
  focusMode = false;
  document.body.classList.remove("focus-mode");
  for (const b of document.querySelectorAll(".chip.focused")) b.classList.remove("focused");
  document.getElementById("focus-bar")?.remove();
  if (message) announce(message);
}

async function focusKey(event, here) {
  switch (event.key) {
    case "n": case "j": focusOn(waitingFrom(here, 1) || here); break;
    case "k": focusOn(waitingFrom(here, -1) || here); break;
    case "p": {
      await toggleStatus(here);
      if (here.classList.contains("is-posted")) focusOn(waitingFrom(here, 1) || waitingFrom(here, -1));
      break;
    }
    case "Escape": leaveFocus("Focus mode off"); break;
    default: return false;
  }
  return true;
}

document.addEventListener("keydown", (event) => {
  const block = blockOf(event.target);
  // In the editor: Ctrl/Cmd+Enter saves, Escape cancels.
  if (block && event.target instanceof HTMLTextAreaElement && !event.target.readOnly) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      const form = block.querySelector("form.edit-form");
      if (form) form.requestSubmit(); else event.target.form?.requestSubmit();
    } else if (event.key === "Escape" && block.querySelector("[data-cancel]")) {
      event.preventDefault();
      cancelEditing(block);
    }
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
  if (isTyping(document.activeElement)) return;
  if (document.querySelector("dialog[open]")) return;
  const here = currentBlock();
  if (focusMode && here && ["n", "j", "k", "p", "Escape"].includes(event.key)) {
    event.preventDefault();
    focusKey(event, here);
    return;
  }
  switch (event.key) {
    case "f": if (captionBlocks().length) { if (focusMode) leaveFocus("Focus mode off"); else enterFocus(); } else return; break;
    case "j": moveTo(1); break;
    case "k": moveTo(-1); break;
    case "c": if (here) copyCaption(here.querySelector("button.copy")); else return; break;
    case "p": if (here) toggleStatus(here); else return; break;
    case "e": if (here) startEditing(here); else return; break;
    case "o": if (here) setOpen(here, !here.classList.contains("open")); else return; break;
    case "?": {
      const dialog = document.getElementById("shortcuts");
      if (!dialog) return;
      dialog.showModal();
      break;
    }
    default: return;
  }
  event.preventDefault();
});

document.addEventListener("focusin", (event) => {
  const block = blockOf(event.target);
  if (block) current = block;
});

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", enhance);
} else {
  enhance();
}

// ---- Settings: a time zone never saved starts as the browser's own, when the list has it.
(function preselectBrowserZone() {
  const select = document.querySelector("select[data-browser-zone]");
  if (!select || typeof Intl === "undefined") return;
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && Array.from(select.options).some((o) => o.value === zone)) select.value = zone;
})();
