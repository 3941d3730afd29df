
/*
 * Rendering templates: a compiled template's expressions evaluated against
 * the live request and the session's values, made safe for where they
 * stand (a JSON body, a header value).
 */


#include "ngx_http_mock_module.h"


static ngx_int_t ngx_http_mock_render(ngx_http_request_t *r,
    ngx_http_mock_template_t *tpl, ngx_str_t *out, size_t **sizes_out);
static ngx_int_t ngx_http_mock_render_value(ngx_http_request_t *r,
    ngx_http_mock_tpl_op_t *op, ngx_str_t *v);
static ngx_int_t ngx_http_mock_render_expr(ngx_http_request_t *r,
    ngx_http_mock_tpl_op_t *op, ngx_str_t *v);
static void ngx_http_mock_render_segment(ngx_str_t *path, ngx_uint_t n,
    ngx_str_t *v);
static ngx_int_t ngx_http_mock_render_form(ngx_pool_t *pool,
    ngx_str_t *body, ngx_str_t *name, ngx_str_t *v);
static ngx_int_t ngx_http_mock_render_now(ngx_http_request_t *r,
    ngx_http_mock_tpl_op_t *op, ngx_str_t *v);
static ngx_int_t ngx_http_mock_render_var(ngx_http_request_t *r,
    ngx_http_mock_tpl_op_t *op, ngx_str_t *name, ngx_str_t *v,
    ngx_uint_t set);
static size_t ngx_http_mock_json_escaped(ngx_str_t *v);
static u_char *ngx_http_mock_json_escape(u_char *p, ngx_str_t *v);
static size_t ngx_http_mock_utf8_len(u_char *p, u_char *last);
static ngx_uint_t ngx_http_mock_json_number(ngx_str_t *v);


static u_char  ngx_http_mock_hex[] = "0123456789abcdef";


#define NGX_HTTP_MOCK_NOW_FORMAT_MAX  8192


/* what JSON escaping adds to a byte: \" \\ \n \r \t, or \u00XX */

static const u_char  ngx_http_mock_json_extra[256] = {
    5, 5, 5, 5, 5, 5, 5, 5, 5, 1, 1, 5, 5, 1, 5, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0
};


ngx_int_t
ngx_http_mock_render_body(ngx_http_request_t *r,
    ngx_http_mock_interaction_t *it, ngx_str_t *body)
{
    return ngx_http_mock_render(r, it->tpl, body, NULL);
}


/*
 * The body rendered, and its chunks where they fall in it: a boundary in
 * recorded text moves with that text; one inside an expression moves to
 * its end, so that an expression is never split.
 */

ngx_int_t
ngx_http_mock_render_chunks(ngx_http_request_t *r,
    ngx_http_mock_interaction_t *it, ngx_str_t *body,
    ngx_http_mock_chunk_t *chunks)
{
    size_t                     src, out, from, to, end, prev, *sizes;
    ngx_uint_t                 i, k;
    ngx_http_mock_tpl_op_t    *op;
    ngx_http_mock_template_t  *tpl;

    tpl = it->tpl;

    if (ngx_http_mock_render(r, tpl, body, &sizes) != NGX_OK) {
        return NGX_ERROR;
    }

    end = 0;
    prev = 0;
    out = 0;
    i = 0;

    for (k = 0; k < it->timing.nchunks; k++) {
        end += it->timing.chunks[k].len;
        chunks[k] = it->timing.chunks[k];

        /* the output offset of the recorded offset "end" */

        for ( /* void */ ; i < tpl->nops; i++) {
            op = &tpl->ops[i];

            if (op->type != NGX_HTTP_MOCK_TPL_LITERAL) {
                out += sizes[i];
                continue;
            }

            if (op->text.data < it->body.data
                || op->text.data + op->text.len
                   > it->body.data + it->body.len)
            {
                /* not recorded text: it stands as an expression does */
                out += op->text.len;
                continue;
            }

            from = op->text.data - it->body.data;
            to = from + op->text.len;

            if (end <= to) {
                break;
            }

            out += op->text.len;
        }

        if (i == tpl->nops) {
            src = body->len;

        } else {
            from = tpl->ops[i].text.data - it->body.data;
            src = out + (end > from ? end - from : 0);
        }

        if (k == it->timing.nchunks - 1) {
            src = body->len;
        }

        chunks[k].len = (src > prev) ? src - prev : 0;
        prev = ngx_max(src, prev);
    }

    return NGX_OK;
}


/* NGX_DECLINED: the value cannot be sent, and the header is dropped */

ngx_int_t
ngx_http_mock_render_header(ngx_http_request_t *r,
    ngx_http_mock_interaction_t *it, ngx_http_mock_header_t *hh,
    ngx_str_t *value)
{
    u_char  *p, *last;

    if (ngx_http_mock_render(r, hh->tpl, value, NULL) != NGX_OK) {
        return NGX_ERROR;
    }

    if (value->len > NGX_HTTP_MOCK_TPL_HEADER_MAX) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "mock: header \"%V\" of interaction %ui of \"%V\" is "
                      "dropped: its template made %uz bytes, more than %d",
                      &hh->name, it->index, it->cassette, value->len,
                      NGX_HTTP_MOCK_TPL_HEADER_MAX);
        return NGX_DECLINED;
    }

    last = value->data + value->len;

    for (p = value->data; p < last; p++) {
        if (*p == CR || *p == LF || *p == '\0') {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "mock: header \"%V\" of interaction %ui of \"%V\" "
                          "is dropped: its template made a value with CR, "
                          "LF or NUL", &hh->name, it->index, it->cassette);
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/*
 * In a JSON body an expression inside a string is inserted escaped; one
 * standing alone becomes a number when its value is a JSON number, and
 * a string otherwise.  Values are never evaluated again.
 */

static ngx_int_t
ngx_http_mock_render(ngx_http_request_t *r, ngx_http_mock_template_t *tpl,
    ngx_str_t *out, size_t **sizes_out)
{
    u_char                  *p;
    size_t                   len, *sizes;
    ngx_str_t               *values, *v;
    ngx_uint_t               i;
    ngx_http_mock_tpl_op_t  *op;

    values = ngx_palloc(r->pool, tpl->nops * (sizeof(ngx_str_t)
                                              + sizeof(size_t)));
    if (values == NULL) {
        return NGX_ERROR;
    }

    sizes = (size_t *) (values + tpl->nops);
    len = tpl->literal;

    if (sizes_out) {
        *sizes_out = sizes;
    }

    for (i = 0; i < tpl->nops; i++) {
        op = &tpl->ops[i];
        v = &values[i];

        if (op->type == NGX_HTTP_MOCK_TPL_LITERAL) {
            continue;
        }

        if (ngx_http_mock_render_value(r, op, v) != NGX_OK) {
            return NGX_ERROR;
        }

        /* what the value takes where it stands */

        switch (op->where) {

        case NGX_HTTP_MOCK_TPL_IN_STRING:
            sizes[i] = ngx_http_mock_json_escaped(v);
            break;

        case NGX_HTTP_MOCK_TPL_JSON_VALUE:
            sizes[i] = ngx_http_mock_json_number(v)
                       ? v->len : 2 + ngx_http_mock_json_escaped(v);
            break;

        default:
            sizes[i] = v->len;
        }

        len += sizes[i];
    }

    p = ngx_pnalloc(r->pool, len ? len : 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;

    for (i = 0; i < tpl->nops; i++) {
        op = &tpl->ops[i];
        v = &values[i];

        if (op->type == NGX_HTTP_MOCK_TPL_LITERAL) {
            p = ngx_http_mock_cpymem(p, op->text.data, op->text.len);
            continue;
        }

        if (sizes[i] == v->len) {
            /* nothing to escape or quote */
            p = ngx_http_mock_cpymem(p, v->data, v->len);
            continue;
        }

        if (op->where == NGX_HTTP_MOCK_TPL_JSON_VALUE) {
            *p++ = '"';
            p = ngx_http_mock_json_escape(p, v);
            *p++ = '"';
            continue;
        }

        p = ngx_http_mock_json_escape(p, v);
    }

    out->len = p - out->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mock_render_value(ngx_http_request_t *r, ngx_http_mock_tpl_op_t *op,
    ngx_str_t *v)
{
    if (ngx_http_mock_render_expr(r, op, v) != NGX_OK) {
        return NGX_ERROR;
    }

    if (op->dflt && v->len == 0) {
        *v = op->fallback;
    }

    if (op->as.len) {
        return ngx_http_mock_render_var(r, op, &op->as, v, 1);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mock_render_expr(ngx_http_request_t *r, ngx_http_mock_tpl_op_t *op,
    ngx_str_t *v)
{
    u_char                     *p, b[16];
    uint64_t                    range;
    ngx_str_t                   raw;
    ngx_uint_t                  i, n;
    ngx_keyval_t               *kv;
    ngx_table_elt_t            *h;
    ngx_http_mock_ctx_t        *ctx;
    ngx_http_variable_value_t  *vv;

    ngx_str_null(v);

    n = 0;
    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    switch (op->type) {

    case NGX_HTTP_MOCK_TPL_STRING:
        *v = op->text;
        break;

    case NGX_HTTP_MOCK_TPL_METHOD:
        *v = r->method_name;
        break;

    case NGX_HTTP_MOCK_TPL_PATH:
        *v = r->uri;
        break;

    case NGX_HTTP_MOCK_TPL_SEGMENT:
        ngx_http_mock_render_segment(&r->uri, op->a, v);
        break;

    case NGX_HTTP_MOCK_TPL_CAPTURE:
        if (ctx == NULL || ctx->captures == NULL) {
            break;
        }

        kv = ctx->captures->elts;

        for (i = 0; i < ctx->captures->nelts; i++) {
            if (kv[i].key.len == op->text.len
                && ngx_strncmp(kv[i].key.data, op->text.data, op->text.len)
                   == 0)
            {
                *v = kv[i].value;
                break;
            }
        }

        break;

    case NGX_HTTP_MOCK_TPL_QUERY:
        if (ngx_http_arg(r, op->text.data, op->text.len, &raw) == NGX_OK) {
            return ngx_http_mock_decode(r->pool, raw.data,
                                        raw.data + raw.len, 1, v);
        }

        break;

    case NGX_HTTP_MOCK_TPL_HEADER:
        h = ngx_http_mock_header_in(r, &op->text);

        if (h) {
            *v = h->value;
        }

        break;

    case NGX_HTTP_MOCK_TPL_COOKIE:
#if (nginx_version >= 1023000)
        (void) ngx_http_parse_multi_header_lines(r, r->headers_in.cookie,
                                                 &op->text, v);
#else
        (void) ngx_http_parse_multi_header_lines(&r->headers_in.cookies,
                                                 &op->text, v);
#endif
        break;

    case NGX_HTTP_MOCK_TPL_BODY:
    case NGX_HTTP_MOCK_TPL_FORM:
        if (ngx_http_mock_request_body(r, &raw) != NGX_OK) {
            return NGX_ERROR;
        }

        if (op->type == NGX_HTTP_MOCK_TPL_FORM) {
            return ngx_http_mock_render_form(r->pool, &raw, &op->text, v);
        }

        if (ngx_http_mock_json_get(r->pool, &raw, &op->text, v) == NGX_ERROR)
        {
            return NGX_ERROR;
        }

        break;

    case NGX_HTTP_MOCK_TPL_UUID:
        p = ngx_pnalloc(r->pool, 36);
        if (p == NULL) {
            return NGX_ERROR;
        }

        v->data = p;
        v->len = 36;

        /* 122 random bits, version 4, variant 10 */

        for (i = 0; i < 16; i += 2) {
            n = (ngx_uint_t) ngx_random();
            b[i] = (u_char) n;
            b[i + 1] = (u_char) (n >> 8);
        }

        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;

        for (i = 0; i < 16; i++) {
            if (i == 4 || i == 6 || i == 8 || i == 10) {
                *p++ = '-';
            }

            *p++ = ngx_http_mock_hex[b[i] >> 4];
            *p++ = ngx_http_mock_hex[b[i] & 0xf];
        }

        break;

    case NGX_HTTP_MOCK_TPL_RANDOM_INT:
        p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
        if (p == NULL) {
            return NGX_ERROR;
        }

        range = (uint64_t) (op->b - op->a) + 1;

        v->data = p;
        v->len = ngx_sprintf(p, "%L", (int64_t) (op->a
                             + (int64_t) ((((uint64_t) ngx_random() << 31)
                                           ^ (uint64_t) ngx_random())
                                          % range)))
                 - p;
        break;

    case NGX_HTTP_MOCK_TPL_RANDOM_HEX:
        p = ngx_pnalloc(r->pool, op->a);
        if (p == NULL) {
            return NGX_ERROR;
        }

        v->data = p;
        v->len = op->a;

        for (i = 0; i < (ngx_uint_t) op->a; i++) {
            n = (i % 6 == 0) ? (ngx_uint_t) ngx_random() : n >> 4;
            *p++ = ngx_http_mock_hex[n & 0xf];
        }

        break;

    case NGX_HTTP_MOCK_TPL_NOW:
        return ngx_http_mock_render_now(r, op, v);

    case NGX_HTTP_MOCK_TPL_SEQ:
        p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
        if (p == NULL) {
            return NGX_ERROR;
        }

        v->data = p;
        v->len = ngx_sprintf(p, "%ui", ctx ? ctx->seq : 0) - p;
        break;

    case NGX_HTTP_MOCK_TPL_SESSION:
        if (ctx && ctx->session.len) {
            *v = ctx->session;

        } else {
            ngx_str_set(v, "default");
        }

        break;

    case NGX_HTTP_MOCK_TPL_VAR:
        return ngx_http_mock_render_var(r, op, &op->text, v, 0);

    case NGX_HTTP_MOCK_TPL_NGINX:
        vv = ngx_http_get_variable(r, &op->text, op->hash);

        if (vv == NULL) {
            return NGX_ERROR;
        }

        if (!vv->not_found) {
            v->data = vv->data;
            v->len = vv->len;
        }

        break;
    }

    return NGX_OK;
}


/* segment n of "/v1/users/7", from 0 */

static void
ngx_http_mock_render_segment(ngx_str_t *path, ngx_uint_t n, ngx_str_t *v)
{
    u_char      *p, *last, *start;
    ngx_uint_t   i;

    p = path->data;
    last = p + path->len;

    if (p < last && *p == '/') {
        p++;
    }

    for (i = 0; p <= last; i++) {
        start = p;

        while (p < last && *p != '/') {
            p++;
        }

        if (i == n) {
            v->data = start;
            v->len = p - start;
            return;
        }

        p++;
    }
}


/* the first "name=value" of a form body, decoded */

static ngx_int_t
ngx_http_mock_render_form(ngx_pool_t *pool, ngx_str_t *body, ngx_str_t *name,
    ngx_str_t *v)
{
    u_char  *p, *last, *end, *eq;

    p = body->data;
    last = p + body->len;

    while (p < last) {
        end = ngx_strlchr(p, last, '&');
        if (end == NULL) {
            end = last;
        }

        eq = ngx_strlchr(p, end, '=');

        if (eq && (size_t) (eq - p) == name->len
            && ngx_strncmp(p, name->data, name->len) == 0)
        {
            return ngx_http_mock_decode(pool, eq + 1, end, 1, v);
        }

        p = end + 1;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mock_render_now(ngx_http_request_t *r, ngx_http_mock_tpl_op_t *op,
    ngx_str_t *v)
{
    u_char      *p;
    time_t       t;
    size_t       n;
    ngx_tm_t     tm;
    struct tm    stm;
    ngx_time_t  *tp;
    u_char       format[130];

    tp = ngx_timeofday();
    t = tp->sec + op->offset;

    n = (op->form == NGX_HTTP_MOCK_NOW_FORMAT) ? 256 : 32;

    p = ngx_pnalloc(r->pool, n);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->data = p;

    switch (op->form) {

    case NGX_HTTP_MOCK_NOW_EPOCH:
        v->len = ngx_sprintf(p, "%T", t) - p;
        break;

    case NGX_HTTP_MOCK_NOW_EPOCH_MS:
        v->len = ngx_sprintf(p, "%L", (int64_t) t * 1000 + tp->msec) - p;
        break;

    case NGX_HTTP_MOCK_NOW_FORMAT:
        ngx_memcpy(format, op->text.data, op->text.len);
        format[op->text.len] = '\0';

        if (gmtime_r(&t, &stm) == NULL) {
            v->len = 0;
            break;
        }

        n = strftime((char *) p, n, (char *) format, &stm);

        if (n == 0) {
            /* a format of 128 bytes makes at most some 4 KB */

            p = ngx_pnalloc(r->pool, NGX_HTTP_MOCK_NOW_FORMAT_MAX);
            if (p == NULL) {
                return NGX_ERROR;
            }

            v->data = p;
            n = strftime((char *) p, NGX_HTTP_MOCK_NOW_FORMAT_MAX,
                         (char *) format, &stm);
        }

        v->len = n;
        break;

    default:
        if (t < 0) {
            /* ngx_gmtime() takes a time before 1970 as 1970 */

            if (gmtime_r(&t, &tm) == NULL) {
                v->len = 0;
                break;
            }

            tm.ngx_tm_year += 1900;
            tm.ngx_tm_mon++;

        } else {
            ngx_gmtime(t, &tm);
        }

        if (tm.ngx_tm_year > 9999 || tm.ngx_tm_year < 0) {
            v->len = ngx_sprintf(p, "%d-%02d-%02dT%02d:%02d:%02dZ",
                                 tm.ngx_tm_year, tm.ngx_tm_mon,
                                 tm.ngx_tm_mday, tm.ngx_tm_hour,
                                 tm.ngx_tm_min, tm.ngx_tm_sec)
                     - p;
            break;
        }

        /* "2026-12-01T08:00:00Z", without ngx_sprintf()'s cost */

        ngx_memcpy(p, "0000-00-00T00:00:00Z", 20);

        p[0] += tm.ngx_tm_year / 1000;
        p[1] += tm.ngx_tm_year / 100 % 10;
        p[2] += tm.ngx_tm_year / 10 % 10;
        p[3] += tm.ngx_tm_year % 10;
        p[5] += tm.ngx_tm_mon / 10;
        p[6] += tm.ngx_tm_mon % 10;
        p[8] += tm.ngx_tm_mday / 10;
        p[9] += tm.ngx_tm_mday % 10;
        p[11] += tm.ngx_tm_hour / 10;
        p[12] += tm.ngx_tm_hour % 10;
        p[14] += tm.ngx_tm_min / 10;
        p[15] += tm.ngx_tm_min % 10;
        p[17] += tm.ngx_tm_sec / 10;
        p[18] += tm.ngx_tm_sec % 10;

        v->len = 20;
    }

    return NGX_OK;
}


/* a session's value: read, or (set) remembered */

static ngx_int_t
ngx_http_mock_render_var(ngx_http_request_t *r, ngx_http_mock_tpl_op_t *op,
    ngx_str_t *name, ngx_str_t *v, ngx_uint_t set)
{
    ngx_int_t                   rc;
    ngx_str_t                  *session;
    ngx_http_mock_ctx_t        *ctx;
    ngx_http_mock_loc_conf_t   *mlcf;
    ngx_http_mock_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mock_module);
    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mock_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    if (mmcf->sh == NULL || ctx == NULL) {
        return NGX_OK;
    }

    session = &ctx->session;

    /* replay may send an answer while it holds the zone's mutex */

    if (!ctx->locked) {
        ngx_shmtx_lock(&mmcf->shpool->mutex);
    }

    if (set) {
        rc = ngx_http_mock_session_var_set(mmcf->sh, session, name, v,
                                           mlcf->template_vars);

    } else {
        rc = ngx_http_mock_session_var_get(mmcf->sh, session, name, r->pool,
                                           v);
    }

    if (!ctx->locked) {
        ngx_shmtx_unlock(&mmcf->shpool->mutex);
    }

    if (rc == NGX_DECLINED && set) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "mock: the value \"%V\" is not remembered: its %uz "
                      "bytes do not fit the %uz of mock_template_vars of "
                      "session \"%V\"", name, v->len, mlcf->template_vars,
                      session);

    } else if (rc == NGX_BUSY) {

        /* a full zone stays full for a while: said once a minute */

        if (ngx_time() - mmcf->sh->full_logged >= 60) {
            mmcf->sh->full_logged = ngx_time();

            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "mock: zone is full: the value \"%V\" is not "
                          "remembered; reset finished sessions with the "
                          "admin API or make mock_zone larger", name);
        }

    } else if (rc == NGX_ERROR) {
        return NGX_ERROR;

    } else if (rc == NGX_OK && set) {
        /* the fleet has it too, before this answer goes out */
        ngx_http_mock_fleet_var_set(r, session, name, v);
    }

    return NGX_OK;
}


static size_t
ngx_http_mock_json_escaped(ngx_str_t *v)
{
    size_t   len, n;
    u_char  *p, *last;

    len = v->len;
    last = v->data + v->len;

    p = v->data;

    while (p < last) {
        if (*p < 0x80) {
            len += ngx_http_mock_json_extra[*p++];
            continue;
        }

        /* a byte that is not UTF-8 becomes \ufffd */

        n = ngx_http_mock_utf8_len(p, last);

        if (n == 0) {
            len += 5;
            p++;

        } else {
            p += n;
        }
    }

    return len;
}


static u_char *
ngx_http_mock_json_escape(u_char *p, ngx_str_t *v)
{
    size_t   n;
    u_char  *s, *last;

    last = v->data + v->len;

    for (s = v->data; s < last; s++) {

        if (*s >= 0x80) {
            n = ngx_http_mock_utf8_len(s, last);

            if (n == 0) {
                p = ngx_cpymem(p, "\\ufffd", 6);

            } else {
                p = ngx_cpymem(p, s, n);
                s += n - 1;
            }

            continue;
        }

        switch (*s) {

        case '"':
        case '\\':
            *p++ = '\\';
            *p++ = *s;
            break;

        case '\n':
            *p++ = '\\'; *p++ = 'n';
            break;

        case '\r':
            *p++ = '\\'; *p++ = 'r';
            break;

        case '\t':
            *p++ = '\\'; *p++ = 't';
            break;

        default:
            if (*s < 0x20) {
                p = ngx_sprintf(p, "\\u%04xd", (ngx_uint_t) *s);
                break;
            }

            *p++ = *s;
        }
    }

    return p;
}


/* the bytes of the UTF-8 character at p, 0 when they are not one */

static size_t
ngx_http_mock_utf8_len(u_char *p, u_char *last)
{
    u_char    *s;
    size_t     n;
    uint32_t   u;

    s = p;
    u = ngx_utf8_decode(&s, last - p);

    if (u > 0x10ffff || (u >= 0xd800 && u <= 0xdfff)) {
        return 0;
    }

    n = s - p;

    /* ngx_utf8_decode() takes any byte from 0x80 as a continuation */

    while (--s > p) {
        if ((*s & 0xc0) != 0x80) {
            return 0;
        }
    }

    return n;
}


/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */

static ngx_uint_t
ngx_http_mock_json_number(ngx_str_t *v)
{
    u_char  *p, *last;

    p = v->data;
    last = p + v->len;

    if (p < last && *p == '-') {
        p++;
    }

    if (p == last || *p < '0' || *p > '9') {
        return 0;
    }

    if (*p == '0') {
        p++;

    } else {
        while (p < last && *p >= '0' && *p <= '9') {
            p++;
        }
    }

    if (p < last && *p == '.') {
        if (++p == last || *p < '0' || *p > '9') {
            return 0;
        }

        while (p < last && *p >= '0' && *p <= '9') {
            p++;
        }
    }

    if (p < last && (*p == 'e' || *p == 'E')) {
        p++;

        if (p < last && (*p == '+' || *p == '-')) {
            p++;
        }

        if (p == last || *p < '0' || *p > '9') {
            return 0;
        }

        while (p < last && *p >= '0' && *p <= '9') {
            p++;
        }
    }

    return p == last;
}
