
/*
 * Response templates: the "{{ ... }}" expressions of recorded bodies and
 * header values, parsed and checked once into pieces that a request only
 * evaluates.
 */


#include "ngx_http_mock_module.h"


#define NGX_HTTP_MOCK_TPL_TOKENS     16

#define ngx_http_mock_tpl_aligned(size)  ngx_align(size, sizeof(void *))


typedef struct {
    ngx_str_t                     value;
    u_char                       *pos;          /* where it is written */
    ngx_uint_t                    quoted;       /* a string literal */
} ngx_http_mock_tpl_token_t;


typedef struct {
    ngx_pool_t                   *pool;
    ngx_array_t                   ops;
    ngx_uint_t                    json;
    ngx_uint_t                    in_string;
    ngx_uint_t                    escaped;
    u_char                       *error_pos;
    u_char                        error[NGX_MAX_CONF_ERRSTR];
    size_t                        error_len;
} ngx_http_mock_tpl_parse_t;


static ngx_int_t ngx_http_mock_template_compile(ngx_pool_t *pool,
    ngx_str_t *text, ngx_uint_t json, ngx_http_mock_template_t **tplp,
    ngx_http_mock_tpl_parse_t *tp);
static ngx_int_t ngx_http_mock_tpl_literal(ngx_http_mock_tpl_parse_t *tp,
    u_char *start, u_char *end);
static ngx_int_t ngx_http_mock_tpl_expression(ngx_http_mock_tpl_parse_t *tp,
    u_char *start, u_char **pos, u_char *last);
static ngx_int_t ngx_http_mock_tpl_operand(ngx_http_mock_tpl_parse_t *tp,
    ngx_http_mock_tpl_op_t *op, ngx_http_mock_tpl_token_t *t, ngx_uint_t n);
static ngx_int_t ngx_http_mock_tpl_now(ngx_http_mock_tpl_parse_t *tp,
    ngx_http_mock_tpl_op_t *op, ngx_http_mock_tpl_token_t *t, ngx_uint_t n);
static ngx_int_t ngx_http_mock_tpl_prefix(ngx_str_t *name, char *prefix,
    ngx_str_t *rest);
static ngx_int_t ngx_http_mock_tpl_name(ngx_str_t *s);
static ngx_int_t ngx_http_mock_tpl_json_path(ngx_str_t *s);
static void ngx_http_mock_tpl_error(ngx_http_mock_tpl_parse_t *tp,
    u_char *pos, const char *fmt, ...);
static ngx_uint_t ngx_http_mock_tpl_is_json(ngx_array_t *headers);
static ngx_int_t ngx_http_mock_tpl_report(ngx_pool_t *pool,
    ngx_http_mock_tpl_parse_t *tp, ngx_str_t *text, ngx_http_mock_mark_t *mark,
    ngx_str_t *part, ngx_str_t *err);


/* the names that take a name after them */

static struct {
    char                         *prefix;
    ngx_uint_t                    type;
} ngx_http_mock_tpl_named[] = {
    { "request.query.", NGX_HTTP_MOCK_TPL_QUERY },
    { "request.header.", NGX_HTTP_MOCK_TPL_HEADER },
    { "request.cookie.", NGX_HTTP_MOCK_TPL_COOKIE },
    { "request.form.", NGX_HTTP_MOCK_TPL_FORM },
    { "path.", NGX_HTTP_MOCK_TPL_CAPTURE },
    { "var.", NGX_HTTP_MOCK_TPL_VAR },
    { "nginx.", NGX_HTTP_MOCK_TPL_NGINX },
    { NULL, 0 }
};


/*
 * Compiles the templates of the records that a location's mode makes
 * templates; a record compiled once serves every location.
 */

ngx_int_t
ngx_http_mock_template_cassettes(ngx_conf_t *cf, ngx_pool_t *pool,
    ngx_array_t *cassettes, ngx_uint_t mode)
{
    ngx_str_t                   err;
    ngx_uint_t                  i, j;
    ngx_http_mock_record_t     *rec;
    ngx_http_mock_cassette_t  **c;

    if (mode == NGX_HTTP_MOCK_TEMPLATE_OFF) {
        return NGX_OK;
    }

    c = cassettes->elts;

    for (i = 0; i < cassettes->nelts; i++) {
        rec = c[i]->records.elts;

        for (j = 0; j < c[i]->records.nelts; j++) {
            if (rec[j].compiled
                || !ngx_http_mock_template_applies(mode, &rec[j]))
            {
                continue;
            }

            if (ngx_http_mock_template_record(pool, &rec[j], &err)
                != NGX_OK)
            {
                if (err.len) {
                    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                       "mock: cassette \"%V\", %V",
                                       &c[i]->name, &err);
                }

                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


ngx_uint_t
ngx_http_mock_template_applies(ngx_uint_t mode, ngx_http_mock_record_t *rec)
{
    return mode == NGX_HTTP_MOCK_TEMPLATE_ON
           || (mode == NGX_HTTP_MOCK_TEMPLATE_MARKED && rec->templated);
}


/*
 * The templates of one record: its body (unless !!binary) and each header
 * value with an expression.  NGX_DECLINED: err says what is wrong, and
 * where when the record came from a file.
 */

ngx_int_t
ngx_http_mock_template_record(ngx_pool_t *pool, ngx_http_mock_record_t *rec,
    ngx_str_t *err)
{
    ngx_int_t                   rc;
    ngx_str_t                   part;
    ngx_uint_t                  i, json;
    ngx_table_elt_t            *h;
    ngx_http_mock_tpl_parse_t  *tp;

    ngx_str_null(err);

    tp = ngx_palloc(pool, sizeof(ngx_http_mock_tpl_parse_t));
    if (tp == NULL) {
        return NGX_ERROR;
    }

    rec->body_tpl = NULL;
    rec->header_tpls = NULL;

    if (!rec->binary) {
        json = ngx_http_mock_tpl_is_json(&rec->headers);

        rc = ngx_http_mock_template_compile(pool, &rec->body, json,
                                            &rec->body_tpl, tp);
        if (rc == NGX_DECLINED) {
            ngx_str_set(&part, "the body");
            (void) ngx_http_mock_tpl_report(pool, tp, &rec->body,
                                            &rec->body_mark, &part, err);
        }

        if (rc != NGX_OK) {
            return rc;
        }
    }

    h = rec->headers.elts;

    for (i = 0; i < rec->headers.nelts; i++) {
        if (ngx_strlchr(h[i].value.data, h[i].value.data + h[i].value.len,
                        '{')
            == NULL)
        {
            continue;
        }

        if (rec->header_tpls == NULL) {
            rec->header_tpls = ngx_pcalloc(pool, rec->headers.nelts
                                                 * sizeof(void *));
            if (rec->header_tpls == NULL) {
                return NGX_ERROR;
            }
        }

        rc = ngx_http_mock_template_compile(pool, &h[i].value, 0,
                                            &rec->header_tpls[i], tp);
        if (rc == NGX_DECLINED) {
            part.len = sizeof("header \"\"") - 1 + h[i].key.len;
            part.data = ngx_pnalloc(pool, part.len);
            if (part.data == NULL) {
                return NGX_ERROR;
            }

            ngx_sprintf(part.data, "header \"%V\"", &h[i].key);

            (void) ngx_http_mock_tpl_report(pool, tp, &h[i].value,
                                            rec->header_marks
                                            ? &rec->header_marks[i] : NULL,
                                            &part, err);
        }

        if (rc != NGX_OK) {
            return rc;
        }
    }

    rec->compiled = 1;

    return NGX_OK;
}


/* "line L, column C: what", the column of the expression when known */

static ngx_int_t
ngx_http_mock_tpl_report(ngx_pool_t *pool, ngx_http_mock_tpl_parse_t *tp,
    ngx_str_t *text, ngx_http_mock_mark_t *mark, ngx_str_t *part,
    ngx_str_t *err)
{
    u_char      *p, *q, *last;
    size_t       len, off;
    ngx_uint_t   column;

    len = tp->error_len + part->len + 3 * NGX_INT_T_LEN + 64;

    err->data = ngx_pnalloc(pool, len);
    if (err->data == NULL) {
        return NGX_ERROR;
    }

    last = err->data + len;

    if (tp->error_pos < text->data
        || tp->error_pos > text->data + text->len)
    {
        /* every position is in the text; this keeps the loop below in it */
        tp->error_pos = text->data;
    }

    off = tp->error_pos - text->data;

    if (mark == NULL || mark->line == 0) {
        p = ngx_slprintf(err->data, last, "%V, byte %uz: %*s", part, off,
                         tp->error_len, tp->error);

    } else if (mark->exact) {
        column = mark->column;

        for (q = text->data; q < tp->error_pos; q++) {
            column += ((*q & 0xc0) != 0x80);
        }

        p = ngx_slprintf(err->data, last, "line %ui, column %ui: %*s in %V",
                         mark->line, column, tp->error_len, tp->error, part);

    } else {
        p = ngx_slprintf(err->data, last, "line %ui, column %ui: %*s in %V, "
                         "at its byte %uz", mark->line, mark->column,
                         tp->error_len, tp->error, part, off);
    }

    err->len = p - err->data;

    return NGX_OK;
}


/* NGX_OK with *tplp NULL: the text has no expression */

static ngx_int_t
ngx_http_mock_template_compile(ngx_pool_t *pool, ngx_str_t *text,
    ngx_uint_t json, ngx_http_mock_template_t **tplp,
    ngx_http_mock_tpl_parse_t *tp)
{
    u_char                    *p, *start, *last;
    ngx_uint_t                 i;
    ngx_http_mock_tpl_op_t    *op;
    ngx_http_mock_template_t  *tpl;

    *tplp = NULL;

    if (text->len < 2) {
        return NGX_OK;
    }

    last = text->data + text->len;

    for (p = text->data; p + 1 < last; p++) {
        if (p[0] == '{' && p[1] == '{') {
            break;
        }
    }

    if (p + 1 >= last) {
        return NGX_OK;
    }

    tp->pool = pool;
    tp->json = json;
    tp->in_string = 0;
    tp->escaped = 0;
    tp->error_len = 0;

    if (ngx_array_init(&tp->ops, pool, 8, sizeof(ngx_http_mock_tpl_op_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    start = text->data;
    p = start;

    while (p < last) {
        if (p + 1 < last && p[0] == '{' && p[1] == '{') {
            if (ngx_http_mock_tpl_literal(tp, start, p) != NGX_OK
                || ngx_http_mock_tpl_expression(tp, p, &p, last) != NGX_OK)
            {
                return tp->error_len ? NGX_DECLINED : NGX_ERROR;
            }

            start = p;
            continue;
        }

        p++;
    }

    if (ngx_http_mock_tpl_literal(tp, start, last) != NGX_OK) {
        return NGX_ERROR;
    }

    tpl = ngx_pcalloc(pool, sizeof(ngx_http_mock_template_t));
    if (tpl == NULL) {
        return NGX_ERROR;
    }

    tpl->nops = tp->ops.nelts;
    tpl->ops = tp->ops.elts;
    tpl->size = ngx_http_mock_tpl_aligned(sizeof(ngx_http_mock_template_t))
                + ngx_http_mock_tpl_aligned(tpl->nops
                                            * sizeof(ngx_http_mock_tpl_op_t));

    for (i = 0; i < tpl->nops; i++) {
        op = &tpl->ops[i];

        if (op->type == NGX_HTTP_MOCK_TPL_LITERAL) {
            tpl->literal += op->text.len;
            continue;
        }

        if (op->type == NGX_HTTP_MOCK_TPL_BODY
            || op->type == NGX_HTTP_MOCK_TPL_FORM)
        {
            tpl->body = 1;
        }

        if (op->type == NGX_HTTP_MOCK_TPL_VAR) {
            tpl->vars = 1;
        }

        tpl->size += op->text.len + op->fallback.len + op->as.len;
    }

    tpl->size = ngx_http_mock_tpl_aligned(tpl->size);

    *tplp = tpl;

    return NGX_OK;
}


/* a literal run; in a JSON body, whether it leaves a string open */

static ngx_int_t
ngx_http_mock_tpl_literal(ngx_http_mock_tpl_parse_t *tp, u_char *start,
    u_char *end)
{
    u_char                  *p;
    ngx_http_mock_tpl_op_t  *op;

    if (start == end) {
        return NGX_OK;
    }

    if (tp->json) {
        for (p = start; p < end; p++) {
            if (tp->in_string) {
                if (tp->escaped) {
                    tp->escaped = 0;

                } else if (*p == '\\') {
                    tp->escaped = 1;

                } else if (*p == '"') {
                    tp->in_string = 0;
                }

            } else if (*p == '"') {
                tp->in_string = 1;
            }
        }
    }

    op = ngx_array_push(&tp->ops);
    if (op == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(op, sizeof(ngx_http_mock_tpl_op_t));

    op->type = NGX_HTTP_MOCK_TPL_LITERAL;
    op->text.data = start;
    op->text.len = end - start;

    return NGX_OK;
}


/* "{{ [default] operand [args] ["fallback"] [as NAME] }}" */

static ngx_int_t
ngx_http_mock_tpl_expression(ngx_http_mock_tpl_parse_t *tp, u_char *start,
    u_char **pos, u_char *last)
{
    u_char                     *p, *q;
    ngx_uint_t                  n, dflt;
    ngx_http_mock_tpl_op_t     *op;
    ngx_http_mock_tpl_token_t   t[NGX_HTTP_MOCK_TPL_TOKENS];

    p = start + 2;
    n = 0;

    for ( ;; ) {
        while (p < last && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (p >= last) {
            ngx_http_mock_tpl_error(tp, start, "unterminated \"{{\"");
            return NGX_ERROR;
        }

        if (p + 1 < last && p[0] == '}' && p[1] == '}') {
            p += 2;
            break;
        }

        if (n == NGX_HTTP_MOCK_TPL_TOKENS) {
            ngx_http_mock_tpl_error(tp, start, "too many words in an "
                                    "expression");
            return NGX_ERROR;
        }

        if (*p == '"') {
            /* a string: \" and \\ are its escapes */

            q = ngx_pnalloc(tp->pool, last - p);
            if (q == NULL) {
                return NGX_ERROR;
            }

            t[n].value.data = q;
            t[n].pos = p;
            t[n].quoted = 1;

            for (p++; p < last && *p != '"'; p++) {
                if (*p == '\\' && p + 1 < last
                    && (p[1] == '"' || p[1] == '\\'))
                {
                    p++;
                }

                *q++ = *p;
            }

            if (p >= last) {
                ngx_http_mock_tpl_error(tp, start, "unterminated string");
                return NGX_ERROR;
            }

            p++;
            t[n].value.len = q - t[n].value.data;
            n++;
            continue;
        }

        if (*p == '\r' || *p == '\n' || *p == '{') {
            ngx_http_mock_tpl_error(tp, start, "unterminated \"{{\"");
            return NGX_ERROR;
        }

        t[n].value.data = p;
        t[n].pos = p;
        t[n].quoted = 0;

        while (p < last && *p != ' ' && *p != '\t' && *p != '"'
               && *p != '\r' && *p != '\n'
               && !(p + 1 < last && p[0] == '}' && p[1] == '}'))
        {
            p++;
        }

        t[n].value.len = p - t[n].value.data;
        n++;
    }

    *pos = p;

    op = ngx_array_push(&tp->ops);
    if (op == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(op, sizeof(ngx_http_mock_tpl_op_t));

    if (tp->json) {
        op->where = tp->in_string ? NGX_HTTP_MOCK_TPL_IN_STRING
                                  : NGX_HTTP_MOCK_TPL_JSON_VALUE;
    }

    if (n == 0) {
        ngx_http_mock_tpl_error(tp, start, "empty expression");
        return NGX_ERROR;
    }

    /* "as NAME" remembers the value in the session */

    if (n >= 2 && !t[n - 2].quoted && t[n - 2].value.len == 2
        && ngx_strncmp(t[n - 2].value.data, "as", 2) == 0)
    {
        if (t[n - 1].quoted || ngx_http_mock_tpl_name(&t[n - 1].value)
                               != NGX_OK)
        {
            ngx_http_mock_tpl_error(tp, start, "\"as\" needs a name of "
                                    "letters, digits and \"_\"");
            return NGX_ERROR;
        }

        op->as = t[n - 1].value;
        n -= 2;
    }

    dflt = (n >= 1 && !t[0].quoted && t[0].value.len == 7
            && ngx_strncmp(t[0].value.data, "default", 7) == 0);

    if (dflt) {
        if (n < 3 || !t[n - 1].quoted) {
            ngx_http_mock_tpl_error(tp, start, "\"default\" needs an "
                                    "expression and a quoted fallback");
            return NGX_ERROR;
        }

        op->dflt = 1;
        op->fallback = t[n - 1].value;

        return ngx_http_mock_tpl_operand(tp, op, &t[1], n - 2);
    }

    if (n == 0) {
        ngx_http_mock_tpl_error(tp, start, "empty expression");
        return NGX_ERROR;
    }

    return ngx_http_mock_tpl_operand(tp, op, t, n);
}


static ngx_int_t
ngx_http_mock_tpl_operand(ngx_http_mock_tpl_parse_t *tp,
    ngx_http_mock_tpl_op_t *op, ngx_http_mock_tpl_token_t *t, ngx_uint_t n)
{
    char        *prefix;
    u_char      *p;
    ngx_int_t    v;
    ngx_str_t   *name, rest;
    ngx_uint_t   i, type;

    name = &t[0].value;

    if (t[0].quoted) {
        if (n > 1) {
            goto extra;
        }

        op->type = NGX_HTTP_MOCK_TPL_STRING;
        op->text = *name;
        return NGX_OK;
    }

    if (name->len == 3 && ngx_strncmp(name->data, "now", 3) == 0) {
        return ngx_http_mock_tpl_now(tp, op, t, n);
    }

    if (name->len == 10 && ngx_strncmp(name->data, "random.int", 10) == 0) {
        if (n != 3 || t[1].quoted || t[2].quoted) {
            ngx_http_mock_tpl_error(tp, name->data, "\"random.int\" needs "
                                    "two integers");
            return NGX_ERROR;
        }

        for (i = 1; i < 3; i++) {
            p = t[i].value.data;
            v = (t[i].value.len && *p == '-')
                ? ngx_atoi(p + 1, t[i].value.len - 1)
                : ngx_atoi(p, t[i].value.len);

            if (v == NGX_ERROR || v > 1000000000000LL) {
                ngx_http_mock_tpl_error(tp, t[i].pos,
                                        "\"random.int\" needs two integers");
                return NGX_ERROR;
            }

            if (i == 1) {
                op->a = (*p == '-') ? -v : v;

            } else {
                op->b = (*p == '-') ? -v : v;
            }
        }

        if (op->a > op->b) {
            ngx_http_mock_tpl_error(tp, name->data, "\"random.int\" needs "
                                    "the smaller bound first");
            return NGX_ERROR;
        }

        op->type = NGX_HTTP_MOCK_TPL_RANDOM_INT;
        return NGX_OK;
    }

    if (name->len == 10 && ngx_strncmp(name->data, "random.hex", 10) == 0) {
        v = (n == 2 && !t[1].quoted)
            ? ngx_atoi(t[1].value.data, t[1].value.len) : NGX_ERROR;

        if (v == NGX_ERROR || v == 0 || v > NGX_HTTP_MOCK_TPL_HEX_MAX) {
            ngx_http_mock_tpl_error(tp, name->data, "\"random.hex\" needs a "
                                    "number of digits from 1 to %d",
                                    NGX_HTTP_MOCK_TPL_HEX_MAX);
            return NGX_ERROR;
        }

        op->type = NGX_HTTP_MOCK_TPL_RANDOM_HEX;
        op->a = v;
        return NGX_OK;
    }

    if (n > 1) {
        goto extra;
    }

    if (name->len == 4 && ngx_strncmp(name->data, "uuid", 4) == 0) {
        op->type = NGX_HTTP_MOCK_TPL_UUID;
        return NGX_OK;
    }

    if (name->len == 3 && ngx_strncmp(name->data, "seq", 3) == 0) {
        op->type = NGX_HTTP_MOCK_TPL_SEQ;
        return NGX_OK;
    }

    if (name->len == 7 && ngx_strncmp(name->data, "session", 7) == 0) {
        op->type = NGX_HTTP_MOCK_TPL_SESSION;
        return NGX_OK;
    }

    if (name->len == 14
        && ngx_strncmp(name->data, "request.method", 14) == 0)
    {
        op->type = NGX_HTTP_MOCK_TPL_METHOD;
        return NGX_OK;
    }

    if (name->len == 12 && ngx_strncmp(name->data, "request.path", 12) == 0)
    {
        op->type = NGX_HTTP_MOCK_TPL_PATH;
        return NGX_OK;
    }

    if (ngx_http_mock_tpl_prefix(name, "request.path.", &rest) == NGX_OK) {
        v = ngx_atoi(rest.data, rest.len);

        if (v == NGX_ERROR) {
            ngx_http_mock_tpl_error(tp, name->data, "\"request.path.N\" "
                                    "needs a segment number");
            return NGX_ERROR;
        }

        op->type = NGX_HTTP_MOCK_TPL_SEGMENT;
        op->a = v;
        return NGX_OK;
    }

    if (ngx_http_mock_tpl_prefix(name, "request.body.", &rest) == NGX_OK) {
        if (ngx_http_mock_tpl_json_path(&rest) != NGX_OK) {
            ngx_http_mock_tpl_error(tp, name->data, "invalid JSON path "
                                    "\"%V\": it starts with \"$\" and "
                                    "has \".member\" and \"[N]\" steps",
                                    &rest);
            return NGX_ERROR;
        }

        op->type = NGX_HTTP_MOCK_TPL_BODY;
        op->text = rest;
        return NGX_OK;
    }

    for (i = 0; ngx_http_mock_tpl_named[i].prefix; i++) {
        prefix = ngx_http_mock_tpl_named[i].prefix;
        type = ngx_http_mock_tpl_named[i].type;

        if (ngx_http_mock_tpl_prefix(name, prefix, &rest) != NGX_OK) {
            continue;
        }

        if (rest.len == 0
            || ((type == NGX_HTTP_MOCK_TPL_VAR
                 || type == NGX_HTTP_MOCK_TPL_NGINX)
                && ngx_http_mock_tpl_name(&rest) != NGX_OK))
        {
            ngx_http_mock_tpl_error(tp, name->data, "\"%s\" needs a name",
                                    prefix);
            return NGX_ERROR;
        }

        op->type = type;
        op->text = rest;

        if (op->type == NGX_HTTP_MOCK_TPL_NGINX) {
            /* nginx's variables are found by their lowercase names */

            p = ngx_pnalloc(tp->pool, rest.len);
            if (p == NULL) {
                return NGX_ERROR;
            }

            op->hash = ngx_hash_strlow(p, rest.data, rest.len);
            op->text.data = p;
        }

        return NGX_OK;
    }

    ngx_http_mock_tpl_error(tp, name->data, "unknown name \"%V\"", name);
    return NGX_ERROR;

extra:

    ngx_http_mock_tpl_error(tp, t[1].pos, "unexpected \"%V\" after "
                            "\"%V\"", &t[1].value, name);
    return NGX_ERROR;
}


/* now ["strftime format" | epoch | epoch_ms] [+1d -2h ...] */

static ngx_int_t
ngx_http_mock_tpl_now(ngx_http_mock_tpl_parse_t *tp,
    ngx_http_mock_tpl_op_t *op, ngx_http_mock_tpl_token_t *t, ngx_uint_t n)
{
    u_char      *p, unit;
    ngx_int_t    v, scale;
    ngx_str_t   *s;
    ngx_uint_t   i;

    op->type = NGX_HTTP_MOCK_TPL_NOW;
    op->form = NGX_HTTP_MOCK_NOW_RFC3339;

    i = 1;

    if (n > 1) {
        s = &t[1].value;

        if (t[1].quoted) {
            if (s->len == 0 || s->len > 128) {
                ngx_http_mock_tpl_error(tp, t[1].pos, "the format of "
                                        "\"now\" is empty or too long");
                return NGX_ERROR;
            }

            op->form = NGX_HTTP_MOCK_NOW_FORMAT;
            op->text = *s;
            i = 2;

        } else if (s->len == 5 && ngx_strncmp(s->data, "epoch", 5) == 0) {
            op->form = NGX_HTTP_MOCK_NOW_EPOCH;
            i = 2;

        } else if (s->len == 8 && ngx_strncmp(s->data, "epoch_ms", 8) == 0) {
            op->form = NGX_HTTP_MOCK_NOW_EPOCH_MS;
            i = 2;
        }
    }

    for ( /* void */ ; i < n; i++) {
        s = &t[i].value;
        p = s->data;

        if (t[i].quoted || s->len < 3 || (*p != '+' && *p != '-')) {
            goto invalid;
        }

        unit = p[s->len - 1];

        switch (unit) {
        case 's': scale = 1; break;
        case 'm': scale = 60; break;
        case 'h': scale = 3600; break;
        case 'd': scale = 86400; break;
        case 'w': scale = 7 * 86400; break;
        default: goto invalid;
        }

        v = ngx_atoi(p + 1, s->len - 2);

        if (v == NGX_ERROR || v > (ngx_int_t) 100 * 366 * 86400 / scale) {
            goto invalid;
        }

        op->offset += (*p == '+') ? v * scale : -v * scale;
    }

    return NGX_OK;

invalid:

    ngx_http_mock_tpl_error(tp, t[i].pos, "\"now\" takes a quoted "
                            "format, \"epoch\" or \"epoch_ms\", then offsets "
                            "such as \"+1d\" or \"-2h\" (s, m, h, d, w), not "
                            "\"%V\"", &t[i].value);
    return NGX_ERROR;
}


static ngx_int_t
ngx_http_mock_tpl_prefix(ngx_str_t *name, char *prefix, ngx_str_t *rest)
{
    size_t  len;

    len = ngx_strlen(prefix);

    if (name->len < len || ngx_strncmp(name->data, prefix, len) != 0) {
        return NGX_DECLINED;
    }

    rest->data = name->data + len;
    rest->len = name->len - len;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mock_tpl_name(ngx_str_t *s)
{
    u_char      c;
    ngx_uint_t  i;

    if (s->len == 0) {
        return NGX_DECLINED;
    }

    for (i = 0; i < s->len; i++) {
        c = s->data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_'))
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/* "$", then ".member" and "[N]" steps */

static ngx_int_t
ngx_http_mock_tpl_json_path(ngx_str_t *s)
{
    u_char  *p, *last;

    p = s->data;
    last = p + s->len;

    if (p == last || *p++ != '$') {
        return NGX_DECLINED;
    }

    while (p < last) {
        if (*p == '.') {
            for (p++; p < last && *p != '.' && *p != '['; p++) {
                if (*p == ']') {
                    return NGX_DECLINED;
                }
            }

            if (p[-1] == '.') {
                return NGX_DECLINED;
            }

            continue;
        }

        if (*p == '[') {
            if (++p == last || *p < '0' || *p > '9') {
                return NGX_DECLINED;
            }

            while (p < last && *p >= '0' && *p <= '9') {
                p++;
            }

            if (p == last || *p++ != ']') {
                return NGX_DECLINED;
            }

            continue;
        }

        return NGX_DECLINED;
    }

    return NGX_OK;
}


static void
ngx_http_mock_tpl_error(ngx_http_mock_tpl_parse_t *tp, u_char *pos,
    const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    if (tp->error_len) {
        return;
    }

    va_start(args, fmt);
    p = ngx_vslprintf(tp->error, tp->error + sizeof(tp->error), fmt, args);
    va_end(args);

    tp->error_len = p - tp->error;
    tp->error_pos = pos;
}


/* Content-Type json, or a type with the suffix +json */

static ngx_uint_t
ngx_http_mock_tpl_is_json(ngx_array_t *headers)
{
    u_char     *p, *last, *end;
    ngx_str_t  *type;

    type = ngx_http_mock_content_type(headers);

    if (type == NULL) {
        return 0;
    }

    p = type->data;
    last = p + type->len;

    end = ngx_strlchr(p, last, ';');
    if (end == NULL) {
        end = last;
    }

    while (end > p && (end[-1] == ' ' || end[-1] == '\t')) {
        end--;
    }

    if (end - p < 5) {
        return 0;
    }

    return ngx_strncasecmp(end - 4, (u_char *) "json", 4) == 0
           && (end[-5] == '/' || end[-5] == '+');
}


size_t
ngx_http_mock_template_size(ngx_http_mock_record_t *rec)
{
    size_t      size;
    ngx_uint_t  i;

    size = rec->body_tpl ? rec->body_tpl->size : 0;

    if (rec->header_tpls) {
        for (i = 0; i < rec->headers.nelts; i++) {
            if (rec->header_tpls[i]) {
                size += rec->header_tpls[i]->size;
            }
        }
    }

    return size;
}


/*
 * A template copied to *pos: literals point into the copy of the text
 * they were parsed from ("from" is now at "to"), the rest follows the
 * pieces.  NULL: it does not fit before "last".
 */

ngx_http_mock_template_t *
ngx_http_mock_template_copy(u_char **pos, u_char *last,
    ngx_http_mock_template_t *tpl, u_char *from, u_char *to)
{
    u_char                    *p;
    ngx_uint_t                 i;
    ngx_http_mock_tpl_op_t    *op;
    ngx_http_mock_template_t  *t;

    p = ngx_align_ptr(*pos, sizeof(void *));

    if ((size_t) (last - p) < tpl->size) {
        return NULL;
    }

    t = (ngx_http_mock_template_t *) p;
    *t = *tpl;
    p += ngx_http_mock_tpl_aligned(sizeof(ngx_http_mock_template_t));

    t->ops = (ngx_http_mock_tpl_op_t *) p;
    ngx_memcpy(t->ops, tpl->ops, tpl->nops * sizeof(ngx_http_mock_tpl_op_t));
    p += ngx_http_mock_tpl_aligned(tpl->nops * sizeof(ngx_http_mock_tpl_op_t));

    for (i = 0; i < t->nops; i++) {
        op = &t->ops[i];

        if (op->type == NGX_HTTP_MOCK_TPL_LITERAL) {
            op->text.data = to + (op->text.data - from);
            continue;
        }

        if (op->text.len) {
            p = ngx_cpymem(p, op->text.data, op->text.len);
            op->text.data = p - op->text.len;
        }

        if (op->fallback.len) {
            p = ngx_cpymem(p, op->fallback.data, op->fallback.len);
            op->fallback.data = p - op->fallback.len;
        }

        if (op->as.len) {
            p = ngx_cpymem(p, op->as.data, op->as.len);
            op->as.data = p - op->as.len;
        }
    }

    *pos = (u_char *) t + tpl->size;

    return t;
}
