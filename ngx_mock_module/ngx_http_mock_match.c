
/*
 * Reducing requests, recorded and live, to the canonical parts that the
 * matchers compare: URLs split, paths decoded, queries sorted, bodies
 * normalized.
 */


#include "ngx_http_mock_module.h"


typedef struct {
    ngx_str_t   name;
    ngx_str_t   value;
} ngx_http_mock_param_t;


static u_char *ngx_http_mock_escape_form(u_char *dst, ngx_str_t *s);
static size_t ngx_http_mock_escape_form_len(ngx_str_t *s);
static int ngx_libc_cdecl ngx_http_mock_cmp_params(const void *one,
    const void *two);
static ngx_int_t ngx_http_mock_request_headers(ngx_http_request_t *r,
    ngx_http_mock_loc_conf_t *mlcf, ngx_http_mock_key_t *key);
static ngx_int_t ngx_http_mock_str_eq(ngx_str_t *a, ngx_str_t *b);


static struct {
    ngx_str_t   name;
    ngx_uint_t  mask;
} ngx_http_mock_matcher_names[] = {
    { ngx_string("method"), NGX_HTTP_MOCK_MATCH_METHOD },
    { ngx_string("scheme"), NGX_HTTP_MOCK_MATCH_SCHEME },
    { ngx_string("host"), NGX_HTTP_MOCK_MATCH_HOST },
    { ngx_string("port"), NGX_HTTP_MOCK_MATCH_PORT },
    { ngx_string("path"), NGX_HTTP_MOCK_MATCH_PATH },
    { ngx_string("query"), NGX_HTTP_MOCK_MATCH_QUERY },
    { ngx_string("body"), NGX_HTTP_MOCK_MATCH_BODY },
    { ngx_string("headers"), NGX_HTTP_MOCK_MATCH_HEADERS },
    { ngx_null_string, 0 }
};


/*
 * Splits "scheme://[user@]host[:port][/path][?query][#fragment]".
 * The path is percent-decoded (as nginx decodes $uri) and left empty when
 * the URL has none; the query is canonical.  Returns an error text or NULL.
 */

char *
ngx_http_mock_parse_url(ngx_pool_t *pool, ngx_str_t *url,
    ngx_http_mock_key_t *key)
{
    u_char     *p, *last, *host, *host_end, *colon;
    ngx_int_t   port;
    ngx_str_t   query;

    p = url->data;
    last = url->data + url->len;

    /* the first "://" */

    for (host = p; last - host >= 3; host++) {
        if (host[0] == ':' && host[1] == '/' && host[2] == '/') {
            break;
        }
    }

    if (last - host < 3 || host == p) {
        return "no scheme";
    }

    key->scheme.len = host - p;
    key->scheme.data = ngx_pnalloc(pool, key->scheme.len);
    if (key->scheme.data == NULL) {
        return "out of memory";
    }

    ngx_strlow(key->scheme.data, p, key->scheme.len);

    host += 3;

    for (p = host; p < last; p++) {
        if (*p == '/' || *p == '?' || *p == '#') {
            break;
        }
    }

    host_end = p;

    p = ngx_strlchr(host, host_end, '@');
    if (p) {
        host = p + 1;
    }

    colon = NULL;

    if (host < host_end && *host == '[') {
        p = ngx_strlchr(host, host_end, ']');
        if (p == NULL) {
            return "unterminated IPv6 address";
        }

        if (p + 1 < host_end) {
            if (p[1] != ':') {
                return "invalid host";
            }

            colon = p + 1;
        }

    } else {
        colon = ngx_strlchr(host, host_end, ':');
    }

    if (colon) {
        port = ngx_atoi(colon + 1, host_end - colon - 1);
        if (port < 1 || port > 65535) {
            return "invalid port";
        }

        key->port = port;

    } else {
        colon = host_end;

        if (key->scheme.len == 5
            && ngx_strncmp(key->scheme.data, "https", 5) == 0)
        {
            key->port = 443;

        } else if (key->scheme.len == 4
                   && ngx_strncmp(key->scheme.data, "http", 4) == 0)
        {
            key->port = 80;

        } else {
            key->port = 0;
        }
    }

    if (colon == host) {
        return "no host";
    }

    key->host.len = colon - host;
    key->host.data = ngx_pnalloc(pool, key->host.len);
    if (key->host.data == NULL) {
        return "out of memory";
    }

    ngx_strlow(key->host.data, host, key->host.len);

    for (p = host_end; p < last; p++) {
        if (*p == '?' || *p == '#') {
            break;
        }
    }

    if (ngx_http_mock_decode(pool, host_end, p, 0, &key->path) != NGX_OK) {
        return "out of memory";
    }

    ngx_str_null(&key->query);

    if (p < last && *p == '?') {
        query.data = ++p;

        while (p < last && *p != '#') {
            p++;
        }

        query.len = p - query.data;

        if (ngx_http_mock_canon_query(pool, &query, &key->query) != NGX_OK) {
            return "out of memory";
        }
    }

    return NULL;
}


/*
 * "b=2&a=1&a=0" becomes "a=0&a=1&b=2": names and values decoded, pairs
 * sorted, repeated names kept, and only the characters that would make
 * the result ambiguous escaped again.
 */

ngx_int_t
ngx_http_mock_canon_query(ngx_pool_t *pool, ngx_str_t *in, ngx_str_t *out)
{
    u_char                 *p, *last, *start, *eq, *dst;
    size_t                  len;
    ngx_uint_t              i, n;
    ngx_http_mock_param_t  *params;

    ngx_str_null(out);

    if (in->len == 0) {
        return NGX_OK;
    }

    last = in->data + in->len;
    n = 1;

    for (p = in->data; p < last; p++) {
        if (*p == '&') {
            n++;
        }
    }

    params = ngx_palloc(pool, n * sizeof(ngx_http_mock_param_t));
    if (params == NULL) {
        return NGX_ERROR;
    }

    n = 0;
    p = in->data;

    while (p < last) {
        start = p;

        while (p < last && *p != '&') {
            p++;
        }

        if (p > start) {
            eq = ngx_strlchr(start, p, '=');

            if (ngx_http_mock_decode(pool, start, eq ? eq : p, 1,
                                     &params[n].name)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            ngx_str_null(&params[n].value);

            if (eq && ngx_http_mock_decode(pool, eq + 1, p, 1,
                                           &params[n].value)
                      != NGX_OK)
            {
                return NGX_ERROR;
            }

            n++;
        }

        p++;
    }

    if (n == 0) {
        return NGX_OK;
    }

    if (n > 1) {
        ngx_qsort(params, n, sizeof(ngx_http_mock_param_t),
                  ngx_http_mock_cmp_params);
    }

    len = 0;

    for (i = 0; i < n; i++) {
        len += ngx_http_mock_escape_form_len(&params[i].name)
               + ngx_http_mock_escape_form_len(&params[i].value) + 2;
    }

    dst = ngx_pnalloc(pool, len);
    if (dst == NULL) {
        return NGX_ERROR;
    }

    out->data = dst;

    for (i = 0; i < n; i++) {
        if (i) {
            *dst++ = '&';
        }

        dst = ngx_http_mock_escape_form(dst, &params[i].name);
        *dst++ = '=';
        dst = ngx_http_mock_escape_form(dst, &params[i].value);
    }

    out->len = dst - out->data;

    return NGX_OK;
}


/*
 * Percent-decoding that keeps malformed escapes as they are, as nginx
 * does for $uri; in forms and queries "+" is a space.  Text with nothing
 * to decode is not copied.
 */

ngx_int_t
ngx_http_mock_decode(ngx_pool_t *pool, u_char *p, u_char *last,
    ngx_uint_t plus, ngx_str_t *out)
{
    u_char  *dst, c, d;

    ngx_str_null(out);

    if (p == last) {
        return NGX_OK;
    }

    if (ngx_strlchr(p, last, '%') == NULL
        && (!plus || ngx_strlchr(p, last, '+') == NULL))
    {
        out->data = p;
        out->len = last - p;
        return NGX_OK;
    }

    out->data = ngx_pnalloc(pool, last - p);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    dst = out->data;

    while (p < last) {
        c = *p++;

        if (c == '+' && plus) {
            *dst++ = ' ';
            continue;
        }

        if (c == '%' && last - p >= 2) {
            d = 0;

            c = (u_char) (p[0] | 0x20);
            if (p[0] >= '0' && p[0] <= '9') {
                d = p[0] - '0';
            } else if (c >= 'a' && c <= 'f') {
                d = c - 'a' + 10;
            } else {
                *dst++ = '%';
                continue;
            }

            c = (u_char) (p[1] | 0x20);
            if (p[1] >= '0' && p[1] <= '9') {
                d = (d << 4) + p[1] - '0';
            } else if (c >= 'a' && c <= 'f') {
                d = (d << 4) + c - 'a' + 10;
            } else {
                *dst++ = '%';
                continue;
            }

            *dst++ = d;
            p += 2;
            continue;
        }

        *dst++ = c;
    }

    out->len = dst - out->data;

    return NGX_OK;
}


static size_t
ngx_http_mock_escape_form_len(ngx_str_t *s)
{
    size_t   len;
    u_char  *p, *last;

    len = s->len;
    last = s->data + s->len;

    for (p = s->data; p < last; p++) {
        if (*p == '%' || *p == '&' || *p == '=' || *p == '+') {
            len += 2;
        }
    }

    return len;
}


static u_char *
ngx_http_mock_escape_form(u_char *dst, ngx_str_t *s)
{
    u_char  *p, *last;

    static u_char  hex[] = "0123456789ABCDEF";

    last = s->data + s->len;

    for (p = s->data; p < last; p++) {
        if (*p == '%' || *p == '&' || *p == '=' || *p == '+') {
            *dst++ = '%';
            *dst++ = hex[*p >> 4];
            *dst++ = hex[*p & 0xf];
            continue;
        }

        *dst++ = *p;
    }

    return dst;
}


static int ngx_libc_cdecl
ngx_http_mock_cmp_params(const void *one, const void *two)
{
    ngx_int_t               rc;
    ngx_http_mock_param_t  *a = (ngx_http_mock_param_t *) one;
    ngx_http_mock_param_t  *b = (ngx_http_mock_param_t *) two;

    rc = ngx_memn2cmp(a->name.data, b->name.data, a->name.len, b->name.len);
    if (rc) {
        return rc;
    }

    return ngx_memn2cmp(a->value.data, b->value.data, a->value.len,
                        b->value.len);
}


/* the Content-Type of recorded headers, or NULL */

ngx_str_t *
ngx_http_mock_content_type(ngx_array_t *headers)
{
    ngx_uint_t        i;
    ngx_table_elt_t  *h;

    h = headers->elts;

    for (i = 0; i < headers->nelts; i++) {
        if (h[i].key.len == sizeof("Content-Type") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Content-Type",
                               sizeof("Content-Type") - 1) == 0)
        {
            return &h[i].value;
        }
    }

    return NULL;
}


/*
 * JSON bodies are compared with keys sorted and white space dropped, form
 * bodies as canonical queries, multipart bodies part by part, anything
 * else byte for byte.  A body that claims to be JSON or multipart but does
 * not parse is compared raw.
 */

ngx_int_t
ngx_http_mock_canon_body(ngx_pool_t *pool, ngx_str_t *type, ngx_str_t *in,
    ngx_str_t *out)
{
    ngx_int_t  rc;

    *out = *in;

    if (in->len == 0) {
        return NGX_OK;
    }

    switch (ngx_http_mock_body_kind(type, in)) {

    case NGX_HTTP_MOCK_BODY_FORM:
        return ngx_http_mock_canon_query(pool, in, out);

    case NGX_HTTP_MOCK_BODY_MULTIPART:
        rc = ngx_http_mock_multipart_canon(pool, type, in, out);
        break;

    case NGX_HTTP_MOCK_BODY_JSON:
        rc = ngx_http_mock_json_canon(pool, in, out);
        break;

    default:
        return NGX_OK;
    }

    if (rc == NGX_DECLINED) {
        *out = *in;
        return NGX_OK;
    }

    return rc;
}


/* what a body is by its Content-Type, or by its first byte without one */

ngx_uint_t
ngx_http_mock_body_kind(ngx_str_t *type, ngx_str_t *body)
{
    u_char     *p, *last;
    ngx_str_t   mime;

    if (type && type->len) {
        mime = *type;
        p = ngx_strlchr(mime.data, mime.data + mime.len, ';');
        if (p) {
            mime.len = p - mime.data;
        }

        if (mime.len >= 33
            && ngx_strncasecmp(mime.data,
                               (u_char *) "application/x-www-form-urlencoded",
                               33) == 0)
        {
            return NGX_HTTP_MOCK_BODY_FORM;
        }

        if ((mime.len >= 19
             && ngx_strncasecmp(mime.data, (u_char *) "multipart/form-data",
                                19) == 0)
            || (mime.len >= 15
                && ngx_strncasecmp(mime.data, (u_char *) "multipart/mixed",
                                   15) == 0))
        {
            return NGX_HTTP_MOCK_BODY_MULTIPART;
        }

        if (ngx_strlcasestrn(mime.data, mime.data + mime.len,
                             (u_char *) "json", 4 - 1)
            == NULL)
        {
            return NGX_HTTP_MOCK_BODY_RAW;
        }

        return NGX_HTTP_MOCK_BODY_JSON;
    }

    last = body->data + body->len;

    for (p = body->data; p < last; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
            break;
        }
    }

    if (p == last || (*p != '{' && *p != '[')) {
        return NGX_HTTP_MOCK_BODY_RAW;
    }

    return NGX_HTTP_MOCK_BODY_JSON;
}


/* the live request's parts, as the upstream would have received them */

ngx_int_t
ngx_http_mock_request_key(ngx_http_request_t *r,
    ngx_http_mock_loc_conf_t *mlcf, ngx_http_mock_key_t *key)
{
    u_char                    *p;
    ngx_str_t                  args;
    ngx_uint_t                 mask;
    ngx_http_mock_upstream_t  *up;

    mask = mlcf->match->mask;
    up = mlcf->upstream;

    key->method = r->method_name;
    key->path = r->uri;

    if (up) {
        key->scheme = up->scheme;
        key->host = up->host;
        key->port = up->port;

        if (up->has_path) {
            if (mlcf->location.len
                && r->uri.len >= mlcf->location.len
                && ngx_strncmp(r->uri.data, mlcf->location.data,
                               mlcf->location.len) == 0)
            {
                key->path.len = up->path.len + r->uri.len
                                - mlcf->location.len;
                key->path.data = ngx_pnalloc(r->pool, key->path.len);
                if (key->path.data == NULL) {
                    return NGX_ERROR;
                }

                p = ngx_http_mock_cpymem(key->path.data, up->path.data,
                                         up->path.len);
                ngx_memcpy(p, r->uri.data + mlcf->location.len,
                           r->uri.len - mlcf->location.len);
            }
        }

    } else {
#if (NGX_HTTP_SSL)
        if (r->connection->ssl) {
            ngx_str_set(&key->scheme, "https");
        } else
#endif
        {
            ngx_str_set(&key->scheme, "http");
        }

        key->host = r->headers_in.server;

        if (mask & NGX_HTTP_MOCK_MATCH_PORT) {
            if (ngx_connection_local_sockaddr(r->connection, NULL, 0)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            key->port = ngx_inet_get_port(r->connection->local_sockaddr);
        }
    }

    if ((mask & NGX_HTTP_MOCK_MATCH_QUERY) && r->args.len) {
        args = r->args;

        if (mlcf->filters
            && ngx_http_mock_filter_query(r->pool, mlcf->filters, &args)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (ngx_http_mock_canon_query(r->pool, &args, &key->query) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (mask & NGX_HTTP_MOCK_MATCH_HEADERS) {
        return ngx_http_mock_request_headers(r, mlcf, key);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mock_request_headers(ngx_http_request_t *r,
    ngx_http_mock_loc_conf_t *mlcf, ngx_http_mock_key_t *key)
{
    u_char                 *p;
    size_t                  len;
    ngx_str_t              *names, value;
    ngx_uint_t              i, j, n;
    ngx_list_part_t        *part;
    ngx_table_elt_t        *h;
    ngx_http_mock_match_t  *match;

    match = mlcf->match;
    names = match->headers->elts;

    key->headers = ngx_pcalloc(r->pool,
                               match->headers->nelts * sizeof(ngx_str_t));
    if (key->headers == NULL) {
        return NGX_ERROR;
    }

    for (j = 0; j < match->headers->nelts; j++) {

        /* two passes: the length of all values, then the values */

        for (n = 0; n < 2; n++) {
            len = 0;
            p = key->headers[j].data;

            part = &r->headers_in.headers.part;
            h = part->elts;

            for (i = 0; /* void */ ; i++) {

                if (i >= part->nelts) {
                    if (part->next == NULL) {
                        break;
                    }

                    part = part->next;
                    h = part->elts;
                    i = 0;
                }

                if (h[i].key.len != names[j].len
                    || ngx_strncasecmp(h[i].key.data, names[j].data,
                                       names[j].len) != 0)
                {
                    continue;
                }

                value = h[i].value;

                if (mlcf->filters
                    && ngx_http_mock_filter_value(mlcf->filters, &h[i].key,
                                                  &value)
                       == NGX_DECLINED)
                {
                    continue;
                }

                if (n == 0) {
                    len += value.len + (len ? 2 : 0);
                    continue;
                }

                if (p != key->headers[j].data) {
                    *p++ = ','; *p++ = ' ';
                }

                p = ngx_http_mock_cpymem(p, value.data, value.len);
            }

            if (n == 0) {
                if (len == 0) {
                    break;
                }

                key->headers[j].data = ngx_pnalloc(r->pool, len);
                if (key->headers[j].data == NULL) {
                    return NGX_ERROR;
                }

                key->headers[j].len = len;
            }
        }
    }

    return NGX_OK;
}


uint32_t
ngx_http_mock_key_hash(ngx_http_mock_key_t *key, ngx_http_mock_match_t *match)
{
    uint32_t    crc;
    ngx_uint_t  i, mask;
    u_char      port[NGX_INT_T_LEN];

    static u_char  sep = '\0';

    mask = match->mask;

    ngx_crc32_init(crc);

#define ngx_http_mock_hash_str(s)                                            \
    ngx_crc32_update(&crc, (s)->data, (s)->len);                             \
    ngx_crc32_update(&crc, &sep, 1)

    if (mask & NGX_HTTP_MOCK_MATCH_METHOD) {
        ngx_http_mock_hash_str(&key->method);
    }

    if (mask & NGX_HTTP_MOCK_MATCH_SCHEME) {
        ngx_http_mock_hash_str(&key->scheme);
    }

    if (mask & NGX_HTTP_MOCK_MATCH_HOST) {
        ngx_http_mock_hash_str(&key->host);
    }

    if (mask & NGX_HTTP_MOCK_MATCH_PORT) {
        ngx_crc32_update(&crc, port,
                         ngx_sprintf(port, "%ui", key->port) - port);
    }

    if (mask & NGX_HTTP_MOCK_MATCH_PATH) {
        ngx_http_mock_hash_str(&key->path);
    }

    if (mask & NGX_HTTP_MOCK_MATCH_QUERY) {
        ngx_http_mock_hash_str(&key->query);
    }

    if (mask & NGX_HTTP_MOCK_MATCH_BODY) {
        ngx_http_mock_hash_str(&key->body);
    }

    if (mask & NGX_HTTP_MOCK_MATCH_HEADERS) {
        for (i = 0; i < match->headers->nelts; i++) {
            ngx_http_mock_hash_str(&key->headers[i]);
        }
    }

#undef ngx_http_mock_hash_str

    ngx_crc32_final(crc);

    return crc;
}


uint32_t
ngx_http_mock_path_hash(ngx_str_t *path)
{
    return ngx_crc32_long(path->data, path->len);
}


/* which of the configured matchers tell the two apart */

ngx_uint_t
ngx_http_mock_key_diff(ngx_http_mock_key_t *a, ngx_http_mock_key_t *b,
    ngx_http_mock_match_t *match)
{
    ngx_uint_t  i, mask, diff;

    mask = match->mask;
    diff = 0;

    if ((mask & NGX_HTTP_MOCK_MATCH_METHOD)
        && !ngx_http_mock_str_eq(&a->method, &b->method))
    {
        diff |= NGX_HTTP_MOCK_MATCH_METHOD;
    }

    if ((mask & NGX_HTTP_MOCK_MATCH_SCHEME)
        && !ngx_http_mock_str_eq(&a->scheme, &b->scheme))
    {
        diff |= NGX_HTTP_MOCK_MATCH_SCHEME;
    }

    if ((mask & NGX_HTTP_MOCK_MATCH_HOST)
        && !ngx_http_mock_str_eq(&a->host, &b->host))
    {
        diff |= NGX_HTTP_MOCK_MATCH_HOST;
    }

    if ((mask & NGX_HTTP_MOCK_MATCH_PORT) && a->port != b->port) {
        diff |= NGX_HTTP_MOCK_MATCH_PORT;
    }

    if ((mask & NGX_HTTP_MOCK_MATCH_PATH)
        && !ngx_http_mock_str_eq(&a->path, &b->path))
    {
        diff |= NGX_HTTP_MOCK_MATCH_PATH;
    }

    if ((mask & NGX_HTTP_MOCK_MATCH_QUERY)
        && !ngx_http_mock_str_eq(&a->query, &b->query))
    {
        diff |= NGX_HTTP_MOCK_MATCH_QUERY;
    }

    if ((mask & NGX_HTTP_MOCK_MATCH_BODY)
        && !ngx_http_mock_str_eq(&a->body, &b->body))
    {
        diff |= NGX_HTTP_MOCK_MATCH_BODY;
    }

    if (mask & NGX_HTTP_MOCK_MATCH_HEADERS) {
        for (i = 0; i < match->headers->nelts; i++) {
            if (!ngx_http_mock_str_eq(&a->headers[i], &b->headers[i])) {
                diff |= NGX_HTTP_MOCK_MATCH_HEADERS;
                break;
            }
        }
    }

    return diff;
}


static ngx_int_t
ngx_http_mock_str_eq(ngx_str_t *a, ngx_str_t *b)
{
    return a->len == b->len
           && (a->len == 0 || ngx_memcmp(a->data, b->data, a->len) == 0);
}


/* the mask of a matcher named in "mock_match", 0 if unknown */

ngx_uint_t
ngx_http_mock_matcher_mask(ngx_str_t *name)
{
    ngx_uint_t  i;

    for (i = 0; ngx_http_mock_matcher_names[i].name.len; i++) {
        if (ngx_http_mock_matcher_names[i].mask
            == NGX_HTTP_MOCK_MATCH_HEADERS)
        {
            /* "headers" takes names: headers=Name,... */
            continue;
        }

        if (name->len == ngx_http_mock_matcher_names[i].name.len
            && ngx_strncmp(name->data, ngx_http_mock_matcher_names[i].name.data,
                           name->len) == 0)
        {
            return ngx_http_mock_matcher_names[i].mask;
        }
    }

    return 0;
}


size_t
ngx_http_mock_match_names_len(ngx_uint_t mask)
{
    size_t      len;
    ngx_uint_t  i;

    len = 0;

    for (i = 0; ngx_http_mock_matcher_names[i].name.len; i++) {
        if (mask & ngx_http_mock_matcher_names[i].mask) {
            len += ngx_http_mock_matcher_names[i].name.len + 2;
        }
    }

    return len;
}


/* "method, query" */

u_char *
ngx_http_mock_match_names(u_char *p, ngx_uint_t mask)
{
    u_char      *start;
    ngx_uint_t   i;

    start = p;

    for (i = 0; ngx_http_mock_matcher_names[i].name.len; i++) {
        if (mask & ngx_http_mock_matcher_names[i].mask) {
            if (p != start) {
                *p++ = ','; *p++ = ' ';
            }

            p = ngx_http_mock_cpymem(p,
                                     ngx_http_mock_matcher_names[i].name.data,
                                     ngx_http_mock_matcher_names[i].name.len);
        }
    }

    return p;
}


/* a request header, by name in any case */

ngx_table_elt_t *
ngx_http_mock_header_in(ngx_http_request_t *r, ngx_str_t *name)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == name->len
            && ngx_strncasecmp(h[i].key.data, name->data, name->len) == 0)
        {
            return &h[i];
        }
    }
}
