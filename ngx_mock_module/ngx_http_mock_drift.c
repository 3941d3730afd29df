
/*
 * Drift: how a live answer differs from its recording (status, named
 * headers, body; JSON bodies by shape, or by value too), as a bounded
 * list of readable lines.
 *
 * Both JSON bodies are made canonical first (ngx_http_mock_json.c), with
 * the members mock_filter_body names redacted alike, so members come
 * sorted and a merge finds those added and removed.  By shape, a value
 * must keep its type and an array's elements the shape of the recorded
 * first one; by value, scalars must be equal too, except under the JSON
 * paths of mock_verify_ignore.  A recorded member made by a template is
 * compared by type only: a standing expression may be of any type, one
 * in a string makes a string.
 */


#include "ngx_http_mock_module.h"


#define NGX_HTTP_MOCK_DRIFT_SHOWN   64     /* bytes of a value in a line */
#define NGX_HTTP_MOCK_DRIFT_PATH    256
#define NGX_HTTP_MOCK_DRIFT_DEPTH   64

/* what stands for a template expression outside a string */
#define NGX_HTTP_MOCK_DRIFT_ANY     "\"{{}}\""


typedef struct {
    u_char                   *pos;         /* the diff being written */
    u_char                   *last;
    ngx_uint_t                lines;
    ngx_uint_t                full;        /* unsigned  full:1; */
    ngx_uint_t                values;
    ngx_uint_t                templated;
    ngx_array_t              *ignore;      /* ngx_http_mock_jpath_t */

    u_char                    path[NGX_HTTP_MOCK_DRIFT_PATH];
    size_t                    path_len;
    ngx_uint_t                depth;
    ngx_str_t                 names[NGX_HTTP_MOCK_DRIFT_DEPTH];
    ngx_uint_t                indexes[NGX_HTTP_MOCK_DRIFT_DEPTH];
} ngx_http_mock_drift_walk_t;


static void ngx_http_mock_drift_status(ngx_http_mock_drift_walk_t *w,
    ngx_http_mock_drift_t *d);
static void ngx_http_mock_drift_headers(ngx_http_mock_drift_walk_t *w,
    ngx_http_mock_drift_t *d);
static ngx_int_t ngx_http_mock_drift_body(ngx_http_mock_drift_walk_t *w,
    ngx_pool_t *pool, ngx_http_mock_drift_t *d);
static void ngx_http_mock_drift_text(ngx_http_mock_drift_walk_t *w,
    ngx_http_mock_drift_t *d);
static ngx_int_t ngx_http_mock_drift_untemplate(ngx_pool_t *pool,
    ngx_str_t *in, ngx_str_t *out);
static void ngx_http_mock_drift_value(ngx_http_mock_drift_walk_t *w,
    u_char **lp, u_char *llast, u_char **rp, u_char *rlast,
    ngx_uint_t values);
static u_char *ngx_http_mock_drift_only(ngx_http_mock_drift_walk_t *w,
    u_char *p, u_char *last, const char *what);
static u_char *ngx_http_mock_drift_name(u_char *p, u_char *last,
    ngx_str_t *name);
static void ngx_http_mock_drift_object(ngx_http_mock_drift_walk_t *w,
    u_char **lp, u_char *llast, u_char **rp, u_char *rlast,
    ngx_uint_t values);
static u_char *ngx_http_mock_drift_element(u_char *p, u_char *last);
static void ngx_http_mock_drift_array(ngx_http_mock_drift_walk_t *w,
    u_char **lp, u_char *llast, u_char **rp, u_char *rlast,
    ngx_uint_t values);
static u_char *ngx_http_mock_drift_close(u_char *p, u_char *last);
static u_char *ngx_http_mock_drift_number(u_char *p, u_char *last);
static u_char *ngx_http_mock_drift_skip(u_char *p, u_char *last);
static const char *ngx_http_mock_drift_type(ngx_str_t *v);
static ngx_uint_t ngx_http_mock_drift_ignored(ngx_http_mock_drift_walk_t *w);
static void ngx_http_mock_drift_push(ngx_http_mock_drift_walk_t *w,
    ngx_str_t *name, ngx_uint_t index, size_t *saved);
static void ngx_http_mock_drift_pop(ngx_http_mock_drift_walk_t *w,
    size_t saved);
static void ngx_http_mock_drift_line(ngx_http_mock_drift_walk_t *w,
    const char *fmt, ...);
static u_char *ngx_http_mock_drift_shown(u_char *p, u_char *last,
    ngx_str_t *v);


/*
 * The differences, one a line ("\n" between them), at most
 * NGX_HTTP_MOCK_DRIFT_DIFF_MAX bytes; an empty diff: no drift.
 */

ngx_int_t
ngx_http_mock_drift_diff(ngx_pool_t *pool, ngx_http_mock_drift_t *d,
    ngx_str_t *diff)
{
    u_char                       buf[NGX_HTTP_MOCK_DRIFT_DIFF_MAX];
    ngx_http_mock_drift_walk_t   walk, *w;

    /* most answers have not drifted: nothing is allocated for them */

    w = &walk;
    w->pos = buf;
    w->last = buf + NGX_HTTP_MOCK_DRIFT_DIFF_MAX;
    w->lines = 0;
    w->full = 0;
    w->values = d->values;
    w->templated = d->templated;
    w->ignore = d->ignore;
    w->path[0] = '$';
    w->path_len = 1;
    w->depth = 0;

    ngx_http_mock_drift_status(w, d);
    ngx_http_mock_drift_headers(w, d);

    if (d->body && ngx_http_mock_drift_body(w, pool, d) != NGX_OK) {
        return NGX_ERROR;
    }

    diff->len = w->pos - buf;
    diff->data = NULL;

    if (diff->len) {
        diff->data = ngx_pnalloc(pool, diff->len);
        if (diff->data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(diff->data, buf, diff->len);
    }

    return NGX_OK;
}


static void
ngx_http_mock_drift_status(ngx_http_mock_drift_walk_t *w,
    ngx_http_mock_drift_t *d)
{
    if (d->live_status != d->recorded_status) {
        ngx_http_mock_drift_line(w, "status: live %ui, recorded %ui",
                                 d->live_status, d->recorded_status);
    }
}


static void
ngx_http_mock_drift_headers(ngx_http_mock_drift_walk_t *w,
    ngx_http_mock_drift_t *d)
{
    u_char                        lv[2 * NGX_HTTP_MOCK_DRIFT_SHOWN + 8];
    u_char                        rv[2 * NGX_HTTP_MOCK_DRIFT_SHOWN + 8];
    u_char                       *lp, *rp;
    ngx_uint_t                    i;
    ngx_http_mock_drift_header_t *h;

    h = d->headers ? d->headers->elts : NULL;

    for (i = 0; h && i < d->headers->nelts; i++) {

        if (h[i].live.data == NULL && h[i].recorded.data == NULL) {
            continue;
        }

        if (h[i].live.data && h[i].recorded.data
            && (h[i].presence
                || (h[i].live.len == h[i].recorded.len
                    && ngx_strncmp(h[i].live.data, h[i].recorded.data,
                                   h[i].live.len) == 0)))
        {
            continue;
        }

        if (h[i].live.data == NULL) {
            rp = ngx_http_mock_drift_shown(rv, rv + sizeof(rv),
                                           &h[i].recorded);
            ngx_http_mock_drift_line(w, "header %V: removed, recorded \"%*s\"",
                                     &h[i].name, rp - rv, rv);
            continue;
        }

        lp = ngx_http_mock_drift_shown(lv, lv + sizeof(lv), &h[i].live);

        if (h[i].recorded.data == NULL) {
            ngx_http_mock_drift_line(w, "header %V: added, live \"%*s\"",
                                     &h[i].name, lp - lv, lv);
            continue;
        }

        rp = ngx_http_mock_drift_shown(rv, rv + sizeof(rv), &h[i].recorded);

        ngx_http_mock_drift_line(w, "header %V: live \"%*s\", recorded \"%*s\"",
                                 &h[i].name, lp - lv, lv, rp - rv, rv);
    }
}


static ngx_int_t
ngx_http_mock_drift_body(ngx_http_mock_drift_walk_t *w, ngx_pool_t *pool,
    ngx_http_mock_drift_t *d)
{
    u_char     *lp, *rp;
    ngx_int_t   lrc, rrc;
    ngx_str_t   live, rec;
    ngx_uint_t  lkind, rkind, lines;

    lkind = ngx_http_mock_body_kind(&d->live_type, &d->live_body);
    rkind = ngx_http_mock_body_kind(&d->recorded_type, &d->recorded_body);

    if (lkind != NGX_HTTP_MOCK_BODY_JSON && rkind != NGX_HTTP_MOCK_BODY_JSON) {
        ngx_http_mock_drift_text(w, d);
        return NGX_OK;
    }

    if (d->live_body.len == 0 || d->recorded_body.len == 0) {
        ngx_http_mock_drift_text(w, d);
        return NGX_OK;
    }

    /* the same bytes: the same JSON, or the same text */

    if (!d->templated && d->filters == NULL
        && d->live_body.len == d->recorded_body.len
        && ngx_memcmp(d->live_body.data, d->recorded_body.data,
                      d->live_body.len) == 0)
    {
        return NGX_OK;
    }

    /*
     * By shape, a live body of the very shape of one found without drift
     * before (the verify handler keeps its fingerprint) has none either.
     */

    if (!w->values && d->canonical && d->recorded_rc == NGX_OK) {
        d->live_shape = ngx_http_mock_drift_shape(&d->live_body);

        if (d->live_shape && d->live_shape == d->known_shape) {
            return NGX_OK;
        }
    }

    /* until the walk below finds none, the body counts as drifted */

    d->body_drifted = 1;
    lines = w->lines;

    lrc = ngx_http_mock_json_filter(pool, d->filters, &d->live_body, &live);

    if (d->canonical) {
        rrc = d->recorded_rc;
        rec = d->recorded_canon;

    } else {
        rrc = ngx_http_mock_drift_canon(pool, d->filters, d->templated,
                                        &d->recorded_body, &rec);
    }

    if (lrc == NGX_ERROR || rrc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (lrc == NGX_DECLINED && rrc == NGX_DECLINED) {
        ngx_http_mock_drift_text(w, d);
        return NGX_OK;
    }

    if (lrc == NGX_DECLINED) {
        ngx_http_mock_drift_line(w, "body: live is not JSON (%uz bytes), "
                                 "recorded is", d->live_body.len);
        return NGX_OK;
    }

    if (rrc == NGX_DECLINED) {
        ngx_http_mock_drift_line(w, "body: recorded is not JSON (%uz bytes), "
                                 "live is", d->recorded_body.len);
        return NGX_OK;
    }

    lp = live.data;
    rp = rec.data;

    ngx_http_mock_drift_value(w, &lp, live.data + live.len, &rp,
                              rec.data + rec.len, w->values);

    d->body_drifted = (w->lines != lines || w->full);

    return NGX_OK;
}


/*
 * A fingerprint of a JSON text's shape: its structure, member names and
 * the types of its values, not their values, hashed (FNV-1a, 64 bits) as
 * it is read once; 0 when it is not JSON, or deeper than canonical JSON
 * may be.  Member order counts: a service that reorders them only costs
 * a full comparison.
 */

#define ngx_http_mock_drift_fnv(h, c)                                       \
    ((h) = ((h) ^ (u_char) (c)) * 0x100000001b3ULL)

uint64_t
ngx_http_mock_drift_shape(ngx_str_t *body)
{
    u_char      *p, *last, *q;
    uint64_t     h, x;
    ngx_uint_t   depth, name;
    u_char       stack[NGX_HTTP_MOCK_DRIFT_DEPTH];

    h = 0xcbf29ce484222325ULL;
    depth = 0;
    name = 0;

    p = body->data;
    last = p + body->len;

    while (p < last) {

        switch (*p) {

        case ' ': case '\t': case '\r': case '\n':
            p++;
            continue;

        case '{': case '[':
            if (depth == NGX_HTTP_MOCK_DRIFT_DEPTH) {
                return 0;
            }

            stack[depth++] = *p;
            name = (*p == '{');
            ngx_http_mock_drift_fnv(h, *p);
            p++;
            continue;

        case '}': case ']':
            if (depth == 0 || stack[depth - 1] != (*p == '}' ? '{' : '[')) {
                return 0;
            }

            depth--;
            name = 0;
            ngx_http_mock_drift_fnv(h, *p);
            p++;
            continue;

        case ',':
            name = (depth && stack[depth - 1] == '{');
            ngx_http_mock_drift_fnv(h, ',');
            p++;
            continue;

        case ':':
            name = 0;
            ngx_http_mock_drift_fnv(h, ':');
            p++;
            continue;

        case '"':
            for (q = p + 1; q < last && *q != '"'; q++) {

                /* eight plain bytes at a time */

                while (last - q >= 8) {
                    ngx_memcpy(&x, q, 8);

                    if (ngx_http_mock_json_special(x)) {
                        break;
                    }

                    q += 8;
                }

                if (q >= last || *q == '"') {
                    break;
                }

                if (*q < 0x20) {
                    return 0;
                }

                if (*q == '\\') {
                    q++;
                }
            }

            if (q >= last) {
                return 0;
            }

            if (name) {
                /* a member's name is part of the shape */
                for ( /* void */ ; p <= q; p++) {
                    ngx_http_mock_drift_fnv(h, *p);
                }

            } else {
                ngx_http_mock_drift_fnv(h, 's');
                p = q + 1;
            }

            continue;

        case 't':
        case 'f':
        case 'n':
            q = p + (*p == 'f' ? 5 : 4);

            if (q > last
                || (ngx_strncmp(p, "true", 4) != 0
                    && ngx_strncmp(p, "null", 4) != 0
                    && ngx_strncmp(p, "false", 5) != 0))
            {
                return 0;
            }

            ngx_http_mock_drift_fnv(h, *p == 'n' ? 'z' : 'b');
            p = q;
            continue;

        default:
            q = ngx_http_mock_drift_number(p, last);
            if (q == NULL) {
                return 0;
            }

            ngx_http_mock_drift_fnv(h, 'n');
            p = q;
            continue;
        }
    }

    return (depth == 0 && h) ? h : 0;
}


/* past a JSON number at p, or NULL */

static u_char *
ngx_http_mock_drift_number(u_char *p, u_char *last)
{
    u_char  *start;

    if (p < last && *p == '-') {
        p++;
    }

    start = p;

    while (p < last && *p >= '0' && *p <= '9') {
        p++;
    }

    if (p == start) {
        return NULL;
    }

    if (p < last && *p == '.') {
        start = ++p;

        while (p < last && *p >= '0' && *p <= '9') {
            p++;
        }

        if (p == start) {
            return NULL;
        }
    }

    if (p < last && (*p == 'e' || *p == 'E')) {
        p++;

        if (p < last && (*p == '+' || *p == '-')) {
            p++;
        }

        start = p;

        while (p < last && *p >= '0' && *p <= '9') {
            p++;
        }

        if (p == start) {
            return NULL;
        }
    }

    return p;
}


/*
 * A recorded JSON body as it is compared: a template's expressions made
 * values, the secrets redacted, canonical.  NGX_DECLINED: not JSON.
 */

ngx_int_t
ngx_http_mock_drift_canon(ngx_pool_t *pool, ngx_array_t *filters,
    ngx_uint_t templated, ngx_str_t *body, ngx_str_t *out)
{
    ngx_str_t  text;

    text = *body;

    if (templated
        && ngx_http_mock_drift_untemplate(pool, body, &text) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_mock_json_filter(pool, filters, &text, out);
}


/* text and binary bodies: their bytes by value, else type and presence */

static void
ngx_http_mock_drift_text(ngx_http_mock_drift_walk_t *w,
    ngx_http_mock_drift_t *d)
{
    u_char     *p;
    ngx_str_t   lt, rt;

    if (d->live_body.len == 0 && d->recorded_body.len) {
        ngx_http_mock_drift_line(w, "body: live is empty, recorded has "
                                 "%uz bytes", d->recorded_body.len);
        return;
    }

    if (d->live_body.len && d->recorded_body.len == 0) {
        ngx_http_mock_drift_line(w, "body: live has %uz bytes, recorded is "
                                 "empty", d->live_body.len);
        return;
    }

    lt = d->live_type;
    rt = d->recorded_type;

    p = ngx_strlchr(lt.data, lt.data + lt.len, ';');
    if (p) {
        lt.len = p - lt.data;
    }

    p = ngx_strlchr(rt.data, rt.data + rt.len, ';');
    if (p) {
        rt.len = p - rt.data;
    }

    while (lt.len && lt.data[lt.len - 1] == ' ') {
        lt.len--;
    }

    while (rt.len && rt.data[rt.len - 1] == ' ') {
        rt.len--;
    }

    if (lt.len != rt.len || ngx_strncasecmp(lt.data, rt.data, lt.len) != 0) {
        ngx_http_mock_drift_line(w, "body: type live \"%V\", recorded \"%V\"",
                                 &lt, &rt);
        return;
    }

    if (!w->values) {
        return;
    }

    if (d->live_body.len != d->recorded_body.len
        || ngx_memcmp(d->live_body.data, d->recorded_body.data,
                      d->live_body.len) != 0)
    {
        ngx_http_mock_drift_line(w, "body: bytes differ (live %uz bytes, "
                                 "recorded %uz)", d->live_body.len,
                                 d->recorded_body.len);
    }
}


/*
 * A template body as JSON: an expression outside a string stands for a
 * value of any type; one inside a string leaves "{{" in it.
 */

static ngx_int_t
ngx_http_mock_drift_untemplate(ngx_pool_t *pool, ngx_str_t *in,
    ngx_str_t *out)
{
    u_char      *p, *last, *q, *end;
    ngx_uint_t   string;

    out->data = ngx_pnalloc(pool, in->len * 2 + 8);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    q = out->data;
    p = in->data;
    last = p + in->len;
    string = 0;

    while (p < last) {

        if (string) {
            if (*p == '\\' && p + 1 < last) {
                *q++ = *p++;

            } else if (*p == '"') {
                string = 0;
            }

            *q++ = *p++;
            continue;
        }

        if (*p == '"') {
            string = 1;
            *q++ = *p++;
            continue;
        }

        if (*p == '{' && p + 1 < last && p[1] == '{') {
            end = ngx_strlcasestrn(p + 2, last, (u_char *) "}}", 2 - 1);

            if (end) {
                q = ngx_cpymem(q, NGX_HTTP_MOCK_DRIFT_ANY,
                               sizeof(NGX_HTTP_MOCK_DRIFT_ANY) - 1);
                p = end + 2;
                continue;
            }
        }

        *q++ = *p++;
    }

    out->len = q - out->data;

    return NGX_OK;
}


/*
 * Compares the values at *lp and *rp (canonical JSON, up to llast and
 * rlast) and moves both past them: a container of the same type on both
 * sides is walked once, member by member, and anything else is skipped.
 */

static void
ngx_http_mock_drift_value(ngx_http_mock_drift_walk_t *w, u_char **lp,
    u_char *llast, u_char **rp, u_char *rlast, ngx_uint_t values)
{
    u_char      lv[2 * NGX_HTTP_MOCK_DRIFT_SHOWN + 8];
    u_char      rv[2 * NGX_HTTP_MOCK_DRIFT_SHOWN + 8];
    u_char     *lb, *rb;
    ngx_str_t   live, rec;
    const char *lt, *rt;

    live.data = *lp;
    live.len = llast - *lp;
    rec.data = *rp;
    rec.len = rlast - *rp;

    lt = ngx_http_mock_drift_type(&live);
    rt = ngx_http_mock_drift_type(&rec);

    if (values && ngx_http_mock_drift_ignored(w)) {
        values = 0;
    }

    if (!w->full && lt == rt && (lt[0] == 'o' || lt[0] == 'a')) {
        if (lt[0] == 'o') {
            ngx_http_mock_drift_object(w, lp, llast, rp, rlast, values);

        } else {
            ngx_http_mock_drift_array(w, lp, llast, rp, rlast, values);
        }

        return;
    }

    *lp = ngx_http_mock_drift_skip(*lp, llast);
    *rp = ngx_http_mock_drift_skip(*rp, rlast);

    if (w->full) {
        return;
    }

    live.len = *lp - live.data;
    rec.len = *rp - rec.data;

    if (w->templated && rt[0] == 's'
        && ngx_strlcasestrn(rec.data, rec.data + rec.len,
                            (u_char *) "{{", 2 - 1))
    {
        /* made by a template: its type at most */

        if (rec.len == sizeof(NGX_HTTP_MOCK_DRIFT_ANY) - 1
            && ngx_strncmp(rec.data, NGX_HTTP_MOCK_DRIFT_ANY, rec.len) == 0)
        {
            return;
        }

        if (lt[0] == 's') {
            return;
        }

        values = 0;
    }

    if (lt != rt) {
        lb = ngx_http_mock_drift_shown(lv, lv + sizeof(lv), &live);
        rb = ngx_http_mock_drift_shown(rv, rv + sizeof(rv), &rec);

        ngx_http_mock_drift_line(w, "%*s: type live %s %*s, recorded %s %*s",
                                 w->path_len, w->path, lt, lb - lv, lv,
                                 rt, rb - rv, rv);
        return;
    }

    if (values
        && (live.len != rec.len
            || ngx_strncmp(live.data, rec.data, live.len) != 0))
    {
        lb = ngx_http_mock_drift_shown(lv, lv + sizeof(lv), &live);
        rb = ngx_http_mock_drift_shown(rv, rv + sizeof(rv), &rec);

        ngx_http_mock_drift_line(w, "%*s: live %*s, recorded %*s",
                                 w->path_len, w->path, lb - lv, lv,
                                 rb - rv, rv);
    }
}


/* a value that only one side has: "added" or "removed", and past it */

static u_char *
ngx_http_mock_drift_only(ngx_http_mock_drift_walk_t *w, u_char *p,
    u_char *last, const char *what)
{
    u_char     buf[2 * NGX_HTTP_MOCK_DRIFT_SHOWN + 8], *b;
    ngx_str_t  v;

    v.data = p;
    p = ngx_http_mock_drift_skip(p, last);
    v.len = p - v.data;

    if (!w->full) {
        b = ngx_http_mock_drift_shown(buf, buf + sizeof(buf), &v);
        ngx_http_mock_drift_line(w, "%*s: %s %*s", w->path_len, w->path,
                                 what, b - buf, buf);
    }

    return p;
}


/* the name of the member at p ("name":), or data NULL at the object's end */

static u_char *
ngx_http_mock_drift_name(u_char *p, u_char *last, ngx_str_t *name)
{
    u_char  *q;

    if (p < last && *p == ',') {
        p++;
    }

    if (p >= last || *p != '"') {
        ngx_str_null(name);
        return p;
    }

    q = ngx_http_mock_drift_skip(p, last);

    name->data = p;
    name->len = q - p;

    return (q < last && *q == ':') ? q + 1 : q;
}


/* canonical members come sorted by name: a merge */

static void
ngx_http_mock_drift_object(ngx_http_mock_drift_walk_t *w, u_char **lp,
    u_char *llast, u_char **rp, u_char *rlast, ngx_uint_t values)
{
    u_char     *l, *r;
    size_t      saved;
    ngx_int_t   cmp;
    ngx_str_t   ln, rn, name;

    l = ngx_http_mock_drift_name(*lp + 1, llast, &ln);
    r = ngx_http_mock_drift_name(*rp + 1, rlast, &rn);

    while (ln.data || rn.data) {

        if (ln.data == NULL) {
            cmp = 1;

        } else if (rn.data == NULL) {
            cmp = -1;

        } else {
            cmp = ngx_memn2cmp(ln.data, rn.data, ln.len, rn.len);
        }

        name.data = (cmp <= 0) ? ln.data + 1 : rn.data + 1;
        name.len = (cmp <= 0) ? ln.len - 2 : rn.len - 2;

        ngx_http_mock_drift_push(w, &name, 0, &saved);

        if (cmp < 0) {
            l = ngx_http_mock_drift_only(w, l, llast, "added, live");

        } else if (cmp > 0) {
            r = ngx_http_mock_drift_only(w, r, rlast, "removed, recorded");

        } else {
            ngx_http_mock_drift_value(w, &l, llast, &r, rlast, values);
        }

        ngx_http_mock_drift_pop(w, saved);

        if (cmp <= 0) {
            l = ngx_http_mock_drift_name(l, llast, &ln);
        }

        if (cmp >= 0) {
            r = ngx_http_mock_drift_name(r, rlast, &rn);
        }
    }

    /* past the closing braces */

    *lp = (l < llast) ? l + 1 : llast;
    *rp = (r < rlast) ? r + 1 : rlast;
}


/* the element at p, past a comma; NULL at the array's end */

static u_char *
ngx_http_mock_drift_element(u_char *p, u_char *last)
{
    if (p < last && *p == ',') {
        p++;
    }

    return (p >= last || *p == ']') ? NULL : p;
}


/*
 * By shape, every live element has the shape of the first recorded one,
 * and the first element that does not is told; by value, elements are
 * compared one by one and those added or removed at the end are told.
 */

static void
ngx_http_mock_drift_array(ngx_http_mock_drift_walk_t *w, u_char **lp,
    u_char *llast, u_char **rp, u_char *rlast, ngx_uint_t values)
{
    u_char      *l, *r, *le, *re, *first;
    size_t       saved;
    ngx_uint_t   i, lines;

    l = *lp + 1;
    r = *rp + 1;

    first = ngx_http_mock_drift_element(r, rlast);

    for (i = 0; /* void */ ; i++) {
        le = ngx_http_mock_drift_element(l, llast);

        if (!values) {
            if (le == NULL || first == NULL) {
                break;
            }

            /* each live element against the first recorded one */

            re = first;
            lines = w->lines;

            ngx_http_mock_drift_push(w, NULL, i, &saved);
            ngx_http_mock_drift_value(w, &le, llast, &re, rlast, 0);
            ngx_http_mock_drift_pop(w, saved);

            l = le;

            if (w->lines != lines) {
                /* told once: the other elements are skipped */
                break;
            }

            continue;
        }

        re = ngx_http_mock_drift_element(r, rlast);

        if (le == NULL && re == NULL) {
            break;
        }

        ngx_http_mock_drift_push(w, NULL, i, &saved);

        if (re == NULL) {
            l = ngx_http_mock_drift_only(w, le, llast, "added, live");

        } else if (le == NULL) {
            r = ngx_http_mock_drift_only(w, re, rlast, "removed, recorded");

        } else {
            ngx_http_mock_drift_value(w, &le, llast, &re, rlast, values);
            l = le;
            r = re;
        }

        ngx_http_mock_drift_pop(w, saved);
    }

    /* what was not walked is skipped, to the closing brackets */

    *lp = ngx_http_mock_drift_close(l, llast);
    *rp = ngx_http_mock_drift_close(values ? r : (first ? first : r), rlast);
}


/* past the elements left and the closing bracket */

static u_char *
ngx_http_mock_drift_close(u_char *p, u_char *last)
{
    u_char  *e;

    for ( ;; ) {
        e = ngx_http_mock_drift_element(p, last);
        if (e == NULL) {
            break;
        }

        p = ngx_http_mock_drift_skip(e, last);
    }

    return (p < last) ? p + 1 : last;
}


/* past one value of canonical JSON */

static u_char *
ngx_http_mock_drift_skip(u_char *p, u_char *last)
{
    u_char      *q, *e;
    ngx_uint_t   depth, string;

    depth = 0;
    string = 0;

    for ( /* void */ ; p < last; p++) {

        if (string) {
            /* canonical JSON: the next quote that no backslash escapes */

            for (q = p; q < last && q < p + 16; q++) {
                if (*q == '"' || *q == '\\') {
                    break;
                }
            }

            if (q < last && *q == '"') {
                p = q;
                string = 0;

                if (depth == 0) {
                    return p + 1;
                }

                continue;
            }

            q = memchr(p, '"', last - p);
            if (q == NULL) {
                return last;
            }

            for (e = q; e > p && e[-1] == '\\'; e--) { /* void */ }

            p = q;

            if ((q - e) % 2) {
                continue;
            }

            string = 0;

            if (depth == 0) {
                return p + 1;
            }

            continue;
        }

        switch (*p) {

        case '"':
            string = 1;
            break;

        case '{':
        case '[':
            depth++;
            break;

        case '}':
        case ']':
            if (depth == 0) {
                return p;
            }

            if (--depth == 0) {
                return p + 1;
            }

            break;

        case ',':
        case ':':
            if (depth == 0) {
                return p;
            }

            break;
        }
    }

    return last;
}


static const char *
ngx_http_mock_drift_type(ngx_str_t *v)
{
    static const char  *object = "object", *array = "array",
                       *string = "string", *boolean = "boolean",
                       *null = "null", *number = "number";

    if (v->len == 0) {
        return null;
    }

    switch (v->data[0]) {
    case '{':
        return object;
    case '[':
        return array;
    case '"':
        return string;
    case 't':
    case 'f':
        return boolean;
    case 'n':
        return null;
    default:
        return number;
    }
}


/* whether a path of mock_verify_ignore names the value at hand */

static ngx_uint_t
ngx_http_mock_drift_ignored(ngx_http_mock_drift_walk_t *w)
{
    ngx_uint_t              i, k;
    ngx_http_mock_step_t   *st;
    ngx_http_mock_jpath_t  *jp;

    if (w->ignore == NULL || w->depth > NGX_HTTP_MOCK_DRIFT_DEPTH) {
        return 0;
    }

    jp = w->ignore->elts;

    for (i = 0; i < w->ignore->nelts; i++) {
        if (jp[i].nsteps != w->depth) {
            continue;
        }

        for (k = 0; k < w->depth; k++) {
            st = &jp[i].steps[k];

            if (w->names[k].data) {
                if (st->type != NGX_HTTP_MOCK_STEP_MEMBER
                    || st->name.len != w->names[k].len
                    || ngx_strncmp(st->name.data, w->names[k].data,
                                   st->name.len) != 0)
                {
                    break;
                }

            } else if (st->type == NGX_HTTP_MOCK_STEP_MEMBER
                       || (st->type == NGX_HTTP_MOCK_STEP_INDEX
                           && st->index != w->indexes[k]))
            {
                break;
            }
        }

        if (k == w->depth) {
            return 1;
        }
    }

    return 0;
}


/* one step down: ".name" or "[index]", cut when the path grows long */

static void
ngx_http_mock_drift_push(ngx_http_mock_drift_walk_t *w, ngx_str_t *name,
    ngx_uint_t index, size_t *saved)
{
    u_char  *p, *last;

    *saved = w->path_len;

    if (w->depth < NGX_HTTP_MOCK_DRIFT_DEPTH) {
        if (name) {
            w->names[w->depth] = *name;

        } else {
            ngx_str_null(&w->names[w->depth]);
            w->indexes[w->depth] = index;
        }
    }

    w->depth++;

    p = w->path + w->path_len;
    last = w->path + NGX_HTTP_MOCK_DRIFT_PATH;

    if (name && (size_t) (last - p) > name->len) {
        *p++ = '.';
        p = ngx_http_mock_cpymem(p, name->data, name->len);

    } else if (name == NULL && (size_t) (last - p) > NGX_INT_T_LEN + 2) {
        p = ngx_sprintf(p, "[%ui]", index);
    }

    w->path_len = p - w->path;
}


static void
ngx_http_mock_drift_pop(ngx_http_mock_drift_walk_t *w, size_t saved)
{
    w->depth--;
    w->path_len = saved;
}


/* a line of the diff; past the room, "..." ends the diff */

static void
ngx_http_mock_drift_line(ngx_http_mock_drift_walk_t *w, const char *fmt, ...)
{
    u_char   *p, *q, line[NGX_HTTP_MOCK_DRIFT_PATH
                          + 4 * NGX_HTTP_MOCK_DRIFT_SHOWN + 128];
    size_t    need;
    va_list   args;

    if (w->full) {
        return;
    }

    va_start(args, fmt);
    p = ngx_vslprintf(line, line + sizeof(line), fmt, args);
    va_end(args);

    /* nothing that reaches a header or a log line breaks it */

    for (q = line; q < p; q++) {
        if (*q < 0x20 || *q == 0x7f) {
            *q = '?';
        }
    }

    need = (w->lines ? 1 : 0) + (p - line);

    if ((size_t) (w->last - w->pos) < need + sizeof("\n...")) {
        if ((size_t) (w->last - w->pos) >= sizeof("\n...") - 1) {
            w->pos = ngx_cpymem(w->pos, w->lines ? "\n..." : "...",
                                w->lines ? 4 : 3);
        }

        w->full = 1;
        return;
    }

    if (w->lines) {
        *w->pos++ = '\n';
    }

    w->pos = ngx_cpymem(w->pos, line, p - line);
    w->lines++;
}


/* a value as a line shows it: quoted JSON as written, cut with "..." */

static u_char *
ngx_http_mock_drift_shown(u_char *p, u_char *last, ngx_str_t *v)
{
    size_t  n;

    n = ngx_min(v->len, NGX_HTTP_MOCK_DRIFT_SHOWN);

    if ((size_t) (last - p) < n + 5) {
        return p;
    }

    p = ngx_http_mock_cpymem(p, v->data, n);

    if (n < v->len) {
        p = ngx_cpymem(p, "...", 3);
    }

    return p;
}
