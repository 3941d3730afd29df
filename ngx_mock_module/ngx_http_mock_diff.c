
/*
 * What tells two canonical keys apart, named for a miss report: the
 * query parameters or form fields, and the JSON members, that differ.
 */


#include "ngx_http_mock_module.h"


#define NGX_HTTP_MOCK_DIFF_DEPTH     64
#define NGX_HTTP_MOCK_DIFF_ITEMS     3
#define NGX_HTTP_MOCK_DIFF_PAIRS     256
#define NGX_HTTP_MOCK_JPATH_LEN      128


typedef struct {
    u_char                  *p;
    u_char                  *last;
    ngx_uint_t               n;
    u_char                   path[NGX_HTTP_MOCK_JPATH_LEN];
    size_t                   len;
} ngx_http_mock_jdiff_t;


static u_char *ngx_http_mock_json_skip(u_char *p, u_char *last,
    ngx_uint_t depth);
static void ngx_http_mock_jdiff_value(ngx_http_mock_jdiff_t *d, u_char *a,
    u_char *a_end, u_char *b, u_char *b_end, ngx_uint_t depth);
static void ngx_http_mock_jdiff_report(ngx_http_mock_jdiff_t *d);
static u_char *ngx_http_mock_pairs_detail(u_char *p, u_char *last,
    ngx_str_t *a, ngx_str_t *b);


/*
 * " $.a, $.b[1]" or " ts, nonce": what tells two canonical bodies or
 * queries apart, for a miss report.
 */

u_char *
ngx_http_mock_diff_detail(u_char *p, u_char *last, ngx_uint_t what,
    ngx_str_t *type, ngx_str_t *a, ngx_str_t *b)
{
    u_char                 *ae, *be;
    ngx_uint_t              kind;
    ngx_http_mock_jdiff_t   d;

    if (what == NGX_HTTP_MOCK_MATCH_QUERY) {
        return ngx_http_mock_pairs_detail(p, last, a, b);
    }

    kind = ngx_http_mock_body_kind(type, a);

    if (kind == NGX_HTTP_MOCK_BODY_FORM) {
        return ngx_http_mock_pairs_detail(p, last, a, b);
    }

    if (kind != NGX_HTTP_MOCK_BODY_JSON || a->len == 0 || b->len == 0) {
        return p;
    }

    ae = ngx_http_mock_json_skip(a->data, a->data + a->len, 0);
    be = ngx_http_mock_json_skip(b->data, b->data + b->len, 0);

    if (ae != a->data + a->len || be != b->data + b->len) {
        return p;
    }

    d.p = p;
    d.last = last;
    d.n = 0;
    d.path[0] = '$';
    d.len = 1;

    ngx_http_mock_jdiff_value(&d, a->data, ae, b->data, be, 0);

    return d.p;
}


/* the end of one value of canonical JSON, or NULL */

static u_char *
ngx_http_mock_json_skip(u_char *p, u_char *last, ngx_uint_t depth)
{
    u_char  close;

    if (p == NULL || p >= last) {
        return NULL;
    }

    if (*p == '"') {
        for (p++; p < last; p++) {
            if (*p == '\\') {
                p++;
                continue;
            }

            if (*p == '"') {
                return p + 1;
            }
        }

        return NULL;
    }

    if (*p != '{' && *p != '[') {
        while (p < last && *p != ',' && *p != ']' && *p != '}' && *p != ':')
        {
            p++;
        }

        return p;
    }

    if (depth >= NGX_HTTP_MOCK_DIFF_DEPTH) {
        return NULL;
    }

    close = (*p == '{') ? '}' : ']';
    p++;

    if (p < last && *p == close) {
        return p + 1;
    }

    for ( ;; ) {
        if (close == '}') {
            p = ngx_http_mock_json_skip(p, last, depth + 1);
            if (p == NULL || p == last || *p != ':') {
                return NULL;
            }

            p++;
        }

        p = ngx_http_mock_json_skip(p, last, depth + 1);
        if (p == NULL || p == last) {
            return NULL;
        }

        if (*p == close) {
            return p + 1;
        }

        if (*p != ',') {
            return NULL;
        }

        p++;
    }
}


static void
ngx_http_mock_jdiff_value(ngx_http_mock_jdiff_t *d, u_char *a, u_char *a_end,
    u_char *b, u_char *b_end, ngx_uint_t depth)
{
    u_char      close, *an, *ane, *bn, *bne, *av, *bv, *ave, *bve, *name;
    size_t       len;
    ngx_int_t    rc;
    ngx_uint_t   i, object, adone, bdone;

    if (a_end - a == b_end - b && ngx_memcmp(a, b, a_end - a) == 0) {
        return;
    }

    if (d->n >= NGX_HTTP_MOCK_DIFF_ITEMS) {
        return;
    }

    if (a[0] != b[0] || (a[0] != '{' && a[0] != '[')
        || depth >= NGX_HTTP_MOCK_DIFF_DEPTH)
    {
        ngx_http_mock_jdiff_report(d);
        return;
    }

    object = (a[0] == '{');
    close = object ? '}' : ']';
    len = d->len;

    a++;
    b++;

    /* members come sorted by name, as canonical JSON has them */

    for (i = 0; d->n < NGX_HTTP_MOCK_DIFF_ITEMS; i++) {
        adone = (a >= a_end || *a == close);
        bdone = (b >= b_end || *b == close);

        if (adone && bdone) {
            break;
        }

        an = ane = bn = bne = NULL;
        av = a;
        bv = b;
        ave = NULL;
        bve = NULL;

        if (object) {
            if (!adone) {
                an = a;
                ane = ngx_http_mock_json_skip(an, a_end, depth + 1);
                if (ane == NULL || ane >= a_end || *ane != ':') {
                    break;
                }

                av = ane + 1;
            }

            if (!bdone) {
                bn = b;
                bne = ngx_http_mock_json_skip(bn, b_end, depth + 1);
                if (bne == NULL || bne >= b_end || *bne != ':') {
                    break;
                }

                bv = bne + 1;
            }

            rc = adone ? 1 : bdone ? -1 : ngx_memn2cmp(an, bn, ane - an,
                                                       bne - bn);

            name = (rc <= 0) ? an : bn;
            ane = (rc <= 0) ? ane : bne;

            if (NGX_HTTP_MOCK_JPATH_LEN - len > (size_t) (ane - name)) {
                d->len = ngx_sprintf(d->path + len, ".%*s", ane - name - 2,
                                     name + 1)
                         - d->path;
            }

        } else {
            rc = adone ? 1 : bdone ? -1 : 0;

            if (NGX_HTTP_MOCK_JPATH_LEN - len > NGX_INT_T_LEN + 2) {
                d->len = ngx_sprintf(d->path + len, "[%ui]", i) - d->path;
            }
        }

        if (rc <= 0) {
            ave = ngx_http_mock_json_skip(av, a_end, depth + 1);
            if (ave == NULL) {
                break;
            }
        }

        if (rc >= 0) {
            bve = ngx_http_mock_json_skip(bv, b_end, depth + 1);
            if (bve == NULL) {
                break;
            }
        }

        if (rc == 0) {
            ngx_http_mock_jdiff_value(d, av, ave, bv, bve, depth + 1);

        } else {
            ngx_http_mock_jdiff_report(d);
        }

        d->len = len;

        if (ave) {
            a = (ave < a_end && *ave == ',') ? ave + 1 : ave;
        }

        if (bve) {
            b = (bve < b_end && *bve == ',') ? bve + 1 : bve;
        }
    }

    d->len = len;
}


static void
ngx_http_mock_jdiff_report(ngx_http_mock_jdiff_t *d)
{
    if (d->n >= NGX_HTTP_MOCK_DIFF_ITEMS) {
        return;
    }

    d->p = ngx_slprintf(d->p, d->last, "%s %*s", d->n ? "," : "", d->len,
                        d->path);
    d->n++;
}


/* the names of the pairs that one canonical query has and the other not */

static u_char *
ngx_http_mock_pairs_detail(u_char *p, u_char *last, ngx_str_t *a,
    ngx_str_t *b)
{
    u_char      *q, *qe, *r, *re, *eq, *x, *xl;
    ngx_str_t   *one, *other, names[NGX_HTTP_MOCK_DIFF_ITEMS];
    ngx_uint_t   side, n, k, scanned, rscanned;

    n = 0;

    for (side = 0; side < 2; side++) {
        one = side ? b : a;
        other = side ? a : b;

        q = one->data;
        xl = one->data + one->len;

        for (scanned = 0; q < xl && scanned < NGX_HTTP_MOCK_DIFF_PAIRS;
             scanned++)
        {
            qe = ngx_strlchr(q, xl, '&');
            if (qe == NULL) {
                qe = xl;
            }

            r = other->data;
            x = other->data + other->len;

            for (rscanned = 0; r < x && rscanned < NGX_HTTP_MOCK_DIFF_PAIRS;
                 rscanned++)
            {
                re = ngx_strlchr(r, x, '&');
                if (re == NULL) {
                    re = x;
                }

                if (re - r == qe - q && ngx_memcmp(r, q, qe - q) == 0) {
                    break;
                }

                r = re + 1;
            }

            if (r >= x || rscanned == NGX_HTTP_MOCK_DIFF_PAIRS) {
                eq = ngx_strlchr(q, qe, '=');

                names[n].data = q;
                names[n].len = (eq ? eq : qe) - q;

                for (k = 0; k < n; k++) {
                    if (names[k].len == names[n].len
                        && ngx_memcmp(names[k].data, names[n].data,
                                      names[n].len) == 0)
                    {
                        break;
                    }
                }

                if (k == n) {
                    p = ngx_slprintf(p, last, "%s %V", n ? "," : "",
                                     &names[n]);

                    if (++n == NGX_HTTP_MOCK_DIFF_ITEMS) {
                        return p;
                    }
                }
            }

            q = qe + 1;
        }
    }

    return p;
}
