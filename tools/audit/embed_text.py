#!/usr/bin/env python3
"""Embeds a text file as a C++ function returning it (build step for the measure catalogue)."""
import sys

src, out, func = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(src, 'rb').read()
# Byte list rather than a raw string: no delimiter can clash with the content.
body = ','.join(str(b) for b in data)
with open(out, 'w') as f:
    f.write('// Generated from %s; do not edit.\n' % src.split('/')[-1])
    f.write('namespace lbg::audit {\n')
    f.write('static const unsigned char kText[] = {%s,0};\n' % body)
    f.write('const char* %s() { return reinterpret_cast<const char*>(kText); }\n' % func)
    f.write('}  // namespace lbg::audit\n')
