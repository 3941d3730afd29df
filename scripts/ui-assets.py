#!/usr/bin/python3
"""ui-assets.py UI_DIR OUT.c

Writes OUT.c, the dashboard's files of UI_DIR (index.html, *.css, *.js,
*.svg) as byte arrays with their content types and ETags, for
ngx_http_mock_ui.c to serve.  OUT.c is rewritten only when it would
change, so that make rebuilds only what it must.
"""

import hashlib
import os
import sys

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


def c_bytes(data):
    lines = []
    for i in range(0, len(data), 16):
        lines.append("    " + ", ".join("0x%02x" % b for b in data[i:i + 16])
                     + ",")
    lines.append("    0x00")
    return "\n".join(lines)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, out = sys.argv[1], sys.argv[2]
    names = sorted(n for n in os.listdir(src)
                   if os.path.splitext(n)[1] in TYPES)
    parts = ["/* made by scripts/ui-assets.py from ngx_mock_module/ui/ */",
             "", "", "#include \"ngx_http_mock_module.h\"", ""]
    table = []
    for i, name in enumerate(names):
        with open(os.path.join(src, name), "rb") as f:
            data = f.read()
        etag = '"%s"' % hashlib.sha256(data).hexdigest()[:20]
        parts.append("static u_char  ngx_http_mock_ui_%d[] = {\n%s\n};\n"
                     % (i, c_bytes(data)))
        table.append('    { ngx_string("%s"), ngx_string("%s"),\n'
                     '      ngx_string("%s"), ngx_http_mock_ui_%d, %d },\n'
                     % (name, TYPES[os.path.splitext(name)[1]],
                        etag.replace('"', '\\"'), i, len(data)))
    parts.append("ngx_http_mock_asset_t  ngx_http_mock_ui_assets[] = {")
    parts.append("".join(table) + "    { ngx_null_string, ngx_null_string, "
                 "ngx_null_string, NULL, 0 }\n};")
    text = "\n".join(parts) + "\n"
    try:
        with open(out) as f:
            if f.read() == text:
                return
    except OSError:
        pass
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out + ".tmp", "w") as f:
        f.write(text)
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main()
