
/*
 * Verify: a request goes to the upstream and the client gets its answer
 * unchanged, while the answer, captured as recording captures it, is
 * compared with the interaction replay would play, and a difference is
 * counted, logged once and kept in the drift table.
 *
 * The recording's filters copy the upstream's status, headers and body
 * (up to mock_record_max_body) and hand them here when the body is
 * complete, in place of writing a cassette.  The interaction is looked
 * up then, without playing it: the counters of its sequence stay as
 * they are.  With mock_verify_sample a share of a location's requests is
 * verified this way, whatever mode the others run in.
 */


#include "ngx_http_mock_module.h"


/*
 * A worker keeps the recorded JSON bodies it compared last as they are
 * compared (canonical), per location, next to a copy of the recorded
 * bytes that tells an entry still holds the interaction's body.
 */
#define NGX_HTTP_MOCK_VERIFY_CACHE       16
#define NGX_HTTP_MOCK_VERIFY_CACHE_BODY  (16 * 1024)


typedef struct {
    ngx_http_mock_interaction_t  *it;
    u_char                       *data;         /* recorded, canonical */
    size_t                        recorded;
    size_t                        canonical;
    ngx_int_t                     rc;
    uint64_t                      shape;        /* a live one without drift */
} ngx_http_mock_verify_cached_t;


typedef struct {
    ngx_http_mock_interaction_t  *it;
} ngx_http_mock_verify_cln_t;


static void ngx_http_mock_verify_captured(ngx_http_request_t *r,
    const char *skipped);
static ngx_int_t ngx_http_mock_verify_compare(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx, ngx_http_mock_interaction_t *it,
    const char *skipped, ngx_str_t *diff);
static ngx_int_t ngx_http_mock_verify_headers(ngx_http_request_t *r,
    ngx_http_mock_interaction_t *it, ngx_http_mock_drift_t *d);
static ngx_str_t *ngx_http_mock_verify_live_header(ngx_http_request_t *r,
    ngx_str_t *name);
static ngx_int_t ngx_http_mock_verify_body(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx, ngx_str_t *body);
static ngx_int_t ngx_http_mock_verify_recorded(ngx_http_request_t *r,
    ngx_http_mock_interaction_t *it, ngx_http_mock_drift_t *d);
static void ngx_http_mock_verify_shape(ngx_http_request_t *r,
    ngx_http_mock_interaction_t *it, uint64_t shape);
static ngx_http_mock_verify_cached_t *ngx_http_mock_verify_cache(
    ngx_http_request_t *r);
static void ngx_http_mock_verify_cache_free(void *data);
static void ngx_http_mock_verify_noted(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx, ngx_http_mock_interaction_t *it,
    ngx_str_t *diff);
static ngx_int_t ngx_http_mock_verify_pin(ngx_http_request_t *r,
    ngx_http_mock_interaction_t *it);
static void ngx_http_mock_verify_unpin(void *data);


static ngx_str_t  ngx_http_mock_verify_content_type =
    ngx_string("Content-Type");


/* mock_verify_sample percent: "5%", "0.5%", "100%", or "off" */

char *
ngx_http_mock_verify_sample(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mock_loc_conf_t *mlcf = conf;

    u_char       *p, *last;
    ngx_str_t    *value;
    ngx_uint_t    rate, digits, point;

    value = cf->args->elts;

    if (mlcf->verify.sample != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    if (value[1].len == 3 && ngx_strncmp(value[1].data, "off", 3) == 0) {
        mlcf->verify.sample = 0;
        return NGX_CONF_OK;
    }

    p = value[1].data;
    last = p + value[1].len;

    if (p == last || last[-1] != '%') {
        goto invalid;
    }

    last--;
    rate = 0;
    digits = 0;
    point = 0;

    for ( /* void */ ; p < last; p++) {
        if (*p == '.' && !point) {
            point = 1;
            continue;
        }

        if (*p < '0' || *p > '9' || (point && ++point > 3) || rate > 10000) {
            goto invalid;
        }

        rate = rate * 10 + (*p - '0');
        digits++;
    }

    /* in hundredths of a percent */

    for (point = point ? point - 1 : 0; point < 2; point++) {
        rate *= 10;
    }

    if (digits == 0 || rate == 0 || rate > NGX_HTTP_MOCK_RATE_ALL) {
        goto invalid;
    }

    mlcf->verify.sample = rate;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid share \"%V\": a percentage above 0%% and "
                       "at most 100%%, with up to two decimals, or \"off\"",
                       &value[1]);
    return NGX_CONF_ERROR;
}


/* mock_verify_headers Name ...: header names, checked as tokens */

char *
ngx_http_mock_verify_headers_set(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_mock_loc_conf_t *mlcf = conf;

    u_char      *bad;
    ngx_str_t   *value, *name;
    ngx_uint_t   i;

    if (mlcf->verify.headers != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    mlcf->verify.headers = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                            sizeof(ngx_str_t));
    if (mlcf->verify.headers == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        bad = ngx_http_mock_check_token(&value[i]);

        if (value[i].len == 0 || bad) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid header name \"%V\": %s",
                               &value[i], value[i].len
                               ? "a byte that is not a token character"
                               : "it is empty");
            return NGX_CONF_ERROR;
        }

        name = ngx_array_push(mlcf->verify.headers);
        if (name == NULL) {
            return NGX_CONF_ERROR;
        }

        *name = value[i];
    }

    return NGX_CONF_OK;
}


/* mock_verify_ignore $.path ...: JSON paths whose values change */

char *
ngx_http_mock_verify_ignore(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mock_loc_conf_t *mlcf = conf;

    char                   *err;
    ngx_str_t              *value;
    ngx_uint_t              i;
    ngx_http_mock_jpath_t  *jp;

    value = cf->args->elts;

    if (mlcf->verify.ignore == NGX_CONF_UNSET_PTR) {
        mlcf->verify.ignore = ngx_array_create(cf->pool, 4,
                                                sizeof(ngx_http_mock_jpath_t));
        if (mlcf->verify.ignore == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 0 || value[i].data[0] != '$') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid JSON path \"%V\": it begins with "
                               "\"$\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        jp = ngx_array_push(mlcf->verify.ignore);
        if (jp == NULL) {
            return NGX_CONF_ERROR;
        }

        err = ngx_http_mock_ignore_jpath(cf, &value[i], jp);

        if (err) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid JSON path \"%V\": %s", &value[i], err);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/* whether mock_verify_sample picks this request */

ngx_uint_t
ngx_http_mock_verify_sampled(ngx_http_request_t *r,
    ngx_http_mock_loc_conf_t *mlcf)
{
    ngx_uint_t  rate;

    rate = mlcf->verify.sample;

    if (rate == 0 || r != r->main) {
        return 0;
    }

    return rate >= NGX_HTTP_MOCK_RATE_ALL
           || (ngx_uint_t) ngx_random() % NGX_HTTP_MOCK_RATE_ALL < rate;
}


/* the request goes on to proxy_pass; its answer comes to "captured" */

ngx_int_t
ngx_http_mock_verify_start(ngx_http_request_t *r, ngx_http_mock_ctx_t *ctx)
{
    ctx->mode = NGX_HTTP_MOCK_MODE_VERIFY;
    ctx->captured = ngx_http_mock_verify_captured;

    return NGX_OK;
}


static void
ngx_http_mock_verify_captured(ngx_http_request_t *r, const char *skipped)
{
    ngx_str_t                     diff;
    ngx_http_mock_key_t           key;
    ngx_http_mock_ctx_t          *ctx;
    ngx_http_mock_loc_conf_t     *mlcf;
    ngx_http_mock_interaction_t  *it;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);
    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mock_module);

    ctx->status = NGX_HTTP_MOCK_PASSTHROUGH;

    if (r->upstream == NULL || mlcf->store == NULL) {
        return;
    }

    ngx_memzero(&key, sizeof(ngx_http_mock_key_t));

    if (ngx_http_mock_live_key(r, mlcf, &key) != NGX_OK) {
        return;
    }

    it = ngx_http_mock_replay_forced(r, mlcf, &key);

    if (it) {
        ngx_http_mock_store_pin(it);

    } else {
        it = ngx_http_mock_store_peek(mlcf->store, ctx->index, &ctx->session,
                                      &key, mlcf->match, mlcf->repeats);

        if (it == NULL && r->method == NGX_HTTP_HEAD
            && (mlcf->match->mask & NGX_HTTP_MOCK_MATCH_METHOD))
        {
            /* as replay: HEAD has the headers of the GET recording */

            ngx_str_set(&key.method, "GET");
            it = ngx_http_mock_store_peek(mlcf->store, ctx->index,
                                          &ctx->session, &key, mlcf->match,
                                          mlcf->repeats);
        }
    }

    if (it && ngx_http_mock_verify_pin(r, it) != NGX_OK) {
        ngx_http_mock_store_unpin(it);
        return;
    }

    if (it == NULL) {
        ctx->status = NGX_HTTP_MOCK_UNRECORDED;
        ngx_str_set(&diff, "no recording matches the request");
        ngx_http_mock_verify_noted(r, ctx, NULL, &diff);
        return;
    }

    ctx->interaction = it;

    if (ngx_http_mock_verify_compare(r, ctx, it, skipped, &diff) != NGX_OK) {
        return;
    }

    if (diff.len == 0) {
        ctx->status = NGX_HTTP_MOCK_VERIFIED;
        return;
    }

    ctx->status = NGX_HTTP_MOCK_DRIFT;
    ngx_http_mock_verify_noted(r, ctx, it, &diff);
}


static ngx_int_t
ngx_http_mock_verify_compare(ngx_http_request_t *r, ngx_http_mock_ctx_t *ctx,
    ngx_http_mock_interaction_t *it, const char *skipped, ngx_str_t *diff)
{
    ngx_uint_t                 i;
    ngx_str_t                 *type;
    ngx_http_mock_drift_t      d;
    ngx_http_mock_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mock_module);

    ngx_memzero(&d, sizeof(ngx_http_mock_drift_t));

    d.live_status = r->upstream->headers_in.status_n;
    d.recorded_status = it->status;
    d.values = mlcf->verify.values;
    d.ignore = mlcf->verify.ignore;
    d.filters = mlcf->filters;
    d.templated = (it->tpl != NULL);

    if (ngx_http_mock_verify_headers(r, it, &d) != NGX_OK) {
        return NGX_ERROR;
    }

    type = ngx_http_mock_verify_live_header(r,
                                        &ngx_http_mock_verify_content_type);
    if (type) {
        d.live_type = *type;
    }

    for (i = 0; i < it->nheaders; i++) {
        if (it->headers[i].type == NGX_HTTP_MOCK_HEADER_CONTENT_TYPE) {
            d.recorded_type = it->headers[i].value;
            break;
        }
    }

    /* a body cut short, or one HEAD does not have, is not compared */

    d.body = (skipped == NULL && !r->header_only
              && r->method != NGX_HTTP_HEAD);

    if (d.body) {
        if (ngx_http_mock_verify_body(r, ctx, &d.live_body) != NGX_OK) {
            return NGX_ERROR;
        }

        d.recorded_body = it->body;

        if (ngx_http_mock_verify_recorded(r, it, &d) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (ngx_http_mock_drift_diff(r->pool, &d, diff) != NGX_OK) {
        return NGX_ERROR;
    }

    /* a live shape found without drift is known the next time */

    if (d.live_shape && d.live_shape != d.known_shape && !d.body_drifted) {
        ngx_http_mock_verify_shape(r, it, d.live_shape);
    }

    if (skipped) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mock: the body of \"%V %V\" is not verified: %s",
                      &r->method_name, &r->unparsed_uri, skipped);
    }

    return NGX_OK;
}


/*
 * The headers mock_verify_headers names: one a template made is compared
 * by presence only, a secret (mock_filter_header) not at all.
 */

static ngx_int_t
ngx_http_mock_verify_headers(ngx_http_request_t *r,
    ngx_http_mock_interaction_t *it, ngx_http_mock_drift_t *d)
{
    ngx_str_t                     *names, *v, one;
    ngx_uint_t                     i, k, n;
    ngx_http_mock_loc_conf_t      *mlcf;
    ngx_http_mock_drift_header_t  *h;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mock_module);

    if (mlcf->verify.headers) {
        names = mlcf->verify.headers->elts;
        n = mlcf->verify.headers->nelts;

    } else {
        names = &ngx_http_mock_verify_content_type;
        n = 1;
    }

    d->headers = ngx_array_create(r->pool, ngx_max(n, 1),
                                  sizeof(ngx_http_mock_drift_header_t));
    if (d->headers == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        h = ngx_array_push(d->headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(h, sizeof(ngx_http_mock_drift_header_t));
        h->name = names[i];

        v = ngx_http_mock_verify_live_header(r, &names[i]);
        if (v) {
            h->live = *v;

            if (h->live.data == NULL) {
                h->live.data = (u_char *) "";
            }
        }

        for (k = 0; k < it->nheaders; k++) {
            if (it->headers[k].name.len == names[i].len
                && ngx_strncasecmp(it->headers[k].name.data, names[i].data,
                                   names[i].len) == 0)
            {
                h->recorded = it->headers[k].value;

                if (h->recorded.data == NULL) {
                    h->recorded.data = (u_char *) "";
                }

                h->presence = (it->headers[k].tpl != NULL);
                break;
            }
        }

        /* a secret is never compared: it was recorded replaced, or not */

        ngx_str_null(&one);

        if (mlcf->filters
            && (ngx_http_mock_filter_value(mlcf->filters, &names[i], &one)
                == NGX_DECLINED
                || one.data))
        {
            ngx_str_null(&h->live);
            ngx_str_null(&h->recorded);
        }
    }

    return NGX_OK;
}


/* the first header of that name the upstream sent */

static ngx_str_t *
ngx_http_mock_verify_live_header(ngx_http_request_t *r, ngx_str_t *name)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->upstream->headers_in.headers.part;
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

        if (h[i].hash == 0) {
            continue;
        }

        if (h[i].key.len == name->len
            && ngx_strncasecmp(h[i].key.data, name->data, name->len) == 0)
        {
            return &h[i].value;
        }
    }
}


/* the body the capture copied: one buffer, or a chain joined */

static ngx_int_t
ngx_http_mock_verify_body(ngx_http_request_t *r, ngx_http_mock_ctx_t *ctx,
    ngx_str_t *body)
{
    u_char       *p;
    ngx_chain_t  *cl;

    ngx_str_null(body);

    if (ctx->size == 0) {
        return NGX_OK;
    }

    if (ctx->last == NULL) {
        body->data = ctx->body->buf->pos;
        body->len = ctx->size;
        return NGX_OK;
    }

    body->data = ngx_pnalloc(r->pool, ctx->size);
    if (body->data == NULL) {
        return NGX_ERROR;
    }

    p = body->data;

    for (cl = ctx->body; cl; cl = cl->next) {
        p = ngx_http_mock_cpymem(p, cl->buf->pos,
                                 cl->buf->last - cl->buf->pos);
    }

    body->len = p - body->data;

    return NGX_OK;
}


/* the recorded body made canonical once, and kept */

static ngx_int_t
ngx_http_mock_verify_recorded(ngx_http_request_t *r,
    ngx_http_mock_interaction_t *it, ngx_http_mock_drift_t *d)
{
    u_char                         *p;
    ngx_int_t                       rc;
    ngx_str_t                       canon;
    ngx_http_mock_loc_conf_t       *mlcf;
    ngx_http_mock_verify_cached_t  *cache, *e;

    if (it->body.len == 0
        || it->body.len > NGX_HTTP_MOCK_VERIFY_CACHE_BODY
        || ngx_http_mock_body_kind(&d->recorded_type, &it->body)
           != NGX_HTTP_MOCK_BODY_JSON)
    {
        return NGX_OK;
    }

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mock_module);

    cache = mlcf->verify.cache;

    if (cache == NULL) {
        cache = ngx_http_mock_verify_cache(r);
        mlcf->verify.cache = cache;
    }

    e = cache ? &cache[((uintptr_t) it / sizeof(ngx_http_mock_interaction_t))
                       % NGX_HTTP_MOCK_VERIFY_CACHE]
              : NULL;

    if (e && e->it == it && e->recorded == it->body.len
        && ngx_memcmp(e->data, it->body.data, e->recorded) == 0)
    {
        d->canonical = 1;
        d->recorded_rc = e->rc;
        d->recorded_canon.data = e->data + e->recorded;
        d->recorded_canon.len = e->canonical;
        d->known_shape = e->shape;
        return NGX_OK;
    }

    ngx_str_null(&canon);

    rc = ngx_http_mock_drift_canon(r->pool, d->filters, d->templated,
                                   &it->body, &canon);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    d->canonical = 1;
    d->recorded_rc = rc;
    d->recorded_canon = canon;

    if (e == NULL) {
        return NGX_OK;
    }

    p = ngx_alloc(it->body.len + canon.len, r->connection->log);
    if (p == NULL) {
        return NGX_OK;
    }

    if (e->data) {
        ngx_free(e->data);
    }

    e->it = it;
    e->data = p;
    e->recorded = it->body.len;
    e->canonical = canon.len;
    e->rc = rc;
    e->shape = 0;

    p = ngx_cpymem(p, it->body.data, it->body.len);
    ngx_http_mock_cpymem(p, canon.data, canon.len);

    return NGX_OK;
}


/*
 * A location's cache, the worker's own (the configuration is copied on
 * write): in the cycle's pool, whose end frees what the entries hold.
 */

static ngx_http_mock_verify_cached_t *
ngx_http_mock_verify_cache(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t             *cln;
    ngx_http_mock_verify_cached_t  *cache;

    cln = ngx_pool_cleanup_add(ngx_cycle->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cache = ngx_pcalloc(ngx_cycle->pool,
                        NGX_HTTP_MOCK_VERIFY_CACHE
                        * sizeof(ngx_http_mock_verify_cached_t));
    if (cache == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_mock_verify_cache_free;
    cln->data = cache;

    return cache;
}


static void
ngx_http_mock_verify_cache_free(void *data)
{
    ngx_http_mock_verify_cached_t  *cache = data;

    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_MOCK_VERIFY_CACHE; i++) {
        if (cache[i].data) {
            ngx_free(cache[i].data);
            cache[i].data = NULL;
        }
    }
}


static void
ngx_http_mock_verify_shape(ngx_http_request_t *r,
    ngx_http_mock_interaction_t *it, uint64_t shape)
{
    ngx_http_mock_loc_conf_t       *mlcf;
    ngx_http_mock_verify_cached_t  *e;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mock_module);

    if (mlcf->verify.cache == NULL) {
        return;
    }

    e = &((ngx_http_mock_verify_cached_t *) mlcf->verify.cache)
            [((uintptr_t) it / sizeof(ngx_http_mock_interaction_t))
             % NGX_HTTP_MOCK_VERIFY_CACHE];

    if (e->it == it && e->recorded == it->body.len) {
        e->shape = shape;
    }
}


/* into the drift table; the first time, in the error log too */

static void
ngx_http_mock_verify_noted(ngx_http_request_t *r, ngx_http_mock_ctx_t *ctx,
    ngx_http_mock_interaction_t *it, ngx_str_t *diff)
{
    u_char                      *p, *q;
    ngx_int_t                    rc;
    ngx_str_t                    line;
    ngx_uint_t                   i;
    ngx_http_mock_store_t      **stores;
    ngx_http_mock_loc_conf_t    *mlcf;
    ngx_http_mock_main_conf_t   *mmcf;
    ngx_http_mock_drift_note_t   note;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mock_module);
    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mock_module);

    if (mmcf->sh == NULL) {
        return;
    }

    ngx_memzero(&note, sizeof(ngx_http_mock_drift_note_t));

    stores = mmcf->stores.elts;

    for (i = 0; i < mmcf->stores.nelts; i++) {
        if (stores[i] == mlcf->store) {
            note.store = i;
            break;
        }
    }

    note.kind = it ? NGX_HTTP_MOCK_DRIFT : NGX_HTTP_MOCK_UNRECORDED;
    note.interaction = it ? it->index : NGX_CONF_UNSET_UINT;
    note.live_status = r->upstream->headers_in.status_n;
    note.recorded_status = it ? it->status : 0;
    note.session = ctx->session;
    note.method = r->method_name;
    note.uri = r->unparsed_uri;
    note.diff = *diff;

    if (it) {
        note.cassette = *it->cassette;
    }

    rc = ngx_http_mock_drift_note(mmcf->sh, &note, r->connection->log);

    if (rc != NGX_DONE) {
        return;
    }

    /* one line: the diff's lines joined with "; " */

    line.data = ngx_pnalloc(r->pool, diff->len * 2);
    if (line.data == NULL) {
        return;
    }

    q = line.data;

    for (p = diff->data; p < diff->data + diff->len; p++) {
        if (*p == '\n') {
            *q++ = ';'; *q++ = ' ';

        } else {
            *q++ = *p;
        }
    }

    line.len = q - line.data;

    if (it) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "mock: \"%V %V\" drifted from interaction %ui of "
                      "\"%V\": %V", &r->method_name, &r->unparsed_uri,
                      it->index, it->cassette, &line);

    } else {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "mock: \"%V %V\" is unrecorded: %V",
                      &r->method_name, &r->unparsed_uri, &line);
    }
}


/* the interaction stays in the zone until the request ends */

static ngx_int_t
ngx_http_mock_verify_pin(ngx_http_request_t *r,
    ngx_http_mock_interaction_t *it)
{
    ngx_pool_cleanup_t          *cln;
    ngx_http_mock_verify_cln_t  *held;

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_mock_verify_cln_t));
    if (cln == NULL) {
        return NGX_ERROR;
    }

    held = cln->data;
    held->it = it;

    cln->handler = ngx_http_mock_verify_unpin;

    return NGX_OK;
}


static void
ngx_http_mock_verify_unpin(void *data)
{
    ngx_http_mock_verify_cln_t  *held = data;

    ngx_http_mock_store_unpin(held->it);
}
