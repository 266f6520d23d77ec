#!/usr/bin/env python3
"""Checks the layering of the library's sources (docs/DESIGN.md, "Layers").

Reads the layer table from the fenced ```layers block in docs/DESIGN.md, then
every `#include "..."` in arch/, core/, gc_hooks/ and capi/, and fails on:
  - an include of a header in a layer the including layer may not use;
  - a file in a folder that belongs to no layer;
  - an implicit seq_cst operation on a std::atomic in core/ or gc_hooks/
    (operators =, ++, --, +=, -=, &=, |=, ^= on an atomic, or load()/store()/
    exchange()/fetch_*()/compare_exchange_*() without a memory order).
Usage: scripts/check_layers.py [--graph]   (--graph prints the layer edges)
"""
import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
SRC_DIRS = ('arch', 'core', 'gc_hooks', 'capi')
EXTS = ('.h', '.cc', '.c', '.S')


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
ATOMIC_DECL = re.compile(r'std::atomic<[^;{}()]*?>\s+(?:\w+\s*\[\s*\w*\s*\]|\*?\s*(\w+))')
MO_CALL = re.compile(r'\b(\w+)(?:\[[^\]]*\])?\s*(?:\.|->)\s*(load|store|exchange|fetch_add|fetch_sub|fetch_and|fetch_or|fetch_xor|compare_exchange_strong|compare_exchange_weak)\s*\(')


def strip_comments(s):
    s = re.sub(r'/\*.*?\*/', lambda m: '\n' * m.group(0).count('\n'), s, flags=re.S)
    s = re.sub(r'//[^\n]*', '', s)
    return re.sub(r'"(\\.|[^"\\\n])*"', '""', s)


def call_args(s, start):
    """Text of the argument list whose '(' is at s[start-1]."""
    depth, i = 1, start
    while i < len(s) and depth:
        depth += {'(': 1, ')': -1}.get(s[i], 0)
        i += 1
    return s[start:i - 1]


def seq_cst_uses(rel, text, atomics):
    bad = []
    code = strip_comments(text)
    for m in MO_CALL.finditer(code):
        args = call_args(code, m.end())
        if 'memory_order' not in args:
            bad.append((code.count('\n', 0, m.start()) + 1, '%s.%s() without a memory order' % (m.group(1), m.group(2))))
    for name in atomics:
        op = re.compile(r'(?<![\w.>:])(?:(?:\w+(?:\[[^\]]*\])?(?:\.|->))*)\b%s\b(?:\[[^\]]*\])?\s*(\+\+|--|[-+&|^]=|=(?!=))|(\+\+|--)\s*(?:\w+(?:\.|->))*%s\b' % (name, name))
        for m in op.finditer(code):
            line = code[code.rfind('\n', 0, m.start()) + 1:code.find('\n', m.end())]
            if re.search(r'std::atomic<', line) or re.match(r'\s*(?:alignas\(\d+\)\s*)?(?:static\s+)?(?:inline\s+)?(?:constexpr\s+)?[\w:<>*\s]+\b%s\s*(?:\[[^\]]*\])?\s*=\s*' % name, line) and 'atomic' in line:
                continue  # a declaration with an initialiser
            bad.append((code.count('\n', 0, m.start()) + 1, 'implicit seq_cst operator on atomic %s' % name))
    return bad


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
    atomics = set()
    for f, t in texts.items():
        for m in ATOMIC_DECL.finditer(strip_comments(t)):
            if m.group(1):
                atomics.add(m.group(1))
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
        if lf.startswith('core') or lf in ('sched', 'base', 'stack', 'wait', 'poll', 'thread', 'diag', 'lifecycle', 'gc_hooks'):
            for line, what in seq_cst_uses(f, text, atomics):
                errors.append('%s:%d: %s (core/base/atomics.h: name the order)' % (f, line, what))
    if '--graph' in sys.argv:
        for (a, b), where in sorted(edges.items()):
            print('%-10s -> %-10s %3d  e.g. %s' % (a, b, len(where), where[0]))
    for e in errors:
        print(e)
    print('check_layers: %d files, %d layer edges, %d errors' % (len(files), len(edges), len(errors)))
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
