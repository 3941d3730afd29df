
/*
 * Canonical JSON: object members sorted by name, white space dropped,
 * strings and numbers kept as written.  Two bodies that differ only in
 * key order or formatting become the same bytes.
 */


#include "ngx_http_mock_module.h"


#define NGX_HTTP_MOCK_JSON_DEPTH  64



typedef struct {
    u_char                 *pos;
    u_char                 *last;
    ngx_pool_t             *pool;
    ngx_uint_t              depth;
    ngx_array_t            *filters;    /* mock_filter_body */
    ngx_http_mock_jpath_t  *paths;      /* mock_ignore body */
    ngx_uint_t              npaths;
    u_char                 *used;       /* per path, or NULL */
    uint64_t                alive;      /* the paths that lead to this value */
} ngx_http_mock_json_t;


typedef struct {
    ngx_str_t     name;
    ngx_str_t     value;
} ngx_http_mock_member_t;


static ngx_int_t ngx_http_mock_json_value(ngx_http_mock_json_t *j,
    ngx_str_t *out);
static ngx_int_t ngx_http_mock_json_container(ngx_http_mock_json_t *j,
    ngx_str_t *out);
static ngx_int_t ngx_http_mock_json_string(ngx_http_mock_json_t *j,
    ngx_str_t *out);
static ngx_int_t ngx_http_mock_json_scalar(ngx_http_mock_json_t *j,
    ngx_str_t *out);
static ngx_int_t ngx_http_mock_json_redact(ngx_http_mock_json_t *j,
    ngx_http_mock_member_t *m);
static ngx_uint_t ngx_http_mock_json_step(ngx_http_mock_json_t *j,
    ngx_str_t *name, ngx_uint_t index, uint64_t *child);
static void ngx_http_mock_json_space(ngx_http_mock_json_t *j);
static ngx_int_t ngx_http_mock_json_unescape(ngx_pool_t *pool, ngx_str_t *in,
    ngx_str_t *out);
static int ngx_libc_cdecl ngx_http_mock_json_cmp(const void *one,
    const void *two);


/* NGX_DECLINED: not JSON */

ngx_int_t
ngx_http_mock_json_canon(ngx_pool_t *pool, ngx_str_t *in, ngx_str_t *out)
{
    return ngx_http_mock_json_filter(pool, NULL, in, out);
}


/*
 * Canonical JSON without the members and elements that the JSON paths of
 * mock_ignore body name; "used" flags the paths that named something.
 */

ngx_int_t
ngx_http_mock_json_ignore(ngx_pool_t *pool, ngx_array_t *paths, u_char *used,
    ngx_str_t *in, ngx_str_t *out)
{
    ngx_int_t             rc;
    ngx_http_mock_json_t  j;

    j.pos = in->data;
    j.last = in->data + in->len;
    j.pool = pool;
    j.depth = 0;
    j.filters = NULL;
    j.paths = paths->elts;
    j.npaths = paths->nelts;
    j.used = used;
    j.alive = ~(uint64_t) 0;

    rc = ngx_http_mock_json_value(&j, out);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_http_mock_json_space(&j);

    return (j.pos == j.last) ? NGX_OK : NGX_DECLINED;
}


/* canonical JSON with the members that mock_filter_body names redacted */

ngx_int_t
ngx_http_mock_json_filter(ngx_pool_t *pool, ngx_array_t *filters,
    ngx_str_t *in, ngx_str_t *out)
{
    ngx_int_t             rc;
    ngx_http_mock_json_t  j;

    j.pos = in->data;
    j.last = in->data + in->len;
    j.pool = pool;
    j.depth = 0;
    j.filters = filters;
    j.paths = NULL;
    j.npaths = 0;
    j.used = NULL;
    j.alive = 0;

    rc = ngx_http_mock_json_value(&j, out);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_http_mock_json_space(&j);

    return (j.pos == j.last) ? NGX_OK : NGX_DECLINED;
}


static ngx_int_t
ngx_http_mock_json_value(ngx_http_mock_json_t *j, ngx_str_t *out)
{
    ngx_http_mock_json_space(j);

    if (j->pos == j->last) {
        return NGX_DECLINED;
    }

    switch (*j->pos) {

    case '{':
    case '[':
        return ngx_http_mock_json_container(j, out);

    case '"':
        return ngx_http_mock_json_string(j, out);

    default:
        return ngx_http_mock_json_scalar(j, out);
    }
}


static ngx_int_t
ngx_http_mock_json_container(ngx_http_mock_json_t *j, ngx_str_t *out)
{
    u_char                  open, close, *p;
    size_t                  len;
    uint64_t                alive, child;
    ngx_int_t               rc;
    ngx_uint_t              i, object, index, drop;
    ngx_array_t             members;
    ngx_http_mock_member_t *m;

    if (++j->depth > NGX_HTTP_MOCK_JSON_DEPTH) {
        return NGX_DECLINED;
    }

    open = *j->pos++;
    object = (open == '{');
    close = object ? '}' : ']';

    if (ngx_array_init(&members, j->pool, 8, sizeof(ngx_http_mock_member_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_mock_json_space(j);

    if (j->pos < j->last && *j->pos == close) {
        j->pos++;
        goto done;
    }

    alive = j->alive;

    for (index = 0; /* void */ ; index++) {
        m = ngx_array_push(&members);
        if (m == NULL) {
            return NGX_ERROR;
        }

        ngx_str_null(&m->name);

        if (object) {
            ngx_http_mock_json_space(j);

            if (j->pos == j->last || *j->pos != '"') {
                return NGX_DECLINED;
            }

            rc = ngx_http_mock_json_string(j, &m->name);
            if (rc != NGX_OK) {
                return rc;
            }

            ngx_http_mock_json_space(j);

            if (j->pos == j->last || *j->pos != ':') {
                return NGX_DECLINED;
            }

            j->pos++;
        }

        drop = 0;

        if (j->paths) {
            child = 0;

            if (alive) {
                j->alive = alive;
                drop = ngx_http_mock_json_step(j, &m->name, index, &child);
            }

            j->alive = child;
        }

        rc = ngx_http_mock_json_value(j, &m->value);
        if (rc != NGX_OK) {
            return rc;
        }

        if (drop) {
            members.nelts--;

        } else if (object && j->filters) {
            rc = ngx_http_mock_json_redact(j, m);

            if (rc == NGX_ERROR) {
                return NGX_ERROR;
            }

            if (rc == NGX_DECLINED) {
                members.nelts--;
            }
        }

        ngx_http_mock_json_space(j);

        if (j->pos == j->last) {
            return NGX_DECLINED;
        }

        if (*j->pos == ',') {
            j->pos++;
            continue;
        }

        if (*j->pos == close) {
            j->pos++;
            break;
        }

        return NGX_DECLINED;
    }

    j->alive = alive;

done:

    j->depth--;

    if (object && members.nelts > 1) {
        ngx_qsort(members.elts, members.nelts, sizeof(ngx_http_mock_member_t),
                  ngx_http_mock_json_cmp);
    }

    m = members.elts;
    len = 2;

    for (i = 0; i < members.nelts; i++) {
        len += m[i].name.len + m[i].value.len + 2;
    }

    p = ngx_pnalloc(j->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;
    *p++ = open;

    for (i = 0; i < members.nelts; i++) {
        if (i) {
            *p++ = ',';
        }

        if (object) {
            p = ngx_http_mock_cpymem(p, m[i].name.data, m[i].name.len);
            *p++ = ':';
        }

        p = ngx_http_mock_cpymem(p, m[i].value.data, m[i].value.len);
    }

    *p++ = close;
    out->len = p - out->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mock_json_string(ngx_http_mock_json_t *j, ngx_str_t *out)
{
    u_char    *p;
    uint64_t   x;

    p = j->pos + 1;

    while (p < j->last) {

        /* eight bytes at a time while none is a quote, "\\" or control */

        if (j->last - p >= 8) {
            ngx_memcpy(&x, p, 8);

            if (!ngx_http_mock_json_special(x)) {
                p += 8;
                continue;
            }
        }

        if (*p == '"') {
            out->data = j->pos;
            out->len = p + 1 - j->pos;
            j->pos = p + 1;
            return NGX_OK;
        }

        if (*p < 0x20) {
            return NGX_DECLINED;
        }

        p += (*p == '\\') ? 2 : 1;
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_mock_json_scalar(ngx_http_mock_json_t *j, ngx_str_t *out)
{
    u_char  *p, c;

    p = j->pos;

    if (j->last - p >= 4
        && (ngx_strncmp(p, "true", 4) == 0 || ngx_strncmp(p, "null", 4) == 0))
    {
        out->data = p;
        out->len = 4;
        j->pos += 4;
        return NGX_OK;
    }

    if (j->last - p >= 5 && ngx_strncmp(p, "false", 5) == 0) {
        out->data = p;
        out->len = 5;
        j->pos += 5;
        return NGX_OK;
    }

    if (*p != '-' && (*p < '0' || *p > '9')) {
        return NGX_DECLINED;
    }

    for (p++; p < j->last; p++) {
        c = *p;

        if ((c >= '0' && c <= '9')
            || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')
        {
            continue;
        }

        break;
    }

    out->data = j->pos;
    out->len = p - j->pos;
    j->pos = p;

    return NGX_OK;
}


/*
 * Whether a JSON path ends at this member or element (it is dropped), and
 * which paths go on into its value.
 */

static ngx_uint_t
ngx_http_mock_json_step(ngx_http_mock_json_t *j, ngx_str_t *name,
    ngx_uint_t index, uint64_t *child)
{
    uint64_t               bit;
    ngx_uint_t             i, drop;
    ngx_http_mock_step_t  *st;

    drop = 0;

    for (i = 0; i < j->npaths; i++) {
        bit = (uint64_t) 1 << i;

        if (!(j->alive & bit) || j->paths[i].nsteps < j->depth) {
            continue;
        }

        st = &j->paths[i].steps[j->depth - 1];

        if (name->len) {
            if (st->type != NGX_HTTP_MOCK_STEP_MEMBER
                || name->len - 2 != st->name.len
                || ngx_strncmp(name->data + 1, st->name.data, st->name.len)
                   != 0)
            {
                continue;
            }

        } else if (st->type == NGX_HTTP_MOCK_STEP_MEMBER
                   || (st->type == NGX_HTTP_MOCK_STEP_INDEX
                       && st->index != index))
        {
            continue;
        }

        if (j->paths[i].nsteps == j->depth) {
            drop = 1;

            if (j->used) {
                j->used[i] = 1;
            }

        } else {
            *child |= bit;
        }
    }

    return drop;
}


/* NGX_DECLINED: the member is dropped */

static ngx_int_t
ngx_http_mock_json_redact(ngx_http_mock_json_t *j, ngx_http_mock_member_t *m)
{
    u_char                  *p, *q, *last;
    ngx_uint_t               i;
    ngx_http_mock_filter_t  *f;

    f = j->filters->elts;

    for (i = 0; i < j->filters->nelts; i++) {
        if (f[i].type != NGX_HTTP_MOCK_FILTER_BODY
            || f[i].name.len != m->name.len - 2
            || ngx_strncmp(f[i].name.data, m->name.data + 1, f[i].name.len)
               != 0)
        {
            continue;
        }

        if (f[i].drop) {
            return NGX_DECLINED;
        }

        p = ngx_pnalloc(j->pool, 2 * f[i].replacement.len + 2);
        if (p == NULL) {
            return NGX_ERROR;
        }

        m->value.data = p;
        *p++ = '"';

        last = f[i].replacement.data + f[i].replacement.len;

        for (q = f[i].replacement.data; q < last; q++) {
            if (*q == '"' || *q == '\\') {
                *p++ = '\\';
            }

            *p++ = *q;
        }

        *p++ = '"';
        m->value.len = p - m->value.data;

        return NGX_OK;
    }

    return NGX_OK;
}


static void
ngx_http_mock_json_space(ngx_http_mock_json_t *j)
{
    while (j->pos < j->last
           && (*j->pos == ' ' || *j->pos == '\t' || *j->pos == '\r'
               || *j->pos == '\n'))
    {
        j->pos++;
    }
}


static int ngx_libc_cdecl
ngx_http_mock_json_cmp(const void *one, const void *two)
{
    ngx_int_t                rc;
    ngx_http_mock_member_t  *a = (ngx_http_mock_member_t *) one;
    ngx_http_mock_member_t  *b = (ngx_http_mock_member_t *) two;

    rc = ngx_memn2cmp(a->name.data, b->name.data, a->name.len, b->name.len);
    if (rc) {
        return rc;
    }

    return ngx_memn2cmp(a->value.data, b->value.data, a->value.len,
                        b->value.len);
}


/*
 * The value that a path ("$", ".member", "[N]") names in a JSON text: a
 * string unescaped, anything else as written; null and what the path does
 * not name are empty.  NGX_DECLINED: not there, or not JSON.
 */

ngx_int_t
ngx_http_mock_json_get(ngx_pool_t *pool, ngx_str_t *in, ngx_str_t *path,
    ngx_str_t *out)
{
    u_char                *p, *last, *name;
    size_t                 len;
    ngx_int_t              n;
    ngx_str_t              key;
    ngx_http_mock_json_t   j;

    ngx_str_null(out);

    j.pos = in->data;
    j.last = in->data + in->len;
    j.pool = pool;
    j.depth = 0;
    j.filters = NULL;
    j.paths = NULL;
    j.npaths = 0;
    j.used = NULL;
    j.alive = 0;

    p = path->data + 1;
    last = path->data + path->len;

    while (p < last) {
        ngx_http_mock_json_space(&j);

        if (*p == '.') {
            name = ++p;

            while (p < last && *p != '.' && *p != '[') {
                p++;
            }

            len = p - name;

            if (j.pos == j.last || *j.pos != '{') {
                return NGX_DECLINED;
            }

            j.pos++;

            for ( ;; ) {
                ngx_http_mock_json_space(&j);

                if (j.pos == j.last || *j.pos != '"') {
                    return NGX_DECLINED;
                }

                if (ngx_http_mock_json_string(&j, &key) != NGX_OK) {
                    return NGX_DECLINED;
                }

                ngx_http_mock_json_space(&j);

                if (j.pos == j.last || *j.pos++ != ':') {
                    return NGX_DECLINED;
                }

                ngx_http_mock_json_space(&j);

                /* the key as written, quotes included */

                if (key.len == len + 2
                    && ngx_strncmp(key.data + 1, name, len) == 0)
                {
                    break;
                }

                if (ngx_http_mock_json_value(&j, &key) != NGX_OK) {
                    return NGX_DECLINED;
                }

                ngx_http_mock_json_space(&j);

                if (j.pos == j.last || *j.pos++ != ',') {
                    return NGX_DECLINED;
                }
            }

            continue;
        }

        /* "[N]" */

        for (n = 0, p++; p < last && *p != ']'; p++) {
            n = n * 10 + (*p - '0');
        }

        p++;

        if (j.pos == j.last || *j.pos != '[') {
            return NGX_DECLINED;
        }

        j.pos++;

        for ( /* void */ ; n; n--) {
            ngx_http_mock_json_space(&j);

            if (ngx_http_mock_json_value(&j, &key) != NGX_OK) {
                return NGX_DECLINED;
            }

            ngx_http_mock_json_space(&j);

            if (j.pos == j.last || *j.pos++ != ',') {
                return NGX_DECLINED;
            }
        }

        ngx_http_mock_json_space(&j);

        if (j.pos == j.last || *j.pos == ']') {
            return NGX_DECLINED;
        }
    }

    ngx_http_mock_json_space(&j);

    if (j.pos == j.last) {
        return NGX_DECLINED;
    }

    if (*j.pos != '"') {
        if (ngx_http_mock_json_value(&j, out) != NGX_OK) {
            ngx_str_null(out);
            return NGX_DECLINED;
        }

        if (out->len == 4 && ngx_strncmp(out->data, "null", 4) == 0) {
            ngx_str_null(out);
        }

        return NGX_OK;
    }

    if (ngx_http_mock_json_string(&j, &key) != NGX_OK) {
        return NGX_DECLINED;
    }

    return ngx_http_mock_json_unescape(pool, &key, out);
}


/* a JSON string as written, quotes included, into its bytes */

static ngx_int_t
ngx_http_mock_json_unescape(ngx_pool_t *pool, ngx_str_t *in, ngx_str_t *out)
{
    u_char    *p, *last, *q;
    uint32_t   c, lo;

    p = in->data + 1;
    last = in->data + in->len - 1;

    if (ngx_strlchr(p, last, '\\') == NULL) {
        out->data = p;
        out->len = last - p;
        return NGX_OK;
    }

    q = ngx_pnalloc(pool, in->len);
    if (q == NULL) {
        return NGX_ERROR;
    }

    out->data = q;

    while (p < last) {
        if (*p != '\\' || p + 1 >= last) {
            *q++ = *p++;
            continue;
        }

        p++;

        switch (*p++) {
        case 'b': *q++ = '\b'; break;
        case 'f': *q++ = '\f'; break;
        case 'n': *q++ = '\n'; break;
        case 'r': *q++ = '\r'; break;
        case 't': *q++ = '\t'; break;

        case 'u':
            if (last - p < 4
                || (c = ngx_hextoi(p, 4)) == (uint32_t) NGX_ERROR)
            {
                return NGX_DECLINED;
            }

            p += 4;

            if (c >= 0xd800 && c < 0xdc00 && last - p >= 6
                && p[0] == '\\' && p[1] == 'u'
                && (lo = ngx_hextoi(p + 2, 4)) != (uint32_t) NGX_ERROR
                && lo >= 0xdc00 && lo < 0xe000)
            {
                c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
                p += 6;
            }

            if (c < 0x80) {
                *q++ = (u_char) c;

            } else if (c < 0x800) {
                *q++ = (u_char) (0xc0 | (c >> 6));
                *q++ = (u_char) (0x80 | (c & 0x3f));

            } else if (c < 0x10000) {
                *q++ = (u_char) (0xe0 | (c >> 12));
                *q++ = (u_char) (0x80 | ((c >> 6) & 0x3f));
                *q++ = (u_char) (0x80 | (c & 0x3f));

            } else {
                *q++ = (u_char) (0xf0 | (c >> 18));
                *q++ = (u_char) (0x80 | ((c >> 12) & 0x3f));
                *q++ = (u_char) (0x80 | ((c >> 6) & 0x3f));
                *q++ = (u_char) (0x80 | (c & 0x3f));
            }

            break;

        default:
            *q++ = p[-1];
        }
    }

    out->len = q - out->data;

    return NGX_OK;
}


/*
 * n in decimal at p, which has room for NGX_INT64_LEN bytes; returns the
 * end.  For the protocol and the keys that every request writes, where
 * ngx_sprintf() would read a format each time.
 */

u_char *
ngx_http_mock_decimal(u_char *p, uint64_t n)
{
    u_char  *q, *last;
    u_char   buf[NGX_INT64_LEN];

    last = buf + NGX_INT64_LEN;
    q = last;

    do {
        *--q = (u_char) ('0' + n % 10);
        n /= 10;
    } while (n);

    return ngx_cpymem(p, q, last - q);
}


/*
 * s as a JSON string, quoted, at dst, which has room for 2 + 6 * s->len
 * bytes; returns the end.  Bytes from 0x80 up go as they are.
 */

u_char *
ngx_http_mock_json_quote(u_char *dst, ngx_str_t *s)
{
    u_char  *p, *last;

    static u_char  hex[] = "0123456789abcdef";

    *dst++ = '"';

    last = s->data + s->len;

    for (p = s->data; p < last; p++) {
        if (*p == '"' || *p == '\\') {
            *dst++ = '\\';
            *dst++ = *p;

        } else if (*p < 0x20 || *p == 0x7f) {
            *dst++ = '\\'; *dst++ = 'u'; *dst++ = '0'; *dst++ = '0';
            *dst++ = hex[*p >> 4];
            *dst++ = hex[*p & 0xf];

        } else {
            *dst++ = *p;
        }
    }

    *dst++ = '"';

    return dst;
}
