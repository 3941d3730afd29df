
/*
 * Secrets: mock_filter_header, mock_filter_query and mock_filter_body
 * replace (or drop) values before an interaction is stored, and the same
 * filters apply to live requests before matching, so a redacted value
 * never causes a miss.
 */


#include "ngx_http_mock_module.h"


static ngx_http_mock_filter_t *ngx_http_mock_filter_find(
    ngx_array_t *filters, ngx_uint_t type, ngx_str_t *name);
static ngx_int_t ngx_http_mock_filter_form(ngx_pool_t *pool,
    ngx_array_t *filters, ngx_uint_t type, ngx_str_t *form);
static size_t ngx_http_mock_unescape_len(u_char *p, u_char *last,
    u_char *dst);


/* mock_filter_header Name [replacement]; and its query and body twins */

char *
ngx_http_mock_filter(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mock_loc_conf_t *mlcf = conf;

    ngx_str_t               *value;
    ngx_http_mock_filter_t  *f;

    value = cf->args->elts;

    if (mlcf->filters == NGX_CONF_UNSET_PTR) {
        mlcf->filters = ngx_array_create(cf->pool, 4,
                                         sizeof(ngx_http_mock_filter_t));
        if (mlcf->filters == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if (value[1].len == 0) {
        return "has an empty name";
    }

    f = ngx_array_push(mlcf->filters);
    if (f == NULL) {
        return NGX_CONF_ERROR;
    }

    f->type = (ngx_uint_t) (uintptr_t) cmd->post;
    f->name = value[1];
    f->drop = (cf->args->nelts == 2);

    if (f->drop) {
        ngx_str_null(&f->replacement);

    } else {
        f->replacement = value[2];
    }

    if (f->type == NGX_HTTP_MOCK_FILTER_HEADER
        && (ngx_strlchr(f->replacement.data,
                        f->replacement.data + f->replacement.len, '\n')
            || ngx_strlchr(f->replacement.data,
                           f->replacement.data + f->replacement.len, '\r')))
    {
        return "has a line break in its replacement";
    }

    return NGX_CONF_OK;
}


static ngx_http_mock_filter_t *
ngx_http_mock_filter_find(ngx_array_t *filters, ngx_uint_t type,
    ngx_str_t *name)
{
    ngx_uint_t               i;
    ngx_http_mock_filter_t  *f;

    f = filters->elts;

    for (i = 0; i < filters->nelts; i++) {
        if (f[i].type != type || f[i].name.len != name->len) {
            continue;
        }

        if (type == NGX_HTTP_MOCK_FILTER_HEADER
            ? ngx_strncasecmp(f[i].name.data, name->data, name->len) == 0
            : ngx_strncmp(f[i].name.data, name->data, name->len) == 0)
        {
            return &f[i];
        }
    }

    return NULL;
}


/* headers to be stored: ngx_table_elt_t, dropped ones taken out */

ngx_int_t
ngx_http_mock_filter_headers(ngx_pool_t *pool, ngx_array_t *filters,
    ngx_array_t *headers)
{
    ngx_uint_t               i, n;
    ngx_table_elt_t         *h;
    ngx_http_mock_filter_t  *f;

    h = headers->elts;
    n = 0;

    for (i = 0; i < headers->nelts; i++) {
        f = ngx_http_mock_filter_find(filters, NGX_HTTP_MOCK_FILTER_HEADER,
                                      &h[i].key);

        if (f && f->drop) {
            continue;
        }

        h[n] = h[i];

        if (f) {
            h[n].value = f->replacement;
        }

        n++;
    }

    headers->nelts = n;

    return NGX_OK;
}


/* a live header value as it would have been stored; NGX_DECLINED: dropped */

ngx_int_t
ngx_http_mock_filter_value(ngx_array_t *filters, ngx_str_t *name,
    ngx_str_t *value)
{
    ngx_http_mock_filter_t  *f;

    f = ngx_http_mock_filter_find(filters, NGX_HTTP_MOCK_FILTER_HEADER, name);

    if (f == NULL) {
        return NGX_OK;
    }

    if (f->drop) {
        return NGX_DECLINED;
    }

    *value = f->replacement;

    return NGX_OK;
}


ngx_int_t
ngx_http_mock_filter_query(ngx_pool_t *pool, ngx_array_t *filters,
    ngx_str_t *query)
{
    return ngx_http_mock_filter_form(pool, filters, NGX_HTTP_MOCK_FILTER_QUERY,
                                     query);
}


/* JSON members and form fields of a request body */

ngx_int_t
ngx_http_mock_filter_body(ngx_pool_t *pool, ngx_array_t *filters,
    ngx_str_t *type, ngx_str_t *body)
{
    ngx_int_t   rc;
    ngx_str_t   out;
    ngx_uint_t  i;

    ngx_http_mock_filter_t  *f;

    if (body->len == 0) {
        return NGX_OK;
    }

    f = filters->elts;

    for (i = 0; i < filters->nelts; i++) {
        if (f[i].type == NGX_HTTP_MOCK_FILTER_BODY) {
            break;
        }
    }

    if (i == filters->nelts) {
        return NGX_OK;
    }

    if (type && type->len >= 33
        && ngx_strncasecmp(type->data,
                           (u_char *) "application/x-www-form-urlencoded", 33)
           == 0)
    {
        return ngx_http_mock_filter_form(pool, filters,
                                         NGX_HTTP_MOCK_FILTER_BODY, body);
    }

    rc = ngx_http_mock_json_filter(pool, filters, body, &out);

    if (rc == NGX_OK) {
        *body = out;
        return NGX_OK;
    }

    if (rc == NGX_DECLINED) {
        /* not JSON: perhaps a form without its Content-Type */
        return ngx_http_mock_filter_form(pool, filters,
                                         NGX_HTTP_MOCK_FILTER_BODY, body);
    }

    return rc;
}


/*
 * "a=1&token=s3cret&b=2" with "token" filtered becomes "a=1&b=2", or
 * "a=1&token=REDACTED&b=2"; other fields keep their bytes and order.
 */

static ngx_int_t
ngx_http_mock_filter_form(ngx_pool_t *pool, ngx_array_t *filters,
    ngx_uint_t type, ngx_str_t *form)
{
    u_char                  *p, *last, *start, *eq, *dst, *field;
    size_t                   len, max;
    ngx_str_t                name;
    ngx_uint_t               i;
    ngx_http_mock_filter_t  *f;
    u_char                   buf[256];

    if (form->len == 0) {
        return NGX_OK;
    }

    /* each field may get the longest replacement, escaped */

    max = 0;
    f = filters->elts;

    for (i = 0; i < filters->nelts; i++) {
        max = ngx_max(max, 3 * f[i].replacement.len + 1);
    }

    len = form->len;
    last = form->data + form->len;

    for (p = form->data; p < last; p++) {
        if (*p == '&') {
            len += max;
        }
    }

    dst = ngx_pnalloc(pool, len + max);
    if (dst == NULL) {
        return NGX_ERROR;
    }

    p = form->data;
    last = form->data + form->len;
    start = dst;

    while (p < last) {
        field = p;

        while (p < last && *p != '&') {
            p++;
        }

        eq = ngx_strlchr(field, p, '=');

        name.data = buf;
        name.len = ngx_http_mock_unescape_len(field, eq ? eq : p, buf);

        f = (name.len <= sizeof(buf))
            ? ngx_http_mock_filter_find(filters, type, &name) : NULL;

        if (f == NULL) {
            if (dst != start) {
                *dst++ = '&';
            }

            dst = ngx_http_mock_cpymem(dst, field, p - field);

        } else if (!f->drop) {
            if (dst != start) {
                *dst++ = '&';
            }

            dst = ngx_http_mock_cpymem(dst, field, (eq ? eq : p) - field);
            *dst++ = '=';
            dst = (u_char *) ngx_escape_uri(dst, f->replacement.data,
                                            f->replacement.len,
                                            NGX_ESCAPE_ARGS);
        }

        if (p < last) {
            p++;
        }
    }

    form->data = start;
    form->len = dst - start;

    return NGX_OK;
}


/* a form name decoded into dst (at most 256 bytes), its full length */

static size_t
ngx_http_mock_unescape_len(u_char *p, u_char *last, u_char *dst)
{
    size_t  len;
    u_char  c, *q;

    len = 0;

    while (p < last) {
        c = *p++;

        if (c == '+') {
            c = ' ';

        } else if (c == '%' && last - p >= 2
                   && ngx_hextoi(p, 2) != NGX_ERROR)
        {
            q = p;
            c = (u_char) ngx_hextoi(q, 2);
            p += 2;
        }

        if (len < 256) {
            dst[len] = c;
        }

        len++;
    }

    return len;
}
