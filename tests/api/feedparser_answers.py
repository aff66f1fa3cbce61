"""How feedparser reads the first entry of each document under a directory.

Prints one JSON array, a row per document whose first entry has a title or a link:
{"file", "base", "title", "link"}. "base" is the address the document is read from: the
one feedparser's own test server gives it, or its "Header: Content-Location:" line. The
title is plain text (markup stripped, entities decoded, whitespace collapsed), the form a
caption uses.
"""

import html
import json
import os
import re
import sys
import urllib.parse

import feedparser

ROOT = sys.argv[1]
SERVER = "http://127.0.0.1:8097/tests/wellformed/"
CONTENT_LOCATION = re.compile(rb"^Header:\s*Content-Location:\s*(\S+)\s*$", re.M | re.I)

rows = []
for directory, _, names in os.walk(ROOT):
    for name in names:
        path = os.path.join(directory, name)
        relative = os.path.relpath(path, ROOT).replace(os.sep, "/")
        with open(path, "rb") as f:
            document = f.read()
        base = SERVER + relative
        declared = CONTENT_LOCATION.search(document)
        if declared:
            base = urllib.parse.urljoin(base, declared.group(1).decode("ascii"))
        parsed = feedparser.parse(document, response_headers={"content-location": base})
        if not parsed.entries:
            continue
        entry = parsed.entries[0]
        title = entry.get("title") or ""
        if (entry.get("title_detail") or {}).get("type") in ("text/html", "application/xhtml+xml"):
            title = html.unescape(re.sub(r"<[^>]*>", "", title))
        title = " ".join(title.split())
        link = entry.get("link") or ""
        if title or link:
            rows.append({"file": relative, "base": base, "title": title, "link": link})
rows.sort(key=lambda row: row["file"])
json.dump(rows, sys.stdout, ensure_ascii=False)
