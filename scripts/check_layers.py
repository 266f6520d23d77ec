#!/usr/bin/env python3
"""Checks the layering of the library's sources (docs/DESIGN.md, "Layers").

Reads the layer table from the fenced ```layers block in docs/DESIGN.md, then
every `#include "..."` in arch/, core/, gc_hooks/ and capi/, and fails on:
  - an include of a header in a layer the including layer may not use;
  - a file in a folder that belongs to no layer;
  - a std::atomic in core/ or gc_hooks/ outside core/base/atomics.h: they use
    gort::atomic, which has no implicit seq_cst operators (=, ++, +=, a
    load() without an order, ...), so the compiler rejects an order left
    unsaid; this check keeps std::atomic from coming back around it.
Usage: scripts/check_layers.py [--graph]   (--graph prints the layer edges)
"""
import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
SRC_DIRS = ('arch', 'core', 'gc_hooks', 'capi')
EXTS = ('.h', '.cc', '.c', '.S')
ATOMIC_RULE_DIRS = ('core/', 'gc_hooks/')
ATOMICS_H = 'core/base/atomics.h'


def read_layers():
    text = open(os.path.join(ROOT, 'docs', 'DESIGN.md')).read()
    m = re.search(r'^```layers\n(.*?)^```', text, re.S | re.M)
    if not m:
        sys.exit('check_layers: no ```layers block in docs/DESIGN.md')
    layers = {}   # name -> (path prefixes, allowed layer names)
    order = []
    for line in m.group(1).splitlines():
        line = line.split('#', 1)[0].strip()
        if not line:
            continue
        # name  path[,path...]  ->  layer layer ...
        mm = re.match(r'(\S+)\s+(\S+)\s*->\s*(.*)$', line)
        if not mm:
            sys.exit('check_layers: bad layers line: ' + line)
        name, paths, allowed = mm.group(1), mm.group(2).split(','), mm.group(3).split()
        for a in allowed:
            if a not in layers:
                sys.exit('check_layers: layer %s uses %s, which is not listed below it' % (name, a))
        layers[name] = (paths, set(allowed))
        order.append(name)
    return layers, order


def layer_of(path, layers):
    best, blen = None, -1
    for name, (paths, _) in layers.items():
        for p in paths:
            if (path == p or path.startswith(p.rstrip('/') + '/')) and len(p) > blen:
                best, blen = name, len(p)
    return best


INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
def strip_comments(s):
    s = re.sub(r'/\*.*?\*/', lambda m: '\n' * m.group(0).count('\n'), s, flags=re.S)
    s = re.sub(r'//[^\n]*', '', s)
    return re.sub(r'"(\\.|[^"\\\n])*"', '""', s)


def std_atomic_uses(text):
    """Lines that declare a std::atomic (comments and strings ignored)."""
    code = strip_comments(text)
    return [code.count('\n', 0, m.start()) + 1 for m in re.finditer(r'\bstd::atomic\s*<', code)]


def main():
    layers, order = read_layers()
    files = []
    for d in SRC_DIRS:
        for dp, _, fns in os.walk(os.path.join(ROOT, d)):
            for fn in sorted(fns):
                if fn.endswith(EXTS):
                    files.append(os.path.relpath(os.path.join(dp, fn), ROOT))
    errors, edges = [], {}
    texts = {f: open(os.path.join(ROOT, f), errors='replace').read() for f in files}
    for f in files:
        lf = layer_of(f, layers)
        if lf is None:
            errors.append('%s: in no layer of docs/DESIGN.md' % f)
            continue
        text = texts[f]
        for m in INCLUDE.finditer(text):
            inc = m.group(1)
            line = text.count('\n', 0, m.start()) + 1
            if not os.path.exists(os.path.join(ROOT, inc)):
                if os.path.exists(os.path.join(os.path.dirname(os.path.join(ROOT, f)), inc)):
                    errors.append('%s:%d: include "%s" relative to the file; name it from the repository root' % (f, line, inc))
                continue  # e.g. <gort/gort.h> spelled with quotes is resolved by -I
            li = layer_of(inc, layers)
            if li is None:
                errors.append('%s:%d: includes %s, which is in no layer' % (f, line, inc))
                continue
            if li != lf:
                edges.setdefault((lf, li), []).append('%s:%d' % (f, line))
                if li not in layers[lf][1]:
                    errors.append('%s:%d: layer %s may not include %s (layer %s); see docs/DESIGN.md, "Layers"' % (f, line, lf, inc, li))
        if f.startswith(ATOMIC_RULE_DIRS) and f != ATOMICS_H:
            for line in std_atomic_uses(text):
                errors.append('%s:%d: std::atomic in %s: use gort::atomic (core/base/atomics.h), whose every '
                              'operation names its memory order' % (f, line, f.split('/')[0] + '/'))
    if '--graph' in sys.argv:
        for (a, b), where in sorted(edges.items()):
            print('%-10s -> %-10s %3d  e.g. %s' % (a, b, len(where), where[0]))
    for e in errors:
        print(e)
    print('check_layers: %d files, %d layer edges, %d errors' % (len(files), len(edges), len(errors)))
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
