#!/usr/bin/python3
"""Write a vcrpy (version 1) cassette of N recorded GET /PREFIX/items/I.

Every interaction has its own 1 KiB JSON body and the same set of response
headers, so the cassettes of different sizes differ only in how many
interactions they hold.  Item I always gets the same body and headers,
whatever the cassette size.

    gen-cassette.py --interactions 10000 --prefix /10k --output 10k.yaml \
        --stats 10k.stats [--return-conf return.conf]

--stats writes "name value" lines about the cassette:

    interactions   number of interactions
    raw_bytes      sum over the interactions of the response header name and
                   value lengths plus the body length: what a replay has to
                   keep at the very least

--return-conf writes the nginx directives that answer GET /PREFIX/items/1
with the same status, headers and body as item 1, using "return 200", to
compare the replay against.

--templated expressions puts five members whose values are template
expressions at the start of every body ({{request.path.1}}, {{uuid}},
{{now}}, {{var.order_id}}, {{request.header.user-agent}}), for replay with
mock_template on; --templated values puts the same members there with
plain values instead.  Either way the body stays 1 KiB.

--request-body JSON records POST requests with that JSON body (and its
Content-Type and Content-Length headers) instead of GETs.
"""

import argparse
import random
import sys

BODY_SIZE = 1024
HOST = "api.example.test"
WORDS = (
    "alpha bravo charlie delta echo foxtrot golf hotel india juliett kilo "
    "lima mike november oscar papa quebec romeo sierra tango uniform victor "
    "whiskey xray yankee zulu"
).split()
COLORS = ("red", "green", "blue", "black", "white", "silver", "amber")
# members of a templated body: name, template expression, plain value
TEMPLATE_MEMBERS = (
    ("path", "{{request.path.1}}", "items"),
    ("request_id", "{{uuid}}", "6f1c2a8e-3d4b-4f6a-9c1e-2b7d8e9f0a1b"),
    ("served_at", "{{now}}", "2024-06-11T10:00:00Z"),
    ("order_id", "{{var.order_id}}", "4711"),
    ("user_agent", "{{request.header.user-agent}}", "wrk"),
)


def item_body(i, templated=None):
    """The JSON body of item i, exactly BODY_SIZE bytes long.

    templated: None, or "expressions" or "values" for the members of
    TEMPLATE_MEMBERS at its start (see --templated).
    """
    rnd = random.Random(i)
    head = (
        '{"id": %d, "sku": "SKU-%08d", "name": "Item %d", '
        '"price": {"amount": %d, "currency": "EUR"}, "in_stock": %s, '
        '"color": "%s", "tags": ["%s", "%s", "%s"], '
        '"updated_at": "2024-%02d-%02dT%02d:%02d:%02dZ", "description": "'
        % (i, i, i, rnd.randrange(100, 100000),
           "true" if rnd.random() < 0.8 else "false",
           rnd.choice(COLORS), rnd.choice(WORDS), rnd.choice(WORDS),
           rnd.choice(WORDS), rnd.randint(1, 12), rnd.randint(1, 28),
           rnd.randrange(24), rnd.randrange(60), rnd.randrange(60))
    )
    if templated:
        column = 1 if templated == "expressions" else 2
        head = "{" + "".join('"%s": "%s", ' % (m[0], m[column])
                             for m in TEMPLATE_MEMBERS) + head[1:]
    tail = '"}'
    room = BODY_SIZE - len(head) - len(tail)
    words = []
    n = -1
    while n < room:
        w = rnd.choice(WORDS)
        words.append(w)
        n += len(w) + 1
    desc = " ".join(words)[:room - 1].rstrip() + "."
    desc = desc.ljust(room, ".")
    body = head + desc + tail
    assert len(body) == BODY_SIZE, len(body)
    return body


def item_headers(i):
    """The recorded response headers of item i, as (name, value) pairs."""
    return [
        ("Content-Type", "application/json; charset=utf-8"),
        ("Cache-Control", "private, max-age=60"),
        ("ETag", '"item-%d-v1"' % i),
        ("X-Request-Id", "%032x" % random.Random(-i).getrandbits(128)),
    ]


def yaml_quote(s):
    """A single-quoted YAML scalar, as vcrpy (PyYAML) writes strings."""
    return "'" + s.replace("'", "''") + "'"


def interaction(prefix, i, templated=None, request_body=None):
    """One interaction, the way vcrpy serializes it, and its raw size."""
    body = item_body(i, templated)
    headers = item_headers(i)
    raw = len(body) + sum(len(k) + len(v) for k, v in headers)
    if request_body is None:
        method, req_body, req_headers = "GET", "null", ""
    else:
        method, req_body = "POST", yaml_quote(request_body)
        req_headers = (
            "      Content-Length:\n"
            "      - '%d'\n"
            "      Content-Type:\n"
            "      - application/json\n" % len(request_body.encode())
        )
    out = [
        "- request:\n"
        "    body: %s\n"
        "    headers:\n"
        "      Accept:\n"
        "      - '*/*'\n"
        "      Accept-Encoding:\n"
        "      - gzip, deflate\n"
        "      Connection:\n"
        "      - keep-alive\n"
        "%s"
        "      User-Agent:\n"
        "      - python-requests/2.31.0\n"
        "    method: %s\n"
        "    uri: http://%s%s/items/%d\n"
        "  response:\n"
        "    body:\n"
        "      string: %s\n"
        "    headers:\n" % (req_body, req_headers, method, HOST, prefix, i,
                            yaml_quote(body))
    ]
    for name, value in headers:
        out.append("      %s:\n      - %s\n" % (name, yaml_quote(value)))
    out.append(
        "    status:\n"
        "      code: 200\n"
        "      message: OK\n"
    )
    return "".join(out), raw


def nginx_quote(s):
    """A single-quoted nginx argument without variables."""
    if any(c in s for c in "'\\$"):
        raise ValueError("cannot quote %r for nginx" % s)
    return "'" + s + "'"


def return_conf(i):
    """nginx directives answering like item i, with "return 200".

    The replayed answer also carries the module's own header (mock_header,
    "X-Mock: replay; hit"), so the ceiling sends it too: the same bytes.
    """
    lines = []
    for name, value in item_headers(i):
        if name == "Content-Type":
            lines.append("default_type %s;" % nginx_quote(value))
        else:
            lines.append("add_header %s %s;" % (name, nginx_quote(value)))
    lines.append("add_header X-Mock %s;" % nginx_quote("replay; hit"))
    lines.append("return 200 %s;" % nginx_quote(item_body(i)))
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--interactions", type=int, required=True)
    ap.add_argument("--prefix", default="",
                    help="path before /items/I, e.g. /10k")
    ap.add_argument("--output", required=True, help="cassette file")
    ap.add_argument("--stats", help="file for the cassette's sizes")
    ap.add_argument("--return-conf",
                    help="file for the 'return 200' directives of item 1")
    ap.add_argument("--templated", choices=("expressions", "values"),
                    help="template members at the start of every body")
    ap.add_argument("--request-body", metavar="JSON",
                    help="record POSTs with this JSON body")
    args = ap.parse_args()

    if args.interactions < 1:
        ap.error("--interactions must be at least 1")

    raw_total = 0
    with open(args.output, "w") as f:
        f.write("interactions:\n")
        chunk = []
        for i in range(1, args.interactions + 1):
            text, raw = interaction(args.prefix, i, args.templated,
                                    args.request_body)
            raw_total += raw
            chunk.append(text)
            if len(chunk) == 1000:
                f.write("".join(chunk))
                chunk = []
        f.write("".join(chunk))
        f.write("version: 1\n")

    if args.stats:
        with open(args.stats, "w") as f:
            f.write("interactions %d\n" % args.interactions)
            f.write("raw_bytes %d\n" % raw_total)

    if args.return_conf:
        with open(args.return_conf, "w") as f:
            f.write(return_conf(1))

    return 0


if __name__ == "__main__":
    sys.exit(main())
