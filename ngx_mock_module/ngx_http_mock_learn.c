
/*
 * Templates learned while recording: response values that equal one value
 * of the request become the {{request...}} expressions that echo it.
 *
 * The request's values are its path segments, query parameters, the
 * request headers named in "headers=", and the JSON members (strings and
 * numbers) or form fields of its body, as they were recorded (after the
 * filters).  A value shorter than "min" characters, a value found in more
 * than one place, and a place that an expression cannot name (a name
 * that is not [A-Za-z0-9_-], a repeated name) are never used.
 *
 * In a JSON response body a string member equal to a value is written as
 * "{{request...}}", the expression inside the quotes, and a number member
 * as the bare expression; strings are compared decoded, numbers as
 * written, so 7.0 is not 7.  The rest of the body is kept byte for byte.
 * A response header value equal to a value becomes the expression, and
 * so does a path segment of a Location or Content-Location URL.  In an
 * interaction that is templated, a "{{" that was there already is
 * written as {{ "{{" }}; a body that could not be changed that way (a
 * compressed or binary one) leaves the whole interaction as it was.
 */


#include "ngx_http_mock_module.h"


#define NGX_HTTP_MOCK_LEARN_DEPTH    64
#define NGX_HTTP_MOCK_LEARN_PATH     512

#define NGX_HTTP_MOCK_LEARN_OPEN     "{{ \"{{\" }}"


typedef struct {
    ngx_str_t                     value;
    ngx_str_t                     expr;         /* empty: cannot be named */
} ngx_http_mock_place_t;


typedef struct {
    u_char                       *start;        /* in the body */
    u_char                       *end;
    ngx_str_t                    *expr;
} ngx_http_mock_subst_t;


typedef struct {
    ngx_pool_t                   *pool;
    ngx_http_mock_learn_conf_t   *conf;
    ngx_array_t                   places;       /* ngx_http_mock_place_t */
    uint64_t                      lengths;      /* bit len % 64 of each */
    ngx_array_t                   substs;       /* ngx_http_mock_subst_t */
    ngx_array_t                  *templated;    /* ngx_str_t */

    /* the JSON being read */
    u_char                       *pos;
    u_char                       *last;
    ngx_uint_t                    depth;
    ngx_uint_t                    collect;      /* the request's body */
    ngx_uint_t                    unnamed;      /* levels without a name */
    size_t                        path_len;
    u_char                        path[NGX_HTTP_MOCK_LEARN_PATH];
} ngx_http_mock_learn_t;


static ngx_int_t ngx_http_mock_learn_places(ngx_http_mock_learn_t *l,
    ngx_http_mock_record_t *rec);
static ngx_int_t ngx_http_mock_learn_path(ngx_http_mock_learn_t *l,
    ngx_str_t *path);
static ngx_int_t ngx_http_mock_learn_pairs(ngx_http_mock_learn_t *l,
    u_char *p, u_char *last, const char *prefix);
static int ngx_libc_cdecl ngx_http_mock_learn_cmp_names(const void *one,
    const void *two);
static ngx_int_t ngx_http_mock_learn_headers(ngx_http_mock_learn_t *l,
    ngx_array_t *headers);
static ngx_int_t ngx_http_mock_learn_place(ngx_http_mock_learn_t *l,
    ngx_str_t *value, const char *prefix, ngx_str_t *name);
static ngx_int_t ngx_http_mock_learn_json(ngx_http_mock_learn_t *l,
    ngx_str_t *body);
static ngx_int_t ngx_http_mock_learn_value(ngx_http_mock_learn_t *l);
static ngx_int_t ngx_http_mock_learn_container(ngx_http_mock_learn_t *l);
static ngx_int_t ngx_http_mock_learn_string(ngx_http_mock_learn_t *l,
    ngx_str_t *value);
static ngx_int_t ngx_http_mock_learn_number(ngx_http_mock_learn_t *l);
static ngx_int_t ngx_http_mock_learn_leaf(ngx_http_mock_learn_t *l,
    u_char *start, u_char *end, ngx_str_t *value);
static void ngx_http_mock_learn_space(ngx_http_mock_learn_t *l);
static ngx_uint_t ngx_http_mock_learn_occurs(ngx_http_mock_learn_t *l,
    ngx_str_t *body);
static ngx_str_t *ngx_http_mock_learn_find(ngx_http_mock_learn_t *l,
    ngx_str_t *value);
static ngx_int_t ngx_http_mock_learn_response_headers(
    ngx_http_mock_learn_t *l, ngx_array_t *headers, ngx_str_t *values);
static ngx_int_t ngx_http_mock_learn_url(ngx_http_mock_learn_t *l,
    ngx_str_t *url, ngx_array_t *substs);
static ngx_int_t ngx_http_mock_learn_rewrite(ngx_pool_t *pool,
    ngx_str_t *s, ngx_array_t *substs);
static ngx_int_t ngx_http_mock_learn_note(ngx_http_mock_learn_t *l,
    const char *prefix, u_char *name, size_t len);
static ngx_uint_t ngx_http_mock_learn_braces(u_char *p, u_char *last);
static ngx_uint_t ngx_http_mock_learn_text(ngx_str_t *s);
static ngx_uint_t ngx_http_mock_learn_plain(u_char *p, size_t len);
static ngx_str_t *ngx_http_mock_learn_header(ngx_array_t *headers,
    char *name, size_t len);
static size_t ngx_http_mock_learn_chars(ngx_str_t *s);
static int ngx_libc_cdecl ngx_http_mock_learn_cmp(const void *one,
    const void *two);


/*
 * Turns the record's response into templates where it echoes the
 * request, and lists in rec->templated what it turned.  NGX_DECLINED:
 * nothing was templated, the record is as it was.
 */

ngx_int_t
ngx_http_mock_learn(ngx_pool_t *pool, ngx_http_mock_learn_conf_t *conf,
    ngx_http_mock_record_t *rec)
{
    ngx_int_t               rc;
    ngx_str_t              *type, *enc, body, *values;
    ngx_uint_t              i, braces, json, compressed;
    ngx_table_elt_t        *h;
    ngx_http_mock_learn_t  *l;

    l = ngx_palloc(pool, sizeof(ngx_http_mock_learn_t));
    if (l == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(l, offsetof(ngx_http_mock_learn_t, path));

    l->pool = pool;
    l->conf = conf;

    if (ngx_array_init(&l->places, pool, 16, sizeof(ngx_http_mock_place_t))
        != NGX_OK
        || ngx_array_init(&l->substs, pool, 4, sizeof(ngx_http_mock_subst_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    l->templated = ngx_array_create(pool, 4, sizeof(ngx_str_t));
    if (l->templated == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_mock_learn_places(l, rec) != NGX_OK) {
        return NGX_ERROR;
    }

    if (l->places.nelts == 0) {
        return NGX_DECLINED;
    }

    ngx_qsort(l->places.elts, l->places.nelts, sizeof(ngx_http_mock_place_t),
              ngx_http_mock_learn_cmp);

    /* the body: JSON, not compressed */

    type = ngx_http_mock_content_type(&rec->headers);
    enc = ngx_http_mock_learn_header(&rec->headers, "Content-Encoding",
                                     sizeof("Content-Encoding") - 1);

    compressed = (enc != NULL
                  && !(enc->len == 8
                       && ngx_strncasecmp(enc->data, (u_char *) "identity", 8)
                          == 0));

    json = !compressed
           && (type == NULL
               || ngx_strlcasestrn(type->data, type->data + type->len,
                                   (u_char *) "json", 4 - 1)
                  != NULL);

    if (json && rec->body.len && ngx_http_mock_learn_occurs(l, &rec->body)) {
        rc = ngx_http_mock_learn_json(l, &rec->body);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_DECLINED) {
            /* not JSON after all: what was found goes */
            l->substs.nelts = 0;
            l->templated->nelts = 0;
        }
    }

    values = NULL;

    if (rec->headers.nelts) {
        values = ngx_pcalloc(pool, rec->headers.nelts * sizeof(ngx_str_t));
        if (values == NULL) {
            return NGX_ERROR;
        }

        if (ngx_http_mock_learn_response_headers(l, &rec->headers, values)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (l->templated->nelts == 0) {
        return NGX_DECLINED;
    }

    /* a "{{" that was there must stay text, which only text bodies can */

    braces = ngx_http_mock_learn_braces(rec->body.data,
                                        rec->body.data + rec->body.len);

    if ((braces && compressed)
        || ((braces || l->substs.nelts)
            && !ngx_http_mock_learn_text(&rec->body)))
    {
        return NGX_DECLINED;
    }

    body = rec->body;

    if ((braces || l->substs.nelts)
        && ngx_http_mock_learn_rewrite(pool, &body, &l->substs) != NGX_OK)
    {
        return NGX_ERROR;
    }

    h = rec->headers.elts;

    for (i = 0; i < rec->headers.nelts; i++) {
        if (values[i].data) {
            h[i].value = values[i];
            continue;
        }

        if (ngx_http_mock_learn_braces(h[i].value.data,
                                       h[i].value.data + h[i].value.len)
            && ngx_http_mock_learn_rewrite(pool, &h[i].value, NULL)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    rec->body = body;
    rec->templated = l->templated;

    return NGX_OK;
}


/* the values of the request, each with the expression that names it */

static ngx_int_t
ngx_http_mock_learn_places(ngx_http_mock_learn_t *l,
    ngx_http_mock_record_t *rec)
{
    u_char      *q, *last, *mime;
    ngx_int_t    rc;
    ngx_str_t   *type;
    ngx_uint_t   n;

    if (ngx_http_mock_learn_path(l, &rec->key.path) != NGX_OK) {
        return NGX_ERROR;
    }

    last = rec->uri.data + rec->uri.len;
    q = ngx_strlchr(rec->uri.data, last, '?');

    if (q && ngx_http_mock_learn_pairs(l, q + 1, last, "request.query.")
             != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (l->conf->headers
        && ngx_http_mock_learn_headers(l, &rec->req_headers) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (rec->req_body.len == 0) {
        return NGX_OK;
    }

    type = ngx_http_mock_content_type(&rec->req_headers);

    if (type) {
        mime = ngx_strlchr(type->data, type->data + type->len, ';');
        n = (mime ? mime : type->data + type->len) - type->data;

        if (n == sizeof("application/x-www-form-urlencoded") - 1
            && ngx_strncasecmp(type->data,
                               (u_char *) "application/x-www-form-urlencoded",
                               n)
               == 0)
        {
            return ngx_http_mock_learn_pairs(l, rec->req_body.data,
                                             rec->req_body.data
                                             + rec->req_body.len,
                                             "request.form.");
        }

        if (ngx_strlcasestrn(type->data, type->data + n, (u_char *) "json",
                             4 - 1)
            == NULL)
        {
            return NGX_OK;
        }
    }

    n = l->places.nelts;
    l->collect = 1;

    rc = ngx_http_mock_learn_json(l, &rec->req_body);

    l->collect = 0;

    if (rc == NGX_DECLINED) {
        /* not JSON: none of its values */
        l->places.nelts = n;
        return NGX_OK;
    }

    return rc;
}


/* "/v1/users/7": request.path.2 is "7" */

static ngx_int_t
ngx_http_mock_learn_path(ngx_http_mock_learn_t *l, ngx_str_t *path)
{
    u_char      *p, *start, *last;
    ngx_str_t    value, name;
    ngx_uint_t   n;
    u_char       num[NGX_INT_T_LEN];

    if (path->len == 0 || path->data[0] != '/') {
        return NGX_OK;
    }

    last = path->data + path->len;
    p = path->data + 1;

    for (n = 0; /* void */ ; n++) {
        start = p;

        while (p < last && *p != '/') {
            p++;
        }

        value.data = start;
        value.len = p - start;

        name.data = num;
        name.len = ngx_sprintf(num, "%ui", n) - num;

        if (ngx_http_mock_learn_place(l, &value, "request.path.", &name)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (p == last) {
            return NGX_OK;
        }

        p++;
    }
}


/*
 * name=value&...: a query or a form, percent-decoded.  A name that comes
 * more than once names none of its values: which one would be meant?
 */

static ngx_int_t
ngx_http_mock_learn_pairs(ngx_http_mock_learn_t *l, u_char *p, u_char *last,
    const char *prefix)
{
    u_char        *start, *eq;
    ngx_uint_t     i, n, same;
    ngx_keyval_t  *pairs;

    n = 1;

    for (start = p; start < last; start++) {
        if (*start == '&') {
            n++;
        }
    }

    pairs = ngx_palloc(l->pool, n * sizeof(ngx_keyval_t));
    if (pairs == NULL) {
        return NGX_ERROR;
    }

    n = 0;

    while (p < last) {
        start = p;

        while (p < last && *p != '&') {
            p++;
        }

        if (p > start) {
            eq = ngx_strlchr(start, p, '=');

            if (ngx_http_mock_decode(l->pool, start, eq ? eq : p, 1,
                                           &pairs[n].key)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            ngx_str_null(&pairs[n].value);

            if (eq && ngx_http_mock_decode(l->pool, eq + 1, p, 1,
                                                 &pairs[n].value)
                      != NGX_OK)
            {
                return NGX_ERROR;
            }

            n++;
        }

        p++;
    }

    if (n > 1) {
        ngx_qsort(pairs, n, sizeof(ngx_keyval_t),
                  ngx_http_mock_learn_cmp_names);
    }

    for (i = 0; i < n; i++) {
        same = (i > 0
                && ngx_memn2cmp(pairs[i].key.data, pairs[i - 1].key.data,
                                pairs[i].key.len, pairs[i - 1].key.len) == 0)
               || (i + 1 < n
                   && ngx_memn2cmp(pairs[i].key.data, pairs[i + 1].key.data,
                                   pairs[i].key.len, pairs[i + 1].key.len)
                      == 0);

        if (!same) {
            same = !ngx_http_mock_learn_plain(pairs[i].key.data,
                                              pairs[i].key.len);
        }

        if (ngx_http_mock_learn_place(l, &pairs[i].value, prefix,
                                      same ? NULL : &pairs[i].key)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static int ngx_libc_cdecl
ngx_http_mock_learn_cmp_names(const void *one, const void *two)
{
    ngx_keyval_t  *a = (ngx_keyval_t *) one;
    ngx_keyval_t  *b = (ngx_keyval_t *) two;

    return ngx_memn2cmp(a->key.data, b->key.data, a->key.len, b->key.len);
}


/* the request headers named in "headers=", when sent once */

static ngx_int_t
ngx_http_mock_learn_headers(ngx_http_mock_learn_t *l, ngx_array_t *headers)
{
    ngx_str_t        *names, *value;
    ngx_uint_t        i, j, n;
    ngx_table_elt_t  *h;

    names = l->conf->headers->elts;
    h = headers->elts;

    for (i = 0; i < l->conf->headers->nelts; i++) {
        n = 0;
        value = NULL;

        for (j = 0; j < headers->nelts; j++) {
            if (h[j].key.len == names[i].len
                && ngx_strncasecmp(h[j].key.data, names[i].data,
                                   names[i].len) == 0)
            {
                n++;
                value = &h[j].value;
            }
        }

        if (n == 0) {
            continue;
        }

        if (n > 1) {
            /* every value counts, none can be named */

            for (j = 0; j < headers->nelts; j++) {
                if (h[j].key.len == names[i].len
                    && ngx_strncasecmp(h[j].key.data, names[i].data,
                                       names[i].len) == 0
                    && ngx_http_mock_learn_place(l, &h[j].value,
                                                 "request.header.", NULL)
                       != NGX_OK)
                {
                    return NGX_ERROR;
                }
            }

            continue;
        }

        if (ngx_http_mock_learn_place(l, value, "request.header.", &names[i])
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* one value of the request; without a name no expression names it */

static ngx_int_t
ngx_http_mock_learn_place(ngx_http_mock_learn_t *l, ngx_str_t *value,
    const char *prefix, ngx_str_t *name)
{
    size_t                  len;
    ngx_http_mock_place_t  *pl;

    if (value->len < l->conf->min
        || ngx_http_mock_learn_chars(value) < l->conf->min)
    {
        return NGX_OK;
    }

    pl = ngx_array_push(&l->places);
    if (pl == NULL) {
        return NGX_ERROR;
    }

    l->lengths |= (uint64_t) 1 << (value->len % 64);

    pl->value = *value;
    ngx_str_null(&pl->expr);

    if (name == NULL) {
        return NGX_OK;
    }

    len = ngx_strlen(prefix);

    pl->expr.data = ngx_pnalloc(l->pool, len + name->len);
    if (pl->expr.data == NULL) {
        return NGX_ERROR;
    }

    pl->expr.len = ngx_cpymem(ngx_cpymem(pl->expr.data, prefix, len),
                              name->data, name->len)
                   - pl->expr.data;

    return NGX_OK;
}


/* NGX_DECLINED: not JSON */

static ngx_int_t
ngx_http_mock_learn_json(ngx_http_mock_learn_t *l, ngx_str_t *body)
{
    ngx_int_t  rc;

    l->pos = body->data;
    l->last = body->data + body->len;
    l->depth = 0;
    l->unnamed = 0;
    l->path_len = 0;

    rc = ngx_http_mock_learn_value(l);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_http_mock_learn_space(l);

    return (l->pos == l->last) ? NGX_OK : NGX_DECLINED;
}


static ngx_int_t
ngx_http_mock_learn_value(ngx_http_mock_learn_t *l)
{
    u_char     *start;
    ngx_int_t   rc;
    ngx_str_t   value;

    ngx_http_mock_learn_space(l);

    if (l->pos == l->last) {
        return NGX_DECLINED;
    }

    start = l->pos;

    switch (*l->pos) {

    case '{':
    case '[':
        return ngx_http_mock_learn_container(l);

    case '"':
        rc = ngx_http_mock_learn_string(l, &value);
        if (rc != NGX_OK) {
            return rc;
        }

        /* what is between the quotes */
        return ngx_http_mock_learn_leaf(l, start + 1, l->pos - 1, &value);

    case 't':
    case 'f':
    case 'n':
        if ((size_t) (l->last - l->pos) >= 4
            && (ngx_strncmp(l->pos, "true", 4) == 0
                || ngx_strncmp(l->pos, "null", 4) == 0))
        {
            l->pos += 4;
            return NGX_OK;
        }

        if ((size_t) (l->last - l->pos) >= 5
            && ngx_strncmp(l->pos, "false", 5) == 0)
        {
            l->pos += 5;
            return NGX_OK;
        }

        return NGX_DECLINED;

    default:
        rc = ngx_http_mock_learn_number(l);
        if (rc != NGX_OK) {
            return rc;
        }

        value.data = start;
        value.len = l->pos - start;

        return ngx_http_mock_learn_leaf(l, start, l->pos, &value);
    }
}


/* members get ".name" in the path, elements "[N]" */

static ngx_int_t
ngx_http_mock_learn_container(ngx_http_mock_learn_t *l)
{
    u_char      close;
    size_t      len;
    ngx_int_t   rc;
    ngx_str_t   name;
    ngx_uint_t  n, object, unnamed;

    if (++l->depth > NGX_HTTP_MOCK_LEARN_DEPTH) {
        return NGX_DECLINED;
    }

    object = (*l->pos++ == '{');
    close = object ? '}' : ']';

    ngx_http_mock_learn_space(l);

    if (l->pos < l->last && *l->pos == close) {
        l->pos++;
        l->depth--;
        return NGX_OK;
    }

    len = l->path_len;
    unnamed = l->unnamed;

    for (n = 0; /* void */ ; n++) {

        if (object) {
            ngx_http_mock_learn_space(l);

            if (l->pos == l->last || *l->pos != '"') {
                return NGX_DECLINED;
            }

            rc = ngx_http_mock_learn_string(l, &name);
            if (rc != NGX_OK) {
                return rc;
            }

            ngx_http_mock_learn_space(l);

            if (l->pos == l->last || *l->pos != ':') {
                return NGX_DECLINED;
            }

            l->pos++;

            if (l->unnamed == 0
                && name.data
                && ngx_http_mock_learn_plain(name.data, name.len)
                && len + 1 + name.len <= NGX_HTTP_MOCK_LEARN_PATH)
            {
                l->path[len] = '.';
                ngx_memcpy(&l->path[len + 1], name.data, name.len);
                l->path_len = len + 1 + name.len;

            } else {
                l->unnamed++;
            }

        } else if (l->unnamed == 0
                   && len + 2 + NGX_INT_T_LEN <= NGX_HTTP_MOCK_LEARN_PATH)
        {
            l->path_len = ngx_sprintf(&l->path[len], "[%ui]", n) - l->path;

        } else {
            l->unnamed++;
        }

        rc = ngx_http_mock_learn_value(l);
        if (rc != NGX_OK) {
            return rc;
        }

        l->path_len = len;
        l->unnamed = unnamed;

        ngx_http_mock_learn_space(l);

        if (l->pos == l->last) {
            return NGX_DECLINED;
        }

        if (*l->pos == ',') {
            l->pos++;
            continue;
        }

        if (*l->pos == close) {
            l->pos++;
            l->depth--;
            return NGX_OK;
        }

        return NGX_DECLINED;
    }
}


/*
 * A string, decoded; l->pos goes past its closing quote.  A string with
 * a lone surrogate escape has no value (value->data is NULL).
 */

static ngx_int_t
ngx_http_mock_learn_string(ngx_http_mock_learn_t *l, ngx_str_t *value)
{
    u_char      *p, *start, *dst;
    uint32_t     c, c2;
    ngx_int_t    n;
    ngx_uint_t   escaped, bad;

    start = ++l->pos;

    /* most strings have no escape: the closing quote is the first one */

    p = memchr(start, '"', l->last - start);
    if (p == NULL) {
        return NGX_DECLINED;
    }

    escaped = (memchr(start, '\\', p - start) != NULL);

    for (p = escaped ? start : p; p < l->last && *p != '"'; p++) {
        if (*p < 0x20) {
            return NGX_DECLINED;
        }

        if (*p == '\\') {
            if (++p == l->last) {
                return NGX_DECLINED;
            }
        }
    }

    if (p == l->last) {
        return NGX_DECLINED;
    }

    l->pos = p + 1;

    value->data = start;
    value->len = p - start;

    if (!escaped) {
        return NGX_OK;
    }

    /* no escape decodes to more bytes than it takes */

    dst = ngx_pnalloc(l->pool, value->len);
    if (dst == NULL) {
        return NGX_ERROR;
    }

    value->data = dst;
    bad = 0;

    for (p = start; *p != '"'; p++) {
        if (*p != '\\') {
            *dst++ = *p;
            continue;
        }

        switch (*++p) {
        case '"':  *dst++ = '"'; continue;
        case '\\': *dst++ = '\\'; continue;
        case '/':  *dst++ = '/'; continue;
        case 'b':  *dst++ = '\b'; continue;
        case 'f':  *dst++ = '\f'; continue;
        case 'n':  *dst++ = '\n'; continue;
        case 'r':  *dst++ = '\r'; continue;
        case 't':  *dst++ = '\t'; continue;
        case 'u':  break;
        default:   return NGX_DECLINED;
        }

        if (l->pos - 1 - p < 5
            || (n = ngx_hextoi(p + 1, 4)) == NGX_ERROR)
        {
            return NGX_DECLINED;
        }

        c = (uint32_t) n;
        p += 4;

        if (c >= 0xd800 && c <= 0xdbff) {
            /* a pair: \ud83d\ude00 */

            if (l->pos - 1 - p < 7 || p[1] != '\\' || p[2] != 'u'
                || (n = ngx_hextoi(p + 3, 4)) == NGX_ERROR
                || n < 0xdc00 || n > 0xdfff)
            {
                bad = 1;
                continue;
            }

            c2 = (uint32_t) n;
            c = 0x10000 + ((c - 0xd800) << 10) + (c2 - 0xdc00);
            p += 6;

        } else if (c >= 0xdc00 && c <= 0xdfff) {
            bad = 1;
            continue;
        }

        if (c < 0x80) {
            *dst++ = (u_char) c;

        } else if (c < 0x800) {
            *dst++ = (u_char) (0xc0 | (c >> 6));
            *dst++ = (u_char) (0x80 | (c & 0x3f));

        } else if (c < 0x10000) {
            *dst++ = (u_char) (0xe0 | (c >> 12));
            *dst++ = (u_char) (0x80 | ((c >> 6) & 0x3f));
            *dst++ = (u_char) (0x80 | (c & 0x3f));

        } else {
            *dst++ = (u_char) (0xf0 | (c >> 18));
            *dst++ = (u_char) (0x80 | ((c >> 12) & 0x3f));
            *dst++ = (u_char) (0x80 | ((c >> 6) & 0x3f));
            *dst++ = (u_char) (0x80 | (c & 0x3f));
        }
    }

    if (bad) {
        ngx_str_null(value);
        return NGX_OK;
    }

    value->len = dst - value->data;

    return NGX_OK;
}


/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */

static ngx_int_t
ngx_http_mock_learn_number(ngx_http_mock_learn_t *l)
{
    u_char  *p, *last, *digits;

    p = l->pos;
    last = l->last;

    if (p < last && *p == '-') {
        p++;
    }

    if (p == last || *p < '0' || *p > '9') {
        return NGX_DECLINED;
    }

    if (*p++ == '0' && p < last && *p >= '0' && *p <= '9') {
        return NGX_DECLINED;
    }

    while (p < last && *p >= '0' && *p <= '9') {
        p++;
    }

    if (p < last && *p == '.') {
        digits = ++p;

        while (p < last && *p >= '0' && *p <= '9') {
            p++;
        }

        if (p == digits) {
            return NGX_DECLINED;
        }
    }

    if (p < last && (*p == 'e' || *p == 'E')) {
        p++;

        if (p < last && (*p == '+' || *p == '-')) {
            p++;
        }

        digits = p;

        while (p < last && *p >= '0' && *p <= '9') {
            p++;
        }

        if (p == digits) {
            return NGX_DECLINED;
        }
    }

    l->pos = p;

    return NGX_OK;
}


/* a string or a number: a value of the request, or one to template */

static ngx_int_t
ngx_http_mock_learn_leaf(ngx_http_mock_learn_t *l, u_char *start,
    u_char *end, ngx_str_t *value)
{
    ngx_str_t               *expr, name;
    ngx_http_mock_subst_t   *s;

    if (value->data == NULL) {
        return NGX_OK;
    }

    if (l->collect) {
        name.data = l->path;
        name.len = l->path_len;

        return ngx_http_mock_learn_place(l, value, "request.body.$",
                                         l->unnamed ? NULL : &name);
    }

    if (l->unnamed) {
        return NGX_OK;
    }

    expr = ngx_http_mock_learn_find(l, value);
    if (expr == NULL) {
        return NGX_OK;
    }

    s = ngx_array_push(&l->substs);
    if (s == NULL) {
        return NGX_ERROR;
    }

    s->start = start;
    s->end = end;
    s->expr = expr;

    return ngx_http_mock_learn_note(l, "$", l->path, l->path_len);
}


static void
ngx_http_mock_learn_space(ngx_http_mock_learn_t *l)
{
    while (l->pos < l->last
           && (*l->pos == ' ' || *l->pos == '\t' || *l->pos == '\n'
               || *l->pos == '\r'))
    {
        l->pos++;
    }
}


/*
 * Whether the body may echo a value: one occurs in it as it is, or an
 * escape could hide one.  Most answers echo nothing and are not read.
 */

static ngx_uint_t
ngx_http_mock_learn_occurs(ngx_http_mock_learn_t *l, ngx_str_t *body)
{
    u_char                 *p, *last;
    ngx_str_t              *v;
    ngx_uint_t              i;
    ngx_http_mock_place_t  *pl;

    if (l->places.nelts > 32
        || memchr(body->data, '\\', body->len) != NULL)
    {
        return 1;
    }

    pl = l->places.elts;
    last = body->data + body->len;

    for (i = 0; i < l->places.nelts; i++) {
        v = &pl[i].value;

        for (p = body->data;
             (size_t) (last - p) >= v->len
             && (p = memchr(p, v->data[0], last - p - v->len + 1)) != NULL;
             p++)
        {
            if (ngx_memcmp(p, v->data, v->len) == 0) {
                return 1;
            }
        }
    }

    return 0;
}


/*
 * The expression of the one request place with this value, or NULL.  The
 * places are at least "min" characters long, and so is what equals one.
 */

static ngx_str_t *
ngx_http_mock_learn_find(ngx_http_mock_learn_t *l, ngx_str_t *value)
{
    ngx_int_t               rc;
    ngx_uint_t              lo, hi, mid;
    ngx_http_mock_place_t  *pl;

    if (!(l->lengths & ((uint64_t) 1 << (value->len % 64)))) {
        return NULL;
    }

    pl = l->places.elts;
    lo = 0;
    hi = l->places.nelts;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        rc = ngx_memn2cmp(value->data, pl[mid].value.data, value->len,
                          pl[mid].value.len);

        if (rc == 0) {
            if ((mid > 0
                 && ngx_http_mock_learn_cmp(&pl[mid - 1], &pl[mid]) == 0)
                || (mid + 1 < l->places.nelts
                    && ngx_http_mock_learn_cmp(&pl[mid + 1], &pl[mid]) == 0))
            {
                /* in more than one place */
                return NULL;
            }

            return pl[mid].expr.len ? &pl[mid].expr : NULL;
        }

        if (rc < 0) {
            hi = mid;

        } else {
            lo = mid + 1;
        }
    }

    return NULL;
}


/*
 * The new value of each response header that echoes the request, in
 * values[], with the header noted in the templated list.
 */

static ngx_int_t
ngx_http_mock_learn_response_headers(ngx_http_mock_learn_t *l,
    ngx_array_t *headers, ngx_str_t *values)
{
    ngx_str_t              *expr, *name;
    ngx_uint_t              i, k, url;
    ngx_array_t             substs;
    ngx_table_elt_t        *h;
    ngx_http_mock_subst_t  *s;

    static ngx_str_t  framing[] = {
        ngx_string("Content-Length"),
        ngx_string("Content-Type"),
        ngx_string("Content-Encoding"),
        ngx_string("Transfer-Encoding"),
        ngx_string("Connection")
    };

    if (ngx_array_init(&substs, l->pool, 2, sizeof(ngx_http_mock_subst_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    h = headers->elts;

    for (i = 0; i < headers->nelts; i++) {
        name = &h[i].key;

        for (k = 0; k < sizeof(framing) / sizeof(ngx_str_t); k++) {
            if (name->len == framing[k].len
                && ngx_strncasecmp(name->data, framing[k].data, name->len)
                   == 0)
            {
                break;
            }
        }

        if (k < sizeof(framing) / sizeof(ngx_str_t)) {
            continue;
        }

        substs.nelts = 0;

        expr = ngx_http_mock_learn_find(l, &h[i].value);

        if (expr) {
            s = ngx_array_push(&substs);
            if (s == NULL) {
                return NGX_ERROR;
            }

            s->start = h[i].value.data;
            s->end = h[i].value.data + h[i].value.len;
            s->expr = expr;

        } else {
            url = (name->len == sizeof("Location") - 1
                   && ngx_strncasecmp(name->data, (u_char *) "Location",
                                      name->len) == 0)
                  || (name->len == sizeof("Content-Location") - 1
                      && ngx_strncasecmp(name->data,
                                         (u_char *) "Content-Location",
                                         name->len) == 0);

            if (url
                && ngx_http_mock_learn_url(l, &h[i].value, &substs)
                   != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        if (substs.nelts == 0) {
            continue;
        }

        values[i] = h[i].value;

        if (ngx_http_mock_learn_rewrite(l->pool, &values[i], &substs)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (ngx_http_mock_learn_note(l, "header ", name->data, name->len)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* the path segments of a URL that echo the request: "/orders/{{...}}" */

static ngx_int_t
ngx_http_mock_learn_url(ngx_http_mock_learn_t *l, ngx_str_t *url,
    ngx_array_t *substs)
{
    u_char                 *p, *last, *start;
    ngx_str_t               seg, *expr;
    ngx_http_mock_subst_t  *s;

    p = url->data;
    last = url->data + url->len;

    if (!(p < last && *p == '/' && (p + 1 == last || p[1] != '/'))) {
        /* scheme://authority/path */

        p = ngx_strlcasestrn(p, last, (u_char *) "://", 3 - 1);
        if (p == NULL) {
            return NGX_OK;
        }

        p = ngx_strlchr(p + 3, last, '/');
        if (p == NULL) {
            return NGX_OK;
        }
    }

    while (p < last && *p == '/') {
        start = ++p;

        while (p < last && *p != '/' && *p != '?' && *p != '#') {
            p++;
        }

        seg.data = start;
        seg.len = p - start;

        if (seg.len == 0 || ngx_strlchr(seg.data, p, '%')) {
            continue;
        }

        expr = ngx_http_mock_learn_find(l, &seg);
        if (expr == NULL) {
            continue;
        }

        s = ngx_array_push(substs);
        if (s == NULL) {
            return NGX_ERROR;
        }

        s->start = seg.data;
        s->end = p;
        s->expr = expr;
    }

    return NGX_OK;
}


/*
 * s with each substitution (in order) replaced by its expression, and a
 * "{{" elsewhere by {{ "{{" }}.
 */

static ngx_int_t
ngx_http_mock_learn_rewrite(ngx_pool_t *pool, ngx_str_t *s,
    ngx_array_t *substs)
{
    u_char                 *p, *q, *end, *last, *dst;
    size_t                  len;
    ngx_uint_t              i, n;
    ngx_http_mock_subst_t  *sub;

    last = s->data + s->len;
    n = substs ? substs->nelts : 0;
    sub = substs ? substs->elts : NULL;

    len = s->len + ngx_http_mock_learn_braces(s->data, last)
                   * (sizeof(NGX_HTTP_MOCK_LEARN_OPEN) - 1);

    for (i = 0; i < n; i++) {
        len += sub[i].expr->len + 4;
    }

    dst = ngx_pnalloc(pool, len);
    if (dst == NULL) {
        return NGX_ERROR;
    }

    p = s->data;
    s->data = dst;

    for (i = 0; i <= n; i++) {
        end = (i < n) ? sub[i].start : last;

        /* the text before the substitution */

        while (p < end) {
            q = memchr(p, '{', end - p);

            if (q == NULL) {
                dst = ngx_cpymem(dst, p, end - p);
                break;
            }

            if (q + 1 < end && q[1] == '{') {
                dst = ngx_cpymem(dst, p, q - p);
                dst = ngx_cpymem(dst, NGX_HTTP_MOCK_LEARN_OPEN,
                                 sizeof(NGX_HTTP_MOCK_LEARN_OPEN) - 1);
                p = q + 2;
                continue;
            }

            dst = ngx_cpymem(dst, p, q + 1 - p);
            p = q + 1;
        }

        if (i == n) {
            break;
        }

        *dst++ = '{'; *dst++ = '{';
        dst = ngx_cpymem(dst, sub[i].expr->data, sub[i].expr->len);
        *dst++ = '}'; *dst++ = '}';

        p = sub[i].end;
    }

    s->len = dst - s->data;

    return NGX_OK;
}


/* one entry of the templated list: "$.user.id", "header Location" */

static ngx_int_t
ngx_http_mock_learn_note(ngx_http_mock_learn_t *l, const char *prefix,
    u_char *name, size_t len)
{
    size_t      n;
    ngx_str_t  *t;

    t = ngx_array_push(l->templated);
    if (t == NULL) {
        return NGX_ERROR;
    }

    n = ngx_strlen(prefix);

    t->data = ngx_pnalloc(l->pool, n + len);
    if (t->data == NULL) {
        return NGX_ERROR;
    }

    t->len = ngx_http_mock_cpymem(ngx_cpymem(t->data, prefix, n), name, len)
             - t->data;

    return NGX_OK;
}


/* how many "{{" there are */

static ngx_uint_t
ngx_http_mock_learn_braces(u_char *p, u_char *last)
{
    ngx_uint_t  n;

    n = 0;

    while (p && p + 1 < last) {
        p = memchr(p, '{', last - 1 - p);
        if (p == NULL) {
            break;
        }

        if (p[1] == '{') {
            n++;
            p += 2;

        } else {
            p++;
        }
    }

    return n;
}


/* what the cassette writer keeps as text, not !!binary */

static ngx_uint_t
ngx_http_mock_learn_text(ngx_str_t *s)
{
    u_char    *p, *last;
    uint32_t   c;

    p = s->data;
    last = s->data + s->len;

    while (p < last) {
        while (p < last && *p >= 0x20 && *p < 0x7f) {
            p++;
        }

        if (p == last) {
            break;
        }

        if (*p < 0x80) {
            if ((*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
                || *p == 0x7f)
            {
                return 0;
            }

            p++;
            continue;
        }

        c = ngx_utf8_decode(&p, last - p);

        if (!((c >= 0xa0 && c <= 0xd7ff)
              || (c >= 0xe000 && c <= 0xfffd && c != 0xfeff)
              || (c >= 0x10000 && c <= 0x10ffff)))
        {
            return 0;
        }
    }

    return 1;
}


/* [A-Za-z0-9_-]+ */

static ngx_uint_t
ngx_http_mock_learn_plain(u_char *p, size_t len)
{
    u_char  c, *last;

    if (len == 0) {
        return 0;
    }

    for (last = p + len; p < last; p++) {
        c = (u_char) (*p | 0x20);

        if (!((c >= 'a' && c <= 'z') || (*p >= '0' && *p <= '9')
              || *p == '_' || *p == '-'))
        {
            return 0;
        }
    }

    return 1;
}


static ngx_str_t *
ngx_http_mock_learn_header(ngx_array_t *headers, char *name, size_t len)
{
    ngx_uint_t        i;
    ngx_table_elt_t  *h;

    h = headers->elts;

    for (i = 0; i < headers->nelts; i++) {
        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i].value;
        }
    }

    return NULL;
}


/* characters of UTF-8 text: bytes that do not continue one */

static size_t
ngx_http_mock_learn_chars(ngx_str_t *s)
{
    size_t   n;
    u_char  *p, *last;

    n = 0;
    last = s->data + s->len;

    for (p = s->data; p < last; p++) {
        if ((*p & 0xc0) != 0x80) {
            n++;
        }
    }

    return n;
}


static int ngx_libc_cdecl
ngx_http_mock_learn_cmp(const void *one, const void *two)
{
    ngx_http_mock_place_t  *a = (ngx_http_mock_place_t *) one;
    ngx_http_mock_place_t  *b = (ngx_http_mock_place_t *) two;

    return ngx_memn2cmp(a->value.data, b->value.data, a->value.len,
                        b->value.len);
}
