#!/usr/bin/env python3
"""Before/after captions over tests/fixtures/real.

usage: captions-before-after.py BEFORE_BIN AFTER_BIN FIXTURES_DIR [--markdown]
Counts the X captions that carry more than the post's title and link (words other than the
title's, links and hashtags), before and after; with --markdown, prints ten posts' captions
on all platforms, before and after."""
import json, re, subprocess, sys, pathlib

def bare(w):
    return re.sub(r'^\W+|\W+$', '', w).lower()

def more_than_title(text, title):
    tw = {bare(w) for w in title.split()}
    return any(not w.startswith('http') and not w.startswith('#') and bare(w) and bare(w) not in tw
               for w in text.split())

def run(binary, path):
    out = subprocess.run([binary, 'preview', str(path), '--json'], capture_output=True, text=True, check=True).stdout
    return [json.loads(l) for l in out.splitlines() if l.strip()]

before_bin, after_bin, fixtures = sys.argv[1:4]
files = sorted(p for p in pathlib.Path(fixtures).iterdir() if p.name != 'SOURCES')
counts = {'before': [0, 0], 'after': [0, 0]}
posts = {}
for f in files:
    for label, binary in (('before', before_bin), ('after', after_bin)):
        for i, post in enumerate(run(binary, f)):
            posts.setdefault((f.name, i), {})[label] = post
            for c in post['captions']:
                if c['platform'] == 'x':
                    counts[label][1] += 1
                    counts[label][0] += more_than_title(c['text'], post['title'])
for label, (more, total) in counts.items():
    print(f"{label}: {more} of {total} X captions carry more than the title and link")
if '--markdown' in sys.argv:
    # Ten posts from ten different feeds, the first with a summary-length text.
    chosen, seen = [], set()
    wanted = sys.argv[sys.argv.index('--markdown') + 1:] 
    for (name, i), p in sorted(posts.items()):
        if name in seen or len(chosen) >= 10:
            continue
        if wanted and f"{name}#{i}" not in wanted:
            continue
        # Posts whose captions did not change (titled from their text) teach nothing.
        if [c['text'] for c in p['before']['captions']] == [c['text'] for c in p['after']['captions']]:
            continue
        seen.add(name)
        chosen.append((name, i, p))
    for name, i, p in chosen:
        print(f"\n## {p['after']['title']}\n\n`{name}`, post {i + 1}: {p['after'].get('url') or ''}\n")
        for cb, ca in zip(p['before']['captions'], p['after']['captions']):
            print(f"### {ca['platform']}\n")
            print(f"Before ({cb['length']}/{cb['limit']}):\n\n```text\n{cb['text']}\n```\n")
            print(f"After ({ca['length']}/{ca['limit']}):\n\n```text\n{ca['text']}\n```\n")
