
/*
 * The admin API (mock_admin): JSON over HTTP to list cassettes and
 * interactions with their plays per session, reset counters, pin and
 * unpin forced answers, set a session's latency and fault, read the
 * journal of recent requests, list the interactions a session never
 * used, and reload cassettes from disk.
 * The operator protects the location with allow/deny or auth as usual.
 */


#include "ngx_http_mock_module.h"


#define NGX_HTTP_MOCK_ADMIN_BODY_MAX  65536
#define NGX_HTTP_MOCK_ADMIN_PARAMS    16


typedef struct {
    ngx_str_t                     name;
    ngx_str_t                     value;
} ngx_http_mock_param_t;


typedef struct {
    ngx_http_request_t           *r;
    ngx_chain_t                  *out;
    ngx_chain_t                 **last;
    ngx_buf_t                    *b;
    ngx_http_mock_param_t         params[NGX_HTTP_MOCK_ADMIN_PARAMS];
    ngx_uint_t                    nparams;
    ngx_str_t                     session;      /* as a file name, or "" */
    ngx_str_t                     error;        /* of a cassette */
    ngx_uint_t                    status;       /* of bad input */
    ngx_str_t                     reason;
    ngx_uint_t                    prometheus;   /* unsigned  prometheus:1; */
    ngx_uint_t                    asked;        /* the fleet answered */
    ngx_http_mock_fleet_state_t  *plays;        /* the fleet's, or NULL */
    ngx_uint_t                    unused;       /* the list asked for */
    ngx_int_t                     force_rc;
    ngx_http_mock_interaction_t  *forced;
    ngx_str_t                     method;
    ngx_str_t                     path;
    ngx_http_mock_fleet_state_t  *fleet;        /* what the fleet said */
    ngx_uint_t                    kind;         /* of a session's setting */
    ngx_str_t                     setting;      /* as printed, or empty */
} ngx_http_mock_admin_t;


typedef ngx_int_t (*ngx_http_mock_admin_pt)(ngx_http_mock_admin_t *a);


typedef struct {
    ngx_str_t                     name;
    ngx_uint_t                    methods;
    ngx_http_mock_admin_pt        handler;
} ngx_http_mock_endpoint_t;


static void ngx_http_mock_admin_body(ngx_http_request_t *r);
static void ngx_http_mock_admin_body_read(ngx_http_request_t *r);
static void ngx_http_mock_admin_body_take(ngx_http_request_t *r);
static ngx_int_t ngx_http_mock_admin_body_move(ngx_http_request_t *r);
static ngx_int_t ngx_http_mock_admin_too_large(ngx_http_request_t *r);
static ngx_int_t ngx_http_mock_admin_dispatch(ngx_http_request_t *r);
static ngx_int_t ngx_http_mock_admin_params(ngx_http_mock_admin_t *a);
static ngx_int_t ngx_http_mock_admin_json_string(u_char **pp, u_char *last,
    ngx_pool_t *pool, ngx_str_t *out);
static ngx_str_t *ngx_http_mock_admin_param(ngx_http_mock_admin_t *a,
    char *name);
static ngx_int_t ngx_http_mock_admin_store(ngx_http_mock_admin_t *a,
    ngx_http_mock_store_t **storep);
static ngx_int_t ngx_http_mock_admin_stores(ngx_http_mock_admin_t *a);
static ngx_int_t ngx_http_mock_admin_interactions(ngx_http_mock_admin_t *a);
static ngx_int_t ngx_http_mock_admin_unused(ngx_http_mock_admin_t *a);
static ngx_int_t ngx_http_mock_admin_list(ngx_http_mock_admin_t *a,
    ngx_uint_t unused);
static ngx_int_t ngx_http_mock_admin_item(ngx_http_mock_admin_t *a,
    ngx_http_mock_store_t *store, ngx_http_mock_index_t *index,
    ngx_str_t *session, ngx_http_mock_interaction_t *it, ngx_uint_t unused,
    ngx_uint_t *n);
static ngx_int_t ngx_http_mock_admin_reset(ngx_http_mock_admin_t *a);
static ngx_int_t ngx_http_mock_admin_force_done(ngx_http_request_t *r,
    void *data, ngx_http_mock_fleet_state_t *st);
static ngx_int_t ngx_http_mock_admin_forced(ngx_http_mock_admin_t *a,
    ngx_int_t rc, ngx_str_t *method, ngx_str_t *path,
    ngx_http_mock_interaction_t *it);
static ngx_int_t ngx_http_mock_admin_list_done(ngx_http_request_t *r,
    void *data, ngx_http_mock_fleet_state_t *st);
static ngx_int_t ngx_http_mock_admin_journal_done(ngx_http_request_t *r,
    void *data, ngx_http_mock_fleet_state_t *st);
static ngx_int_t ngx_http_mock_admin_fleet_journal(ngx_http_mock_admin_t *a,
    ngx_int_t limit);
static ngx_int_t ngx_http_mock_admin_reset_done(ngx_http_request_t *r,
    void *data, ngx_http_mock_fleet_state_t *st);
static ngx_int_t ngx_http_mock_admin_force(ngx_http_mock_admin_t *a);
static ngx_int_t ngx_http_mock_admin_latency(ngx_http_mock_admin_t *a);
static ngx_int_t ngx_http_mock_admin_fault(ngx_http_mock_admin_t *a);
static ngx_int_t ngx_http_mock_admin_setting_done(ngx_http_request_t *r,
    void *data, ngx_http_mock_fleet_state_t *st);
static ngx_int_t ngx_http_mock_admin_set(ngx_http_mock_admin_t *a,
    ngx_int_t rc);
static ngx_int_t ngx_http_mock_admin_setting(ngx_http_mock_admin_t *a,
    ngx_uint_t kind);
static ngx_int_t ngx_http_mock_admin_journal(ngx_http_mock_admin_t *a);
static ngx_int_t ngx_http_mock_admin_reload(ngx_http_mock_admin_t *a);
static ngx_int_t ngx_http_mock_admin_metrics(ngx_http_mock_admin_t *a);
static ngx_int_t ngx_http_mock_admin_drift(ngx_http_mock_admin_t *a);
static void ngx_http_mock_journal_copy(u_char *dst, size_t size,
    ngx_str_t *s);
static ngx_int_t ngx_http_mock_out_label(ngx_http_mock_admin_t *a,
    ngx_str_t *s);
static void ngx_http_mock_admin_log_writer(ngx_log_t *log, ngx_uint_t level,
    u_char *buf, size_t len);
static ngx_int_t ngx_http_mock_admin_error(ngx_http_request_t *r,
    ngx_uint_t status, char *fmt, ...);
static ngx_int_t ngx_http_mock_admin_fail(ngx_http_mock_admin_t *a,
    ngx_uint_t status, char *fmt, ...);
static ngx_int_t ngx_http_mock_admin_failed(ngx_http_mock_admin_t *a,
    ngx_int_t rc);
static ngx_int_t ngx_http_mock_admin_send(ngx_http_mock_admin_t *a,
    ngx_uint_t status);
static ngx_int_t ngx_http_mock_out(ngx_http_mock_admin_t *a, char *fmt, ...);
static ngx_int_t ngx_http_mock_out_room(ngx_http_mock_admin_t *a,
    size_t len);
static ngx_int_t ngx_http_mock_out_str(ngx_http_mock_admin_t *a,
    ngx_str_t *s);


static ngx_http_mock_endpoint_t  ngx_http_mock_endpoints[] = {

    { ngx_string(""), NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_http_mock_admin_stores },

    { ngx_string("cassettes"), NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_http_mock_admin_stores },

    { ngx_string("interactions"), NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_http_mock_admin_interactions },

    { ngx_string("unused"), NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_http_mock_admin_unused },

    { ngx_string("journal"), NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_http_mock_admin_journal },

    { ngx_string("reset"), NGX_HTTP_POST,
      ngx_http_mock_admin_reset },

    { ngx_string("force"), NGX_HTTP_POST|NGX_HTTP_DELETE,
      ngx_http_mock_admin_force },

    { ngx_string("latency"), NGX_HTTP_POST|NGX_HTTP_DELETE,
      ngx_http_mock_admin_latency },

    { ngx_string("fault"), NGX_HTTP_POST|NGX_HTTP_DELETE,
      ngx_http_mock_admin_fault },

    { ngx_string("reload"), NGX_HTTP_POST,
      ngx_http_mock_admin_reload },

    { ngx_string("metrics"), NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_http_mock_admin_metrics },

    { ngx_string("drift"), NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_DELETE,
      ngx_http_mock_admin_drift },

    { ngx_null_string, 0, NULL }
};


ngx_int_t
ngx_http_mock_admin_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    if (r->headers_in.content_length_n > NGX_HTTP_MOCK_ADMIN_BODY_MAX) {
        return ngx_http_mock_admin_too_large(r);
    }

    rc = ngx_http_mock_ui_forged(r);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        rc = ngx_http_discard_request_body(r);

        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_mock_admin_dispatch(r);
    }

    /*
     * A chunked body has no length to refuse up front: it is read as it
     * comes, unbuffered, and refused as soon as it outgrows the limit.
     */

    r->request_body_no_buffering = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_mock_admin_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/* the body has been read, or (r->reading_body) has begun to come */

static void
ngx_http_mock_admin_body(ngx_http_request_t *r)
{
    if (r->reading_body) {
        r->read_event_handler = ngx_http_mock_admin_body_read;
    }

    ngx_http_mock_admin_body_take(r);
}


static void
ngx_http_mock_admin_body_read(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    rc = ngx_http_read_unbuffered_request_body(r);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        r->read_event_handler = ngx_http_block_reading;
        ngx_http_finalize_request(r, rc);
        return;
    }

    ngx_http_mock_admin_body_take(r);
}


/*
 * Takes what has come of the body and reads on, as long as nginx has
 * more at hand; the endpoint runs once the whole body is in.
 */

static void
ngx_http_mock_admin_body_take(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    for ( ;; ) {
        rc = ngx_http_mock_admin_body_move(r);

        if (rc == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
            rc = ngx_http_mock_admin_too_large(r);
            break;
        }

        if (rc == NGX_ERROR) {
            rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
            break;
        }

        if (!r->reading_body) {
            rc = ngx_http_mock_admin_dispatch(r);
            break;
        }

        if (rc == NGX_DECLINED) {
            /* nothing more yet: the read event brings the rest */
            return;
        }

        rc = ngx_http_read_unbuffered_request_body(r);

        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            break;
        }
    }

    /* the body is done with: what comes while the answer goes out waits */

    r->read_event_handler = ngx_http_block_reading;

    ngx_http_finalize_request(r, rc);
}


/*
 * Copies the parts of the body that nginx added to rb->bufs into one
 * buffer of at most NGX_HTTP_MOCK_ADMIN_BODY_MAX bytes, which becomes the
 * first link of rb->bufs; the parts are marked consumed, so that nginx
 * reuses its buffer, and what comes next is added after that link.  When
 * the body is in, rb->bufs is that buffer alone.  NGX_DECLINED: nothing
 * new; NGX_HTTP_REQUEST_ENTITY_TOO_LARGE: past the limit.
 */

static ngx_int_t
ngx_http_mock_admin_body_move(ngx_http_request_t *r)
{
    size_t                    size;
    ngx_buf_t                *b;
    ngx_chain_t              *cl, *body;
    ngx_http_request_body_t  *rb;

    rb = r->request_body;

    body = rb->bufs;

    if (body && body->buf->tag == (ngx_buf_tag_t) &ngx_http_mock_admin_body) {
        cl = body->next;

    } else {
        cl = body;
        body = NULL;
    }

    if (cl == NULL) {
        return NGX_DECLINED;
    }

    if (body == NULL) {
        body = ngx_alloc_chain_link(r->pool);
        if (body == NULL) {
            return NGX_ERROR;
        }

        size = (!r->headers_in.chunked && r->headers_in.content_length_n > 0)
               ? (size_t) r->headers_in.content_length_n
               : NGX_HTTP_MOCK_ADMIN_BODY_MAX;

        b = ngx_create_temp_buf(r->pool, size);
        if (b == NULL) {
            return NGX_ERROR;
        }

        b->tag = (ngx_buf_tag_t) &ngx_http_mock_admin_body;

        body->buf = b;
        rb->bufs = body;
    }

    b = body->buf;
    body->next = NULL;

    for ( /* void */ ; cl; cl = cl->next) {

        if (!ngx_buf_in_memory(cl->buf) && ngx_buf_size(cl->buf)) {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "mock: admin request body not in memory");
            return NGX_ERROR;
        }

        size = cl->buf->last - cl->buf->pos;

        if (size == 0) {
            continue;
        }

        if (size > (size_t) (b->end - b->last)) {
            return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
        }

        b->last = ngx_cpymem(b->last, cl->buf->pos, size);
        cl->buf->pos = cl->buf->last;
    }

    return NGX_OK;
}


/*
 * The rest of the body is not read: the connection closes after the
 * answer, as it does when nginx refuses a body itself.
 */

static ngx_int_t
ngx_http_mock_admin_too_large(ngx_http_request_t *r)
{
    r->keepalive = 0;
    r->lingering_close = 1;

    return ngx_http_mock_admin_error(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                     "the body is larger than %d bytes",
                                     NGX_HTTP_MOCK_ADMIN_BODY_MAX);
}


static ngx_int_t
ngx_http_mock_admin_dispatch(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    ngx_str_t                  name, *value;
    ngx_http_mock_admin_t     *a;
    ngx_http_mock_endpoint_t  *e;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    /* the endpoint: what follows the location's prefix */

    name = r->uri;

    if (!clcf->named && name.len >= clcf->name.len
        && ngx_strncmp(name.data, clcf->name.data, clcf->name.len) == 0)
    {
        name.data += clcf->name.len;
        name.len -= clcf->name.len;
    }

    while (name.len && name.data[0] == '/') {
        name.data++;
        name.len--;
    }

    while (name.len && name.data[name.len - 1] == '/') {
        name.len--;
    }

    if (ngx_http_mock_audit(r, &name) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_mock_ui_handler(r, &name);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    rc = ngx_http_mock_inspect_handler(r, &name);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    rc = ngx_http_mock_edit_handler(r, &name);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    for (e = ngx_http_mock_endpoints; e->handler; e++) {
        if (e->name.len == name.len
            && ngx_strncmp(e->name.data, name.data, name.len) == 0)
        {
            break;
        }
    }

    if (e->handler == NULL) {
        return ngx_http_mock_admin_error(r, NGX_HTTP_NOT_FOUND,
                                         "no endpoint \"%V\"; try cassettes, "
                                         "interactions, unused, journal, "
                                         "metrics, drift, reset, force, "
                                         "latency, fault or reload",
                                         &name);
    }

    if (!(r->method & e->methods)) {
        return ngx_http_mock_admin_error(r, NGX_HTTP_NOT_ALLOWED,
                                         "%V does not take %V", &e->name,
                                         &r->method_name);
    }

    a = ngx_pcalloc(r->pool, sizeof(ngx_http_mock_admin_t));
    if (a == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    a->r = r;
    a->last = &a->out;

    rc = ngx_http_mock_admin_params(a);
    if (rc != NGX_OK) {
        return ngx_http_mock_admin_failed(a, rc);
    }

    value = ngx_http_mock_admin_param(a, "session");

    if (value && value->len) {
        if (value->len > NGX_HTTP_MOCK_SESSION_MAX) {
            return ngx_http_mock_admin_error(r, NGX_HTTP_BAD_REQUEST,
                                             "\"session\" is longer than %d "
                                             "bytes",
                                             NGX_HTTP_MOCK_SESSION_MAX);
        }

        if (ngx_http_mock_session_name(r->pool, value, &a->session)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (e->handler == ngx_http_mock_admin_reload) {
        /* a reload and an edit are made one after the other */
        ngx_http_mock_edit_lock(r);
        rc = e->handler(a);
        ngx_http_mock_edit_unlock(r);
        return rc;
    }

    return e->handler(a);
}


/*
 * Parameters come from the query string and from a JSON object in the
 * body, whose values are strings, numbers, booleans or null.
 */

static ngx_int_t
ngx_http_mock_admin_params(ngx_http_mock_admin_t *a)
{
    u_char                 *p, *last, *start, *eq, *dst, *src;
    ngx_str_t               body;
    ngx_http_request_t     *r;
    ngx_http_mock_param_t  *prm;

    r = a->r;

    p = r->args.data;
    last = r->args.data + r->args.len;

    while (p < last) {
        start = p;

        while (p < last && *p != '&') {
            p++;
        }

        if (p > start) {
            if (a->nparams == NGX_HTTP_MOCK_ADMIN_PARAMS) {
                return ngx_http_mock_admin_fail(a, NGX_HTTP_BAD_REQUEST,
                                                 "too many parameters");
            }

            prm = &a->params[a->nparams++];
            eq = ngx_strlchr(start, p, '=');

            prm->name.data = start;
            prm->name.len = (eq ? eq : p) - start;

            ngx_str_null(&prm->value);

            if (eq) {
                dst = ngx_pnalloc(r->pool, p - eq);
                if (dst == NULL) {
                    return NGX_HTTP_INTERNAL_SERVER_ERROR;
                }

                prm->value.data = dst;
                src = eq + 1;
                ngx_unescape_uri(&dst, &src, p - eq - 1, NGX_UNESCAPE_URI);
                prm->value.len = dst - prm->value.data;
            }
        }

        p++;
    }

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    if (ngx_http_mock_request_body(r, &body) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = body.data;
    last = body.data + body.len;

    while (p < last && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
        p++;
    }

    if (p == last) {
        return NGX_OK;
    }

    if (*p++ != '{') {
        goto invalid;
    }

    for ( ;; ) {
        while (p < last && (*p == ' ' || *p == '\t' || *p == '\r'
                            || *p == '\n' || *p == ','))
        {
            p++;
        }

        if (p == last) {
            goto invalid;
        }

        if (*p == '}') {
            return NGX_OK;
        }

        if (a->nparams == NGX_HTTP_MOCK_ADMIN_PARAMS) {
            return ngx_http_mock_admin_fail(a, NGX_HTTP_BAD_REQUEST,
                                             "too many parameters");
        }

        prm = &a->params[a->nparams++];

        if (ngx_http_mock_admin_json_string(&p, last, r->pool, &prm->name)
            != NGX_OK)
        {
            goto invalid;
        }

        while (p < last && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (p == last || *p++ != ':') {
            goto invalid;
        }

        while (p < last && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (p == last) {
            goto invalid;
        }

        if (*p == '"') {
            if (ngx_http_mock_admin_json_string(&p, last, r->pool,
                                                &prm->value)
                != NGX_OK)
            {
                goto invalid;
            }

            continue;
        }

        if (*p == '{' || *p == '[') {
            return ngx_http_mock_admin_fail(a, NGX_HTTP_BAD_REQUEST,
                                             "\"%V\" must be a string, a "
                                             "number or null", &prm->name);
        }

        /* numbers, true, false, null: their text */

        start = p;

        while (p < last && *p != ',' && *p != '}' && *p != ' '
               && *p != '\r' && *p != '\n' && *p != '\t')
        {
            p++;
        }

        prm->value.data = start;
        prm->value.len = p - start;

        if (prm->value.len == 0) {
            goto invalid;
        }

        if (prm->value.len == 4 && ngx_strncmp(start, "null", 4) == 0) {
            a->nparams--;
        }
    }

invalid:

    return ngx_http_mock_admin_fail(a, NGX_HTTP_BAD_REQUEST,
                                     "the body is not a flat JSON object");
}


static ngx_int_t
ngx_http_mock_admin_json_string(u_char **pp, u_char *last, ngx_pool_t *pool,
    ngx_str_t *out)
{
    u_char     *p, *dst, c;
    ngx_int_t   n;

    p = *pp;

    if (p == last || *p != '"') {
        return NGX_ERROR;
    }

    p++;

    out->data = ngx_pnalloc(pool, last - p);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    dst = out->data;

    while (p < last && *p != '"') {
        c = *p++;

        if (c < 0x20) {
            return NGX_ERROR;
        }

        if (c != '\\') {
            *dst++ = c;
            continue;
        }

        if (p == last) {
            return NGX_ERROR;
        }

        c = *p++;

        switch (c) {
        case 'n': *dst++ = '\n'; break;
        case 't': *dst++ = '\t'; break;
        case 'r': *dst++ = '\r'; break;
        case 'b': *dst++ = '\b'; break;
        case 'f': *dst++ = '\f'; break;
        case '"': case '\\': case '/': *dst++ = c; break;

        case 'u':
            if (last - p < 4) {
                return NGX_ERROR;
            }

            n = ngx_hextoi(p, 4);
            if (n == NGX_ERROR) {
                return NGX_ERROR;
            }

            p += 4;

            if (n < 0x80) {
                *dst++ = (u_char) n;

            } else if (n < 0x800) {
                *dst++ = (u_char) (0xc0 | (n >> 6));
                *dst++ = (u_char) (0x80 | (n & 0x3f));

            } else {
                *dst++ = (u_char) (0xe0 | (n >> 12));
                *dst++ = (u_char) (0x80 | ((n >> 6) & 0x3f));
                *dst++ = (u_char) (0x80 | (n & 0x3f));
            }

            break;

        default:
            return NGX_ERROR;
        }
    }

    if (p == last) {
        return NGX_ERROR;
    }

    out->len = dst - out->data;
    *pp = p + 1;

    return NGX_OK;
}


static ngx_str_t *
ngx_http_mock_admin_param(ngx_http_mock_admin_t *a, char *name)
{
    size_t      len;
    ngx_uint_t  i;

    len = ngx_strlen(name);

    for (i = 0; i < a->nparams; i++) {
        if (a->params[i].name.len == len
            && ngx_strncmp(a->params[i].name.data, name, len) == 0)
        {
            return &a->params[i].value;
        }
    }

    return NULL;
}


/* "store": its number in the list, or its path; alone it may be left out */

static ngx_int_t
ngx_http_mock_admin_store(ngx_http_mock_admin_t *a,
    ngx_http_mock_store_t **storep)
{
    ngx_int_t                   n;
    ngx_str_t                  *value;
    ngx_uint_t                  i;
    ngx_http_mock_store_t     **stores;
    ngx_http_mock_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(a->r, ngx_http_mock_module);
    stores = mmcf->stores.elts;

    value = ngx_http_mock_admin_param(a, "store");

    if (value == NULL) {
        if (mmcf->stores.nelts == 1) {
            *storep = stores[0];
            return NGX_OK;
        }

        return ngx_http_mock_admin_fail(a, NGX_HTTP_BAD_REQUEST,
                                         "there are %ui cassette stores: "
                                         "name one with \"store\"",
                                         mmcf->stores.nelts);
    }

    n = ngx_atoi(value->data, value->len);

    if (n != NGX_ERROR && (ngx_uint_t) n < mmcf->stores.nelts) {
        *storep = stores[n];
        return NGX_OK;
    }

    for (i = 0; i < mmcf->stores.nelts; i++) {
        if (stores[i]->path.len == value->len
            && ngx_strncmp(stores[i]->path.data, value->data, value->len)
               == 0)
        {
            *storep = stores[i];
            return NGX_OK;
        }
    }

    return ngx_http_mock_admin_fail(a, NGX_HTTP_NOT_FOUND,
                                     "no cassette store \"%V\"", value);
}


/* GET cassettes */

static ngx_int_t
ngx_http_mock_admin_stores(ngx_http_mock_admin_t *a)
{
    ngx_int_t                   max;
    ngx_str_t                  *value;
    ngx_uint_t                  i, j, more;
    ngx_rbtree_node_t          *node;
    ngx_http_mock_state_t      *st;
    ngx_http_mock_store_t      *store, **stores;
    ngx_http_mock_index_t      *index;
    ngx_http_mock_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(a->r, ngx_http_mock_module);
    stores = mmcf->stores.elts;

    /* "sessions": how many sessions of a directory to list at most */

    max = NGX_MAX_INT_T_VALUE;
    value = ngx_http_mock_admin_param(a, "sessions");

    if (value) {
        max = ngx_atoi(value->data, value->len);

        if (max == NGX_ERROR) {
            return ngx_http_mock_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                             "\"sessions\" must be a "
                                             "number");
        }
    }

    if (ngx_http_mock_out(a, "{\"stores\": [") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < mmcf->stores.nelts; i++) {
        store = stores[i];

        ngx_shmtx_lock(&store->shpool->mutex);

        index = ngx_http_mock_current(store->shared);

        if (ngx_http_mock_out(a, "%s\n{\"store\": %ui, \"path\": ",
                              i ? "," : "", i) != NGX_OK
            || ngx_http_mock_out_str(a, &store->path) != NGX_OK
            || ngx_http_mock_out(a, ", \"match\": ") != NGX_OK
            || ngx_http_mock_out_str(a, &store->match->text) != NGX_OK
            || ngx_http_mock_out(a, ", \"recording\": %s, \"interactions\": "
                                 "%ui, \"loaded\": %ui, \"sessions\": ",
                                 (store->writer || store->records) ? "true"
                                                                   : "false",
                                 index->ninteractions, index->nloaded)
               != NGX_OK)
        {
            goto failed;
        }

        if (!store->sessions) {
            if (ngx_http_mock_out(a, "null}") != NGX_OK) {
                goto failed;
            }

            ngx_shmtx_unlock(&store->shpool->mutex);
            continue;
        }

        if (ngx_http_mock_out(a, "[") != NGX_OK) {
            goto failed;
        }

        node = (store->sh->rbtree.root == store->sh->rbtree.sentinel)
               ? NULL
               : ngx_rbtree_min(store->sh->rbtree.root,
                                store->sh->rbtree.sentinel);

        more = 0;

        for (j = 0; node; node = ngx_rbtree_next(&store->sh->rbtree, node)) {
            st = (ngx_http_mock_state_t *) node;

            if (st->kind != NGX_HTTP_MOCK_STATE_INDEX || st->object != store) {
                continue;
            }

            if (j == (ngx_uint_t) max) {
                more = 1;
                break;
            }

            index = st->value_ptr;

            if (ngx_http_mock_out(a, "%s{\"session\": ", j++ ? ", " : "")
                   != NGX_OK
                || ngx_http_mock_out_str(a, &st->session) != NGX_OK
                || ngx_http_mock_out(a, ", \"cassette\": ") != NGX_OK
                || ngx_http_mock_out_str(a, &st->extra) != NGX_OK
                || ngx_http_mock_out(a, ", \"interactions\": %ui}",
                                     index->ninteractions) != NGX_OK)
            {
                goto failed;
            }
        }

        ngx_shmtx_unlock(&store->shpool->mutex);

        if (ngx_http_mock_out(a, more ? "], \"more_sessions\": true}" : "]}")
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ngx_http_mock_out(a, "\n]}\n") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mock_admin_send(a, NGX_HTTP_OK);

failed:

    ngx_shmtx_unlock(&store->shpool->mutex);

    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}


static ngx_int_t
ngx_http_mock_admin_interactions(ngx_http_mock_admin_t *a)
{
    return ngx_http_mock_admin_list(a, 0);
}


static ngx_int_t
ngx_http_mock_admin_unused(ngx_http_mock_admin_t *a)
{
    return ngx_http_mock_admin_list(a, 1);
}


/*
 * GET interactions[?store=&session=] and GET unused: the loaded ones in
 * file order, then the recorded ones, each with its plays.
 */

static ngx_int_t
ngx_http_mock_admin_list(ngx_http_mock_admin_t *a, ngx_uint_t unused)
{
    ngx_int_t                     rc;
    ngx_str_t                     session;
    ngx_uint_t                    i, n;
    ngx_http_mock_index_t        *index;
    ngx_http_mock_store_t        *store;
    ngx_http_mock_interaction_t  *it;

    rc = ngx_http_mock_admin_store(a, &store);
    if (rc != NGX_OK) {
        return ngx_http_mock_admin_failed(a, rc);
    }

    session = a->session;

    if (session.len == 0 && store->sessions) {
        ngx_str_set(&session, "default");
    }

    /* the fleet's plays first, when there is a fleet */

    if (ngx_http_mock_fleet_on(a->r) && !a->asked) {
        a->unused = unused;

        rc = ngx_http_mock_fleet_plays(a->r, store, &session,
                                       ngx_http_mock_admin_list_done, a);
        if (rc != NGX_DECLINED) {
            return rc;
        }

        a->asked = 1;
    }

    if (ngx_http_mock_out(a, "{\"store\": ") != NGX_OK
        || ngx_http_mock_out_str(a, &store->path) != NGX_OK
        || ngx_http_mock_out(a, ", \"session\": ") != NGX_OK
        || (session.len ? ngx_http_mock_out_str(a, &session)
                        : ngx_http_mock_out(a, "null")) != NGX_OK
        || ngx_http_mock_out(a, ", \"%s\": [", unused ? "unused"
                                                      : "interactions")
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_shmtx_lock(&store->shpool->mutex);

    index = store->sessions
            ? ngx_http_mock_session_index(store, &session, 0, NULL, NULL)
            : ngx_http_mock_current(store->shared);

    n = 0;
    rc = NGX_OK;

    if (index) {
        for (i = 0; rc == NGX_OK && i < index->nloaded; i++) {
            rc = ngx_http_mock_admin_item(a, store, index, &session,
                                          index->interactions[i], unused,
                                          &n);
        }

        /* the recorded ones are on the path chains only */

        for (i = 0; rc == NGX_OK && i <= index->path_mask; i++) {
            for (it = index->paths[i].head;
                 rc == NGX_OK && it;
                 it = it->next_path)
            {
                if (ngx_http_mock_store_loaded(index, it)) {
                    continue;
                }

                rc = ngx_http_mock_admin_item(a, store, index, &session, it,
                                              unused, &n);
            }
        }
    }

    ngx_shmtx_unlock(&store->shpool->mutex);

    if (rc != NGX_OK
        || ngx_http_mock_out(a, "\n]") != NGX_OK
        || (ngx_http_mock_fleet_on(a->r)
            && ngx_http_mock_out(a, ", \"fleet\": %s",
                                 a->plays ? "true" : "false") != NGX_OK)
        || ngx_http_mock_out(a, "}\n") != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mock_admin_send(a, NGX_HTTP_OK);
}


static ngx_int_t
ngx_http_mock_admin_list_done(ngx_http_request_t *r, void *data,
    ngx_http_mock_fleet_state_t *st)
{
    ngx_http_mock_admin_t  *a = data;

    a->asked = 1;
    a->plays = st;

    return ngx_http_mock_admin_list(a, a->unused);
}


static ngx_int_t
ngx_http_mock_admin_item(ngx_http_mock_admin_t *a,
    ngx_http_mock_store_t *store, ngx_http_mock_index_t *index,
    ngx_str_t *session, ngx_http_mock_interaction_t *it, ngx_uint_t unused,
    ngx_uint_t *n)
{
    ngx_uint_t  plays;

    plays = a->plays
            ? ngx_http_mock_fleet_count(a->plays,
                                        ngx_http_mock_store_find(index,
                                                               &it->key,
                                                               store->match),
                                        it)
            : ngx_http_mock_session_used(store, index, session, it);

    if (unused && plays) {
        return NGX_OK;
    }

    if (ngx_http_mock_out(a, "%s\n{\"cassette\": ", (*n)++ ? "," : "")
           != NGX_OK
        || ngx_http_mock_out_str(a, it->cassette) != NGX_OK
        || ngx_http_mock_out(a, ", \"interaction\": %ui, \"method\": ",
                             it->index) != NGX_OK
        || ngx_http_mock_out_str(a, &it->key.method) != NGX_OK
        || ngx_http_mock_out(a, ", \"uri\": ") != NGX_OK
        || ngx_http_mock_out_str(a, &it->uri) != NGX_OK
        || ngx_http_mock_out(a, ", \"status\": %ui, \"plays\": %ui}",
                             it->status, plays) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * POST reset[?session=]: counters, plays, forced answers and values, of
 * a session or of all
 */

static ngx_int_t
ngx_http_mock_admin_reset(ngx_http_mock_admin_t *a)
{
    ngx_int_t                   rc;
    ngx_str_t                   session;
    ngx_uint_t                  i, k, n;
    ngx_rbtree_node_t          *node;
    ngx_http_mock_index_t      *index;
    ngx_http_mock_state_t      *st;
    ngx_http_mock_store_t     **stores;
    ngx_http_mock_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(a->r, ngx_http_mock_module);

    if (mmcf->sh == NULL) {
        return ngx_http_mock_admin_error(a->r, NGX_HTTP_NOT_FOUND,
                                         "no cassettes are configured");
    }

    session = a->session;

    ngx_shmtx_lock(&mmcf->shpool->mutex);

    n = ngx_http_mock_session_reset(mmcf->sh, session.len ? &session : NULL,
                                    NGX_HTTP_MOCK_STATE_COUNTER);

    (void) ngx_http_mock_session_reset(mmcf->sh, session.len ? &session : NULL,
                                       NGX_HTTP_MOCK_STATE_PLAYS);

    /* its forced answers, as Redis forgets them too */

    (void) ngx_http_mock_session_reset(mmcf->sh, session.len ? &session : NULL,
                                       NGX_HTTP_MOCK_STATE_FORCE);

    /* and the values templates remembered */

    (void) ngx_http_mock_session_reset(mmcf->sh, session.len ? &session : NULL,
                                       NGX_HTTP_MOCK_STATE_VAR);
    (void) ngx_http_mock_session_reset(mmcf->sh, session.len ? &session : NULL,
                                       NGX_HTTP_MOCK_STATE_VARS);

    /* its latency and fault, and the count of its requests that rates use */

    (void) ngx_http_mock_session_reset(mmcf->sh, session.len ? &session : NULL,
                                       NGX_HTTP_MOCK_STATE_LATENCY);
    (void) ngx_http_mock_session_reset(mmcf->sh, session.len ? &session : NULL,
                                       NGX_HTTP_MOCK_STATE_FAULT);
    (void) ngx_http_mock_session_reset(mmcf->sh, session.len ? &session : NULL,
                                       NGX_HTTP_MOCK_STATE_REQUESTS);

    if (session.len == 0) {

        /* the sequences of requests without a session */

        stores = mmcf->stores.elts;

        for (i = 0; i < mmcf->stores.nelts; i++) {
            index = ngx_http_mock_current(stores[i]->shared);

            for (k = 0; k <= index->group_mask; k++) {
                if (index->groups[k]
                    && (index->groups[k]->played
                        || index->groups[k]->repeated))
                {
                    index->groups[k]->played = 0;
                    index->groups[k]->repeated = 0;
                    n++;
                }
            }
        }

        node = (mmcf->sh->rbtree.root == mmcf->sh->rbtree.sentinel)
               ? NULL
               : ngx_rbtree_min(mmcf->sh->rbtree.root,
                                mmcf->sh->rbtree.sentinel);

        for ( /* void */ ; node; node = ngx_rbtree_next(&mmcf->sh->rbtree,
                                                         node))
        {
            st = (ngx_http_mock_state_t *) node;

            if (st->kind != NGX_HTTP_MOCK_STATE_INDEX) {
                continue;
            }

            index = st->value_ptr;

            for (k = 0; k <= index->group_mask; k++) {
                if (index->groups[k]) {
                    index->groups[k]->played = 0;
                    index->groups[k]->repeated = 0;
                }
            }
        }
    }

    ngx_shmtx_unlock(&mmcf->shpool->mutex);

    ngx_log_error(NGX_LOG_NOTICE, a->r->connection->log, 0,
                  "mock: admin reset the counters of %s%V",
                  session.len ? "session " : "all sessions", &session);

    if (ngx_http_mock_out(a, "{\"reset\": ") != NGX_OK
        || (session.len ? ngx_http_mock_out_str(a, &session)
                        : ngx_http_mock_out(a, "\"all\"")) != NGX_OK
        || ngx_http_mock_out(a, ", \"counters\": %ui", n) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_mock_fleet_on(a->r)) {

        /* the answer is sent when Redis has forgotten them too */

        rc = ngx_http_mock_fleet_reset(a->r, session.len ? &session : NULL,
                                       ngx_http_mock_admin_reset_done, a);
        if (rc != NGX_DECLINED) {
            return rc;
        }

        return ngx_http_mock_admin_reset_done(a->r, a, NULL);
    }

    if (ngx_http_mock_out(a, "}\n") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mock_admin_send(a, NGX_HTTP_OK);
}


/* "redis": the counters Redis deleted, or null when it could not */

static ngx_int_t
ngx_http_mock_admin_reset_done(ngx_http_request_t *r, void *data,
    ngx_http_mock_fleet_state_t *st)
{
    ngx_http_mock_admin_t  *a = data;

    if ((st ? ngx_http_mock_out(a, ", \"redis\": %i}\n", st->play)
            : ngx_http_mock_out(a, ", \"redis\": null}\n"))
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mock_admin_send(a, NGX_HTTP_OK);
}


/*
 * POST force {"session", "method", "path", "interaction"[, "cassette",
 * "store"]} pins an answer; DELETE force?session=&method=&path= unpins.
 */

static ngx_int_t
ngx_http_mock_admin_force(ngx_http_mock_admin_t *a)
{
    ngx_int_t                     rc, n;
    ngx_str_t                    *value, *method, *path, *cassette, session;
    ngx_http_mock_index_t        *index;
    ngx_http_mock_store_t        *store;
    ngx_http_mock_interaction_t  *it;

    rc = ngx_http_mock_admin_store(a, &store);
    if (rc != NGX_OK) {
        return ngx_http_mock_admin_failed(a, rc);
    }

    method = ngx_http_mock_admin_param(a, "method");
    path = ngx_http_mock_admin_param(a, "path");
    cassette = ngx_http_mock_admin_param(a, "cassette");

    if (a->session.len == 0 || method == NULL
        || method->len == 0 || path == NULL || path->len == 0)
    {
        return ngx_http_mock_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                         "\"session\", \"method\" and "
                                         "\"path\" are needed");
    }

    if (method->len + path->len > 500) {
        return ngx_http_mock_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                         "\"method\" and \"path\" are too "
                                         "long");
    }

    session = a->session;

    /* a path that mock_ignore patterns stand for is pinned as the pattern */

    path = ngx_http_mock_ignore_path(store->match->ignore, path);

    it = NULL;
    n = 0;

    if (a->r->method == NGX_HTTP_POST) {
        value = ngx_http_mock_admin_param(a, "interaction");

        n = value ? ngx_atoi(value->data, value->len) : NGX_ERROR;

        if (n == NGX_ERROR) {
            return ngx_http_mock_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                             "\"interaction\" must be the "
                                             "number of an interaction in "
                                             "its cassette");
        }
    }

    ngx_shmtx_lock(&store->shpool->mutex);

    if (a->r->method == NGX_HTTP_POST) {
        index = store->sessions
                ? ngx_http_mock_session_index(store, &session, 0, NULL, NULL)
                : ngx_http_mock_current(store->shared);

        it = ngx_http_mock_interaction_find(index, path,
                                            (cassette && cassette->len)
                                            ? cassette : NULL, n);
        if (it == NULL) {
            ngx_shmtx_unlock(&store->shpool->mutex);

            if (cassette && cassette->len) {
                return ngx_http_mock_admin_error(a->r, NGX_HTTP_NOT_FOUND,
                                                 "no interaction %i in "
                                                 "\"%V\" for session "
                                                 "\"%V\"", n, cassette,
                                                 &session);
            }

            return ngx_http_mock_admin_error(a->r, NGX_HTTP_NOT_FOUND,
                                             "no interaction %i for session "
                                             "\"%V\"", n, &session);
        }
    }

    rc = ngx_http_mock_session_force(store, &session, method, path, it);

    ngx_shmtx_unlock(&store->shpool->mutex);

    /* the fleet's forced answers: pinned or unpinned in Redis too */

    if (ngx_http_mock_fleet_on(a->r) && !a->asked) {
        a->force_rc = rc;
        a->forced = it;
        a->method = *method;
        a->path = *path;

        rc = ngx_http_mock_fleet_force(a->r, store, &session, method, path,
                                       it, ngx_http_mock_admin_force_done, a);
        if (rc != NGX_DECLINED) {
            return rc;
        }

        return ngx_http_mock_admin_force_done(a->r, a, NULL);
    }

    return ngx_http_mock_admin_forced(a, rc, method, path, it);
}


/* Redis has pinned or unpinned the answer, or could not (st NULL) */

static ngx_int_t
ngx_http_mock_admin_force_done(ngx_http_request_t *r, void *data,
    ngx_http_mock_fleet_state_t *st)
{
    ngx_http_mock_admin_t  *a = data;

    ngx_int_t  rc;

    a->asked = 1;
    a->fleet = st;

    rc = a->force_rc;

    /* unpinned where it was: on another instance, in Redis */

    if (rc == NGX_DECLINED && st && st->play > 0) {
        rc = NGX_OK;
    }

    return ngx_http_mock_admin_forced(a, rc, &a->method, &a->path, a->forced);
}


static ngx_int_t
ngx_http_mock_admin_forced(ngx_http_mock_admin_t *a, ngx_int_t rc,
    ngx_str_t *method, ngx_str_t *path, ngx_http_mock_interaction_t *it)
{
    ngx_str_t  session;

    session = a->session;

    if (rc == NGX_DECLINED) {
        return ngx_http_mock_admin_error(a->r, NGX_HTTP_NOT_FOUND,
                                         "nothing is forced for \"%V %V\" in "
                                         "session \"%V\"", method, path,
                                         &session);
    }

    if (rc != NGX_OK) {
        return ngx_http_mock_admin_error(a->r,
                                         NGX_HTTP_INSUFFICIENT_STORAGE,
                                         "the zone is full");
    }

    if (ngx_http_mock_out(a, "{\"session\": ") != NGX_OK
        || ngx_http_mock_out_str(a, &session) != NGX_OK
        || ngx_http_mock_out(a, ", \"method\": ") != NGX_OK
        || ngx_http_mock_out_str(a, method) != NGX_OK
        || ngx_http_mock_out(a, ", \"path\": ") != NGX_OK
        || ngx_http_mock_out_str(a, path) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (it) {
        if (ngx_http_mock_out(a, ", \"forced\": {\"cassette\": ") != NGX_OK
            || ngx_http_mock_out_str(a, it->cassette) != NGX_OK
            || ngx_http_mock_out(a, ", \"interaction\": %ui}", it->index)
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

    } else if (ngx_http_mock_out(a, ", \"forced\": null") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_mock_fleet_on(a->r)
        && ngx_http_mock_out(a, a->fleet ? ", \"redis\": true"
                                         : ", \"redis\": null")
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_mock_out(a, "}\n") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mock_admin_send(a, NGX_HTTP_OK);
}


static ngx_int_t
ngx_http_mock_admin_latency(ngx_http_mock_admin_t *a)
{
    return ngx_http_mock_admin_setting(a, NGX_HTTP_MOCK_STATE_LATENCY);
}


static ngx_int_t
ngx_http_mock_admin_fault(ngx_http_mock_admin_t *a)
{
    return ngx_http_mock_admin_setting(a, NGX_HTTP_MOCK_STATE_FAULT);
}


/*
 * POST latency {"session", "latency"} and POST fault {"session", "fault"}
 * set a session's, over the locations'; DELETE latency?session= and
 * fault?session= forget it.
 */

static ngx_int_t
ngx_http_mock_admin_setting(ngx_http_mock_admin_t *a, ngx_uint_t kind)
{
    char                       *err, *name;
    u_char                     *p, *last, text[128];
    size_t                      size;
    ngx_int_t                   rc;
    ngx_str_t                  *value, args[8], session;
    ngx_uint_t                  n;
    ngx_http_mock_fault_t       fault;
    ngx_http_mock_latency_t     lat;
    ngx_http_core_loc_conf_t   *clcf;
    ngx_http_mock_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(a->r, ngx_http_mock_module);

    name = (kind == NGX_HTTP_MOCK_STATE_LATENCY) ? "latency" : "fault";
    size = (kind == NGX_HTTP_MOCK_STATE_LATENCY)
           ? sizeof(ngx_http_mock_latency_t) : sizeof(ngx_http_mock_fault_t);

    if (mmcf->sh == NULL) {
        return ngx_http_mock_admin_error(a->r, NGX_HTTP_NOT_FOUND,
                                         "no cassettes are configured");
    }

    if (a->session.len == 0) {
        return ngx_http_mock_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                         "\"session\" is needed");
    }

    session = a->session;

    a->kind = kind;
    ngx_str_null(&a->setting);

    if (a->r->method == NGX_HTTP_DELETE) {
        ngx_shmtx_lock(&mmcf->shpool->mutex);
        rc = ngx_http_mock_session_configure(mmcf->sh, kind, &session, NULL,
                                             size);
        ngx_shmtx_unlock(&mmcf->shpool->mutex);

        return ngx_http_mock_admin_set(a, rc);
    }

    value = ngx_http_mock_admin_param(a, name);

    if (value == NULL || value->len == 0) {
        return ngx_http_mock_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                         "\"session\" and \"%s\" are "
                                         "needed", name);
    }

    /* the words of the value, as the directive takes them */

    n = 0;
    p = value->data;
    last = p + value->len;

    while (p < last) {
        if (*p == ' ') {
            p++;
            continue;
        }

        if (n == 8) {
            return ngx_http_mock_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                             "\"%s\" has too many words",
                                             name);
        }

        args[n].data = p;

        while (p < last && *p != ' ') {
            p++;
        }

        args[n].len = p - args[n].data;
        n++;
    }

    if (kind == NGX_HTTP_MOCK_STATE_LATENCY) {
        err = ngx_http_mock_latency_parse(args, n, &lat);

        clcf = ngx_http_get_module_loc_conf(a->r, ngx_http_core_module);

        if (err == NULL
            && lat.type != NGX_HTTP_MOCK_LATENCY_OFF
            && ngx_max(lat.min, lat.max) > clcf->send_timeout)
        {
            return ngx_http_mock_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                             "\"latency\" of up to %uDms "
                                             "is longer than send_timeout "
                                             "(%Mms)",
                                             ngx_max(lat.min, lat.max),
                                             clcf->send_timeout);
        }

        last = ngx_http_mock_latency_print(text, &lat);

    } else {
        err = ngx_http_mock_fault_parse(args, n, &fault);
        last = ngx_http_mock_fault_print(text, &fault);
    }

    if (err) {
        return ngx_http_mock_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                         "\"%s\": %s", name, err);
    }

    ngx_shmtx_lock(&mmcf->shpool->mutex);
    rc = ngx_http_mock_session_configure(mmcf->sh, kind, &session,
                                         (kind == NGX_HTTP_MOCK_STATE_LATENCY)
                                         ? (void *) &lat : (void *) &fault,
                                         size);
    ngx_shmtx_unlock(&mmcf->shpool->mutex);

    if (rc != NGX_OK) {
        return ngx_http_mock_admin_error(a->r, NGX_HTTP_INSUFFICIENT_STORAGE,
                                         "%d sessions have a latency or a "
                                         "fault, or the zone is full",
                                         NGX_HTTP_MOCK_SETTINGS_MAX);
    }

    ngx_log_error(NGX_LOG_NOTICE, a->r->connection->log, 0,
                  "mock: admin set the %s of session %V: %*s", name,
                  &session, last - text, text);

    a->setting.len = last - text;
    a->setting.data = ngx_pnalloc(a->r->pool, a->setting.len);
    if (a->setting.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(a->setting.data, text, a->setting.len);

    return ngx_http_mock_admin_set(a, NGX_OK);
}


/*
 * The session's setting is set (or forgotten) here: with mock_redis, in
 * Redis too, for the fleet; then the answer.  rc NGX_DECLINED: there was
 * none here to forget.
 */

static ngx_int_t
ngx_http_mock_admin_set(ngx_http_mock_admin_t *a, ngx_int_t rc)
{
    const char  *name;

    name = (a->kind == NGX_HTTP_MOCK_STATE_LATENCY) ? "latency" : "fault";

    if (ngx_http_mock_fleet_on(a->r) && !a->asked) {
        a->force_rc = rc;

        rc = ngx_http_mock_fleet_setting(a->r, &a->session, name,
                                         a->setting.len ? &a->setting : NULL,
                                         ngx_http_mock_admin_setting_done, a);
        if (rc != NGX_DECLINED) {
            return rc;
        }

        return ngx_http_mock_admin_setting_done(a->r, a, NULL);
    }

    /* forgotten where it was: on another instance, in Redis */

    if (rc == NGX_DECLINED && !(a->fleet && a->fleet->play > 0)) {
        return ngx_http_mock_admin_error(a->r, NGX_HTTP_NOT_FOUND,
                                         "session \"%V\" has no %s of "
                                         "its own", &a->session, name);
    }

    if (ngx_http_mock_out(a, "{\"session\": ") != NGX_OK
        || ngx_http_mock_out_str(a, &a->session) != NGX_OK
        || ngx_http_mock_out(a, ", \"%s\": ", name) != NGX_OK
        || (a->setting.len
            ? ngx_http_mock_out_str(a, &a->setting)
            : ngx_http_mock_out(a, "null")) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_mock_fleet_on(a->r)
        && ngx_http_mock_out(a, a->fleet ? ", \"redis\": true"
                                         : ", \"redis\": null")
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_mock_out(a, "}\n") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mock_admin_send(a, NGX_HTTP_OK);
}


/* Redis has set or forgotten the setting, or could not (st NULL) */

static ngx_int_t
ngx_http_mock_admin_setting_done(ngx_http_request_t *r, void *data,
    ngx_http_mock_fleet_state_t *st)
{
    ngx_http_mock_admin_t  *a = data;

    a->asked = 1;
    a->fleet = st;

    return ngx_http_mock_admin_set(a, a->force_rc);
}


/* GET journal[?limit=&session=]: the most recent requests, oldest first */

static ngx_int_t
ngx_http_mock_admin_journal(ngx_http_mock_admin_t *a)
{
    size_t                          len;
    ngx_int_t                       rc, limit, after;
    ngx_str_t                      *value, s, session;
    ngx_uint_t                      i, n, next, first, size, seq;
    ngx_http_mock_shctx_t          *sh;
    ngx_http_mock_main_conf_t      *mmcf;
    ngx_http_mock_journal_entry_t  *e, copy;

    mmcf = ngx_http_get_module_main_conf(a->r, ngx_http_mock_module);
    sh = mmcf->sh;

    size = sh ? sh->journal_size : 0;
    limit = size;

    value = ngx_http_mock_admin_param(a, "limit");

    if (value) {
        limit = ngx_atoi(value->data, value->len);

        if (limit == NGX_ERROR) {
            return ngx_http_mock_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                             "\"limit\" must be a number");
        }
    }

    /* only the requests after the one numbered "after", for pollers */

    after = -1;
    value = ngx_http_mock_admin_param(a, "after");

    if (value) {
        after = ngx_atoi(value->data, value->len);

        if (after == NGX_ERROR) {
            return ngx_http_mock_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                             "\"after\" must be a number");
        }
    }

    session = a->session;

    /* the fleet's journal, in Redis, when there is a fleet */

    if (ngx_http_mock_fleet_on(a->r) && !a->asked) {
        /*
         * Each entry of the stream holds at least one request: "limit" of
         * them have the last "limit" requests, unless a session is asked
         * for.
         */

        rc = ngx_http_mock_fleet_journal(a->r,
                                         (session.len
                                          || (ngx_uint_t) limit > size)
                                         ? size : ngx_max((ngx_uint_t) limit, 1),
                                         ngx_http_mock_admin_journal_done, a);
        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (rc != NGX_DECLINED) {
            return rc;
        }

        a->asked = 1;
    }

    if (a->fleet) {
        return ngx_http_mock_admin_fleet_journal(a, limit);
    }

    if (ngx_http_mock_out(a, "{\"journal\": [") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    next = size ? sh->journal_next : 0;
    first = (next > size) ? next - size : 0;

    if (after >= 0 && (ngx_uint_t) after + 1 > first) {
        first = ngx_min((ngx_uint_t) after + 1, next);
    }

    if ((ngx_uint_t) limit < next - first) {
        first = next - limit;
    }

    for (n = 0, i = first; i < next; i++) {
        e = &sh->journal[i % size];

        /* a consistent copy, or none while a worker writes it */

        seq = e->seq;
        ngx_memory_barrier();
        copy = *e;
        ngx_memory_barrier();

        if ((seq & 1) || seq != e->seq || copy.time == 0 || copy.id != i) {
            continue;
        }

        s.data = copy.session;
        s.len = ngx_strnlen(copy.session, sizeof(copy.session));

        if (session.len
            && (s.len != session.len
                || ngx_strncmp(s.data, session.data, s.len) != 0))
        {
            continue;
        }

        if (ngx_http_mock_out(a, "%s\n{\"id\": %ui, \"time\": %T, "
                              "\"session\": ", n++ ? "," : "", i, copy.time)
               != NGX_OK
            || (s.len ? ngx_http_mock_out_str(a, &s)
                      : ngx_http_mock_out(a, "null")) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        s.data = copy.method;
        s.len = ngx_strnlen(copy.method, sizeof(copy.method));

        if (ngx_http_mock_out(a, ", \"method\": ") != NGX_OK
            || ngx_http_mock_out_str(a, &s) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        s.data = copy.uri;
        s.len = ngx_strnlen(copy.uri, sizeof(copy.uri));

        if (ngx_http_mock_out(a, ", \"uri\": ") != NGX_OK
            || ngx_http_mock_out_str(a, &s) != NGX_OK
            || ngx_http_mock_out(a, ", \"result\": ") != NGX_OK
            || ngx_http_mock_out_str(a, ngx_http_mock_status_name(copy.status))
               != NGX_OK
            || ngx_http_mock_out(a, ", \"status\": %ui, \"cassette\": ",
                                 copy.code) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        s.data = copy.cassette;
        len = ngx_strnlen(copy.cassette, sizeof(copy.cassette));
        s.len = len;

        if ((len ? ngx_http_mock_out_str(a, &s)
                 : ngx_http_mock_out(a, "null")) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (copy.interaction == NGX_CONF_UNSET_UINT) {
            if (ngx_http_mock_out(a, ", \"interaction\": null}") != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

        } else if (ngx_http_mock_out(a, ", \"interaction\": %ui}",
                                     copy.interaction) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ngx_http_mock_out(a, "\n], \"next\": %ui", next) != NGX_OK
        || (ngx_http_mock_fleet_on(a->r)
            && ngx_http_mock_out(a, ", \"fleet\": false") != NGX_OK)
        || ngx_http_mock_out(a, "}\n") != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mock_admin_send(a, NGX_HTTP_OK);
}


static ngx_int_t
ngx_http_mock_admin_journal_done(ngx_http_request_t *r, void *data,
    ngx_http_mock_fleet_state_t *st)
{
    ngx_http_mock_admin_t  *a = data;

    a->asked = 1;
    a->fleet = st;

    return ngx_http_mock_admin_journal(a);
}


/*
 * The fleet's journal, oldest first: Redis gives the newest first, at
 * most mock_journal of them; the session's, then the last "limit".
 */

static ngx_int_t
ngx_http_mock_admin_fleet_journal(ngx_http_mock_admin_t *a, ngx_int_t limit)
{
    ngx_int_t                     i, first, n, k;
    ngx_http_mock_fleet_entry_t  *e;

    e = a->fleet->entries->elts;
    n = a->fleet->entries->nelts;

    /* the newest "limit" of those the filter keeps */

    first = n;

    for (i = 0, k = 0; i < n && k < limit; i++) {
        if (a->session.len
            && (e[i].session.len != a->session.len
                || ngx_strncmp(e[i].session.data, a->session.data,
                               a->session.len) != 0))
        {
            continue;
        }

        k++;
        first = i;
    }

    if (ngx_http_mock_out(a, "{\"journal\": [") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = first, k = 0; i >= 0 && i < n; i--) {
        if (a->session.len
            && (e[i].session.len != a->session.len
                || ngx_strncmp(e[i].session.data, a->session.data,
                               a->session.len) != 0))
        {
            continue;
        }

        if (ngx_http_mock_out(a, "%s\n", k++ ? "," : "") != NGX_OK
            || ngx_http_mock_out_room(a, e[i].json.len) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        a->b->last = ngx_cpymem(a->b->last, e[i].json.data, e[i].json.len);
    }

    if (ngx_http_mock_out(a, "\n], \"fleet\": true}\n") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mock_admin_send(a, NGX_HTTP_OK);
}


/* as much of s as fits, zero-padded */

static void
ngx_http_mock_journal_copy(u_char *dst, size_t size, ngx_str_t *s)
{
    size_t  len;

    len = ngx_min(s->len, size);

    if (len) {
        ngx_memcpy(dst, s->data, len);
    }

    if (len < size) {
        dst[len] = '\0';
    }
}


/* in the log phase of every request a mock location handled */

void
ngx_http_mock_journal_add(ngx_http_mock_shctx_t *sh, ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx)
{
    ngx_str_t                       name;
    ngx_uint_t                      id;
    ngx_http_mock_journal_entry_t  *e;

    if (sh == NULL || sh->journal_size == 0) {
        return;
    }

    id = ngx_atomic_fetch_add(&sh->journal_next, 1);
    e = &sh->journal[id % sh->journal_size];

    if (ctx->report.len) {
        ngx_http_mock_report_add(sh, id, &ctx->report);
    }

    (void) ngx_atomic_fetch_add(&e->seq, 1);
    ngx_memory_barrier();

    e->id = id;

    e->time = ngx_time();
    e->status = ctx->status;
    e->code = r->headers_out.status;
    e->interaction = ctx->interaction ? ctx->interaction->index
                                      : NGX_CONF_UNSET_UINT;

    ngx_http_mock_journal_copy(e->session, sizeof(e->session),
                               &ctx->session);
    ngx_http_mock_journal_copy(e->method, sizeof(e->method), &r->method_name);
    ngx_http_mock_journal_copy(e->uri, sizeof(e->uri), &r->unparsed_uri);

    ngx_str_null(&name);

    if (ctx->interaction) {
        name = *ctx->interaction->cassette;

        /* the end of a long path says more than its start */

        if (name.len > sizeof(e->cassette)) {
            name.data += name.len - sizeof(e->cassette);
            name.len = sizeof(e->cassette);
        }
    }

    ngx_http_mock_journal_copy(e->cassette, sizeof(e->cassette), &name);

    ngx_memory_barrier();
    (void) ngx_atomic_fetch_add(&e->seq, 1);
}


/*
 * POST reload: the cassettes on disk are parsed again, here, and their
 * indexes replace the old ones in the zone for every worker at once.  A
 * bad cassette is answered with its error and changes nothing.
 */

static ngx_int_t
ngx_http_mock_admin_reload(ngx_http_mock_admin_t *a)
{
    ngx_http_mock_room_t        room;
    ngx_int_t                   rc;
    ngx_uint_t                  i, n;
    ngx_log_t                   log;
    ngx_pool_t                 *pool;
    ngx_conf_t                  cf;
    ngx_array_t                *lists, cache;
    ngx_conf_file_t             conf_file;
    ngx_http_mock_store_t     **stores;
    ngx_http_mock_cassette_t  **cassettes;
    ngx_http_mock_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(a->r, ngx_http_mock_module);

    if (mmcf->sh == NULL) {
        return ngx_http_mock_admin_error(a->r, NGX_HTTP_NOT_FOUND,
                                         "no cassettes are configured");
    }

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, a->r->connection->log);
    if (pool == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a cassette's error goes into the answer */

    log = *a->r->connection->log;
    log.writer = ngx_http_mock_admin_log_writer;
    log.wdata = a;
    log.log_level = NGX_LOG_WARN;
    log.handler = NULL;
    log.next = NULL;

    ngx_memzero(&conf_file, sizeof(ngx_conf_file_t));
    ngx_str_set(&conf_file.file.name, "the admin reload");

    ngx_memzero(&cf, sizeof(ngx_conf_t));
    cf.pool = pool;
    cf.temp_pool = pool;
    cf.log = &log;
    cf.cycle = (ngx_cycle_t *) ngx_cycle;
    cf.conf_file = &conf_file;

    stores = mmcf->stores.elts;

    lists = ngx_pcalloc(pool, mmcf->stores.nelts * sizeof(ngx_array_t));

    if (lists == NULL
        || ngx_array_init(&cache, pool, 4, sizeof(ngx_http_mock_cassette_t *))
           != NGX_OK)
    {
        ngx_destroy_pool(pool);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = NGX_OK;

    for (i = 0; rc == NGX_OK && i < mmcf->stores.nelts; i++) {
        if (ngx_array_init(&lists[i], pool, 4,
                           sizeof(ngx_http_mock_cassette_t *))
            != NGX_OK
            || ngx_http_mock_cassettes_open(&cf, pool, &stores[i]->path,
                                            &lists[i], &cache)
               != NGX_OK
            || ngx_http_mock_template_cassettes(&cf, pool, &lists[i],
                                                stores[i]->template)
               != NGX_OK)
        {
            rc = NGX_ERROR;
        }
    }

    if (rc != NGX_OK) {
        ngx_destroy_pool(pool);

        return ngx_http_mock_admin_error(a->r, 422, "%V",
                                         a->error.len ? &a->error
                                         : &conf_file.file.name);
    }

    n = 0;
    cassettes = cache.elts;

    for (i = 0; i < cache.nelts; i++) {
        n += cassettes[i]->records.nelts;
    }

    ngx_shmtx_lock(&mmcf->shpool->mutex);
    rc = ngx_http_mock_store_reload(mmcf, lists, &room, a->r->connection->log);
    ngx_shmtx_unlock(&mmcf->shpool->mutex);

    ngx_destroy_pool(pool);

    if (rc == NGX_DECLINED) {
        return ngx_http_mock_admin_error(a->r, NGX_HTTP_INSUFFICIENT_STORAGE,
                                         "the zone is too small: the "
                                         "cassettes need %uz bytes, in "
                                         "pieces of up to %uz, and %uz are "
                                         "free, in pieces of up to %uz; "
                                         "responses still being sent hold "
                                         "%uz bytes of earlier cassettes; "
                                         "\"nginx -s reload\" can load them",
                                         room.needed, room.piece, room.free,
                                         room.free_piece, room.held);
    }

    if (rc == NGX_BUSY) {
        return ngx_http_mock_admin_error(a->r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                         "responses are still being sent "
                                         "from %d earlier loads of the "
                                         "cassettes; try again later, or "
                                         "\"nginx -s reload\"",
                                         NGX_HTTP_MOCK_GENERATIONS - 1);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_log_error(NGX_LOG_NOTICE, a->r->connection->log, 0,
                  "mock: admin reloaded %ui cassettes, %ui interactions",
                  cache.nelts, n);

    if (ngx_http_mock_out(a, "{\"reload\": \"done\", \"cassettes\": %ui, "
                          "\"interactions\": %ui}\n", cache.nelts, n)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mock_admin_send(a, NGX_HTTP_OK);
}


/*
 * GET metrics: what each mock location did, by result, in JSON, or with
 * ?format=prometheus in Prometheus's text format.
 */

static ngx_int_t
ngx_http_mock_admin_metrics(ngx_http_mock_admin_t *a)
{
    ngx_str_t                  *value, *result;
    ngx_uint_t                  i, k, w, prometheus;
    ngx_atomic_uint_t          *row, counts[NGX_HTTP_MOCK_NRESULTS];
    ngx_http_mock_slot_t       *slots;
    ngx_http_mock_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(a->r, ngx_http_mock_module);

    value = ngx_http_mock_admin_param(a, "format");

    prometheus = 0;

    if (value) {
        if (value->len == 10
            && ngx_strncmp(value->data, "prometheus", 10) == 0)
        {
            prometheus = 1;

        } else if (!(value->len == 4
                     && ngx_strncmp(value->data, "json", 4) == 0))
        {
            return ngx_http_mock_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                             "\"format\" is json or "
                                             "prometheus");
        }
    }

    slots = mmcf->slots.elts;

    if (prometheus) {
        if (ngx_http_mock_out(a, "# HELP nginx_mock_requests_total Requests "
                              "a mock location handled, by result.\n"
                              "# TYPE nginx_mock_requests_total counter\n")
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

    } else if (ngx_http_mock_out(a, "{\"locations\": [") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; mmcf->sh && i < mmcf->slots.nelts; i++) {

        /* the workers' rows added up */

        ngx_memzero(counts, sizeof(counts));

        for (w = 0; w < mmcf->sh->nworkers; w++) {
            row = &mmcf->sh->metrics[(w * mmcf->sh->nslots + i)
                                     * NGX_HTTP_MOCK_NRESULTS];

            for (k = 0; k < NGX_HTTP_MOCK_NRESULTS; k++) {
                counts[k] += row[k];
            }
        }

        if (!prometheus) {
            if (ngx_http_mock_out(a, "%s\n{\"location\": ", i ? "," : "")
                   != NGX_OK
                || ngx_http_mock_out_str(a, &slots[i].location) != NGX_OK
                || ngx_http_mock_out(a, ", \"cassette\": ") != NGX_OK
                || ngx_http_mock_out_str(a, &slots[i].cassette) != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }

        for (k = NGX_HTTP_MOCK_HIT; k < NGX_HTTP_MOCK_NRESULTS; k++) {
            result = ngx_http_mock_status_name(k);

            if (prometheus) {
                if (ngx_http_mock_out(a, "nginx_mock_requests_total{"
                                      "location=\"") != NGX_OK
                    || ngx_http_mock_out_label(a, &slots[i].location)
                       != NGX_OK
                    || ngx_http_mock_out(a, "\",cassette=\"") != NGX_OK
                    || ngx_http_mock_out_label(a, &slots[i].cassette)
                       != NGX_OK
                    || ngx_http_mock_out(a, "\",result=\"%V\"} %uA\n",
                                         result, counts[k]) != NGX_OK)
                {
                    return NGX_HTTP_INTERNAL_SERVER_ERROR;
                }

                continue;
            }

            if (ngx_http_mock_out(a, ", \"%V\": %uA", result, counts[k])
                != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }

        if (!prometheus && ngx_http_mock_out(a, "}") != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (!prometheus && ngx_http_mock_out(a, "\n]}\n") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (a->out == NULL && ngx_http_mock_out(a, "\n") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    a->prometheus = prometheus;

    return ngx_http_mock_admin_send(a, NGX_HTTP_OK);
}


/* a Prometheus label value: backslash, quote and newline escaped */

static ngx_int_t
ngx_http_mock_out_label(ngx_http_mock_admin_t *a, ngx_str_t *s)
{
    u_char  *p, *last;
    u_char   c[3];

    last = s->data + s->len;

    for (p = s->data; p < last; p++) {
        if (*p == '\\' || *p == '"' || *p == '\n') {
            c[0] = '\\';
            c[1] = (*p == '\n') ? 'n' : *p;
            c[2] = '\0';

        } else {
            c[0] = *p;
            c[1] = '\0';
        }

        if (ngx_http_mock_out(a, "%s", c) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* keeps the first error a cassette reports, for the answer */

static void
ngx_http_mock_admin_log_writer(ngx_log_t *log, ngx_uint_t level, u_char *buf,
    size_t len)
{
    u_char                 *p, *q;
    ngx_http_mock_admin_t  *a = log->wdata;

    if (a->error.len || level > NGX_LOG_ERR) {
        return;
    }

    /* after the time, pid and level */

    p = ngx_strlcasestrn(buf, buf + len, (u_char *) "mock:", 5 - 1);
    if (p == NULL) {
        p = buf;
    }

    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) {
        len--;
    }

    /* no configuration file is involved */

    q = ngx_strlcasestrn(p, buf + len, (u_char *) " in the admin reload",
                         sizeof(" in the admin reload") - 2);
    if (q) {
        len = q - buf;
    }

    a->error.data = ngx_pnalloc(a->r->pool, buf + len - p);
    if (a->error.data == NULL) {
        return;
    }

    a->error.len = buf + len - p;
    ngx_memcpy(a->error.data, p, a->error.len);

    return;
}


static ngx_int_t
ngx_http_mock_admin_error(ngx_http_request_t *r, ngx_uint_t status,
    char *fmt, ...)
{
    u_char                 *p;
    va_list                 args;
    ngx_str_t               text;
    ngx_http_mock_admin_t   a;
    u_char                  buf[NGX_MAX_ERROR_STR];

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    text.data = buf;
    text.len = p - buf;

    ngx_memzero(&a, sizeof(ngx_http_mock_admin_t));
    a.r = r;
    a.last = &a.out;

    if (ngx_http_mock_out(&a, "{\"error\": ") != NGX_OK
        || ngx_http_mock_out_str(&a, &text) != NGX_OK
        || ngx_http_mock_out(&a, "}\n") != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mock_admin_send(&a, status);
}


/* bad input found before anything is sent: remembered, then answered */

static ngx_int_t
ngx_http_mock_admin_fail(ngx_http_mock_admin_t *a, ngx_uint_t status,
    char *fmt, ...)
{
    u_char   *p;
    va_list   args;
    u_char    buf[NGX_MAX_ERROR_STR];

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    a->status = status;
    a->reason.len = p - buf;
    a->reason.data = ngx_pnalloc(a->r->pool, a->reason.len);

    if (a->reason.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(a->reason.data, buf, a->reason.len);

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_mock_admin_failed(ngx_http_mock_admin_t *a, ngx_int_t rc)
{
    if (rc != NGX_DECLINED) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mock_admin_error(a->r, a->status, "%V", &a->reason);
}


static ngx_int_t
ngx_http_mock_admin_send(ngx_http_mock_admin_t *a, ngx_uint_t status)
{
    off_t                len;
    ngx_int_t            rc;
    ngx_chain_t         *cl;
    ngx_http_request_t  *r;

    r = a->r;

    len = 0;

    for (cl = a->out; cl; cl = cl->next) {
        len += cl->buf->last - cl->buf->pos;

        if (cl->next == NULL) {
            cl->buf->last_buf = (r == r->main) ? 1 : 0;
            cl->buf->last_in_chain = 1;
        }
    }

    r->headers_out.status = status;
    r->headers_out.content_length_n = len;
    r->headers_out.content_type_lowcase = NULL;

    if (a->prometheus) {
        ngx_str_set(&r->headers_out.content_type,
                    "text/plain; version=0.0.4");
        r->headers_out.content_type_len = sizeof("text/plain") - 1;

    } else {
        ngx_str_set(&r->headers_out.content_type, "application/json");
        r->headers_out.content_type_len = sizeof("application/json") - 1;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, a->out);
}


/* GET drift[?store=&session=], DELETE drift: ngx_http_mock_drift_table.c */

static ngx_int_t
ngx_http_mock_admin_drift(ngx_http_mock_admin_t *a)
{
    ngx_int_t                   rc;
    ngx_uint_t                  n;
    ngx_http_mock_store_t      *store;
    ngx_http_mock_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(a->r, ngx_http_mock_module);

    n = NGX_CONF_UNSET_UINT;

    if (ngx_http_mock_admin_param(a, "store")) {
        rc = ngx_http_mock_admin_store(a, &store);
        if (rc != NGX_OK) {
            return ngx_http_mock_admin_failed(a, rc);
        }

        for (n = 0; n < mmcf->stores.nelts; n++) {
            if (((ngx_http_mock_store_t **) mmcf->stores.elts)[n] == store) {
                break;
            }
        }
    }

    if (ngx_http_mock_out_room(a, 0) != NGX_OK
        || ngx_http_mock_drift_answer(a->r, mmcf->sh, n,
                                      ngx_http_mock_admin_param(a, "session")
                                      ? &a->session : NULL, &a->out->buf)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mock_admin_send(a, NGX_HTTP_OK);
}


/* appends printf-style text to the answer */

static ngx_int_t
ngx_http_mock_out(ngx_http_mock_admin_t *a, char *fmt, ...)
{
    u_char   *p;
    va_list   args;
    u_char    buf[NGX_MAX_ERROR_STR];

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    if (ngx_http_mock_out_room(a, p - buf) != NGX_OK) {
        return NGX_ERROR;
    }

    a->b->last = ngx_http_mock_cpymem(a->b->last, buf, p - buf);

    return NGX_OK;
}


/* room for len more bytes at the end of the answer */

static ngx_int_t
ngx_http_mock_out_room(ngx_http_mock_admin_t *a, size_t len)
{
    ngx_chain_t  *cl;

    if (a->b && (size_t) (a->b->end - a->b->last) >= len) {
        return NGX_OK;
    }

    a->b = ngx_create_temp_buf(a->r->pool, ngx_max(4096, len));
    if (a->b == NULL) {
        return NGX_ERROR;
    }

    cl = ngx_alloc_chain_link(a->r->pool);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    cl->buf = a->b;
    cl->next = NULL;
    *a->last = cl;
    a->last = &cl->next;

    return NGX_OK;
}


/* a JSON string, escaped */

static ngx_int_t
ngx_http_mock_out_str(ngx_http_mock_admin_t *a, ngx_str_t *s)
{
    if (ngx_http_mock_out_room(a, 2 + 6 * s->len) != NGX_OK) {
        return NGX_ERROR;
    }

    a->b->last = ngx_http_mock_json_quote(a->b->last, s);

    return NGX_OK;
}
