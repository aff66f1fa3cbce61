"""The alternative a user would pick: a small Python poller on fastfeedparser (PyPI).

One pass over the feed addresses in argv[2] (one a line) with 16 threads: a conditional
GET with the validators kept from the last pass, a parse, deduplication by entry id, and
one caption per platform for every new entry, each cut to the platform's limit.
State (validators and seen ids) lives in the JSON file argv[1] between passes.
Prints one line: feeds, answered 304, new entries, captions.
"""
import json
import os
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import fastfeedparser

LIMITS = {"x": 280, "mastodon": 500, "bluesky": 300, "threads": 500,
          "linkedin": 3000, "instagram": 2200, "facebook": 63206}


def caption(entry, limit):
    link = entry.get("link") or ""
    text = (entry.get("title") or "") + "\n\n" + (entry.get("description") or "")
    room = limit - len(link) - 2
    if len(text) > room:
        text = text[: max(room - 1, 0)].rsplit(" ", 1)[0] + "…"
    return text + "\n\n" + link


def poll(url, state):
    known = state.get(url, {})
    request = urllib.request.Request(url)
    if known.get("etag"):
        request.add_header("If-None-Match", known["etag"])
    if known.get("modified"):
        request.add_header("If-Modified-Since", known["modified"])
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            body = answer.read()
            etag, modified = answer.headers.get("ETag"), answer.headers.get("Last-Modified")
    except urllib.error.HTTPError as e:
        if e.code == 304:
            return url, known, 1, []
        raise
    seen = set(known.get("seen", []))
    feed = fastfeedparser.parse(body)
    new = [e for e in feed.entries if (e.get("id") or e.get("link")) not in seen]
    captions = [caption(e, limit) for e in new for limit in LIMITS.values()]
    seen.update(e.get("id") or e.get("link") for e in new)
    return url, {"etag": etag, "modified": modified, "seen": sorted(seen)}, 0, captions


def main():
    state_file, urls_file = sys.argv[1], sys.argv[2]
    state = json.load(open(state_file)) if os.path.exists(state_file) else {}
    urls = open(urls_file).read().split()
    not_modified = new_entries = captions = 0
    with ThreadPoolExecutor(16) as pool:
        for url, known, was_304, made in pool.map(lambda u: poll(u, state), urls):
            state[url] = known
            not_modified += was_304
            captions += len(made)
            new_entries += len(made) // len(LIMITS)
    json.dump(state, open(state_file, "w"))
    print(f"{len(urls)} feeds, {not_modified} answered 304, {new_entries} new entries, {captions} captions")


if __name__ == "__main__":
    main()
