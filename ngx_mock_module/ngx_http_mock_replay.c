
/*
 * The replay content handler: reduce the request to its key, find the
 * group of identical recorded requests, take the next interaction of the
 * sequence and send its response straight from the shared zone, when
 * its latency is over and unless a fault takes its place (as a stream
 * when it was recorded as one).  Requests nothing matches get a
 * near-miss report.
 */


#include "ngx_http_mock_module.h"


#define NGX_HTTP_MOCK_NEAR_MISSES   3
#define NGX_HTTP_MOCK_NEAR_SCAN     1000
#define NGX_HTTP_MOCK_ALLOW_MAX     16
#define NGX_HTTP_MOCK_DETAIL_LEN    1024

#define NGX_HTTP_MOCK_REPLAY_ERROR  ((ngx_http_mock_group_t *) -1)


typedef struct {
    ngx_http_mock_interaction_t  *it;
    ngx_uint_t                    diff;
    ngx_uint_t                    score;
} ngx_http_mock_near_t;


static void ngx_http_mock_replay_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_mock_replay(ngx_http_request_t *r);
static ngx_http_mock_group_t *ngx_http_mock_replay_group(
    ngx_http_request_t *r, ngx_http_mock_loc_conf_t *mlcf,
    ngx_http_mock_ctx_t *ctx);
static ngx_int_t ngx_http_mock_replay_fleet(ngx_http_request_t *r,
    ngx_http_mock_loc_conf_t *mlcf, ngx_http_mock_ctx_t *ctx);
static ngx_int_t ngx_http_mock_replay_fleet_done(ngx_http_request_t *r,
    void *data, ngx_http_mock_fleet_state_t *st);
static void ngx_http_mock_hit_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_mock_replay_session(ngx_http_request_t *r);
static ngx_int_t ngx_http_mock_replay_fault(ngx_http_request_t *r);
static ngx_int_t ngx_http_mock_replay_resume(ngx_http_request_t *r);
static ngx_int_t ngx_http_mock_replay_value(ngx_http_request_t *r,
    ngx_http_mock_interaction_t *it, ngx_http_mock_header_t *hh,
    ngx_str_t *value);
static ngx_int_t ngx_http_mock_replay_not_allowed(ngx_http_request_t *r,
    ngx_http_mock_loc_conf_t *mlcf, ngx_http_mock_key_t *key,
    ngx_http_mock_interaction_t *chain);
static ngx_int_t ngx_http_mock_replay_miss(ngx_http_request_t *r,
    ngx_http_mock_loc_conf_t *mlcf, ngx_http_mock_index_t *index,
    ngx_http_mock_key_t *key, ngx_http_mock_group_t *played,
    ngx_http_mock_interaction_t *chain);
static ngx_uint_t ngx_http_mock_near_misses(ngx_http_mock_loc_conf_t *mlcf,
    ngx_http_mock_index_t *index, ngx_http_mock_key_t *key,
    ngx_http_mock_interaction_t *chain, ngx_http_mock_near_t *near);
static ngx_int_t ngx_http_mock_live_ignored(ngx_http_request_t *r,
    ngx_http_mock_ignore_t *ig);
static ngx_int_t ngx_http_mock_live_ignore(ngx_http_request_t *r,
    ngx_http_mock_loc_conf_t *mlcf, ngx_str_t *type, ngx_http_mock_key_t *key);
static u_char *ngx_http_mock_differs(ngx_http_request_t *r, u_char *p,
    u_char *last, ngx_http_mock_loc_conf_t *mlcf, ngx_http_mock_key_t *key,
    ngx_http_mock_near_t *near);
static ngx_int_t ngx_http_mock_cassette_named(ngx_str_t *name,
    ngx_str_t *file);
static ngx_int_t ngx_http_mock_send(ngx_http_request_t *r, u_char *data,
    size_t len);
static ngx_int_t ngx_http_mock_send_text(ngx_http_request_t *r,
    ngx_uint_t status, u_char *text, size_t len);


static ngx_str_t  ngx_http_mock_get = ngx_string("GET");


ngx_int_t
ngx_http_mock_replay_handler(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    ngx_http_mock_ctx_t       *ctx;
    ngx_http_mock_index_t     *index;
    ngx_http_mock_loc_conf_t  *mlcf;

    /* set by the precontent handler, after it made the request's context */

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mock_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    /* templates that read the live body have it read, too */

    index = ctx->index ? ctx->index
                       : ngx_http_mock_current(mlcf->store->shared);

    if (ngx_http_mock_replay_session(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * A fault that answers in place of the recording uses no play; a
     * session of a fleet may have its fault in Redis, which answers later.
     */

    if (ctx->asked_fault == NULL && ctx->session.len
        && !ctx->fleet_failed && ngx_http_mock_fleet_on(r))
    {
        ctx->fault_later = 1;

    } else {
        rc = ngx_http_mock_replay_fault(r);

        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    if ((mlcf->match->mask & NGX_HTTP_MOCK_MATCH_BODY)
        || index->body_templates)
    {
        rc = ngx_http_read_client_request_body(r,
                                            ngx_http_mock_replay_body_handler);

        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            return rc;
        }

        return NGX_DONE;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_mock_replay(r);
}


static void
ngx_http_mock_replay_body_handler(ngx_http_request_t *r)
{
    ngx_http_finalize_request(r, ngx_http_mock_replay(r));
}


static ngx_int_t
ngx_http_mock_replay(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_uint_t                    n, lock;
    ngx_str_t                    *session;
    ngx_atomic_t                 *counter;
    ngx_http_mock_key_t          *key;
    ngx_http_mock_ctx_t          *ctx;
    ngx_http_mock_group_t        *g;
    ngx_http_mock_store_t        *store;
    ngx_http_mock_loc_conf_t     *mlcf;
    ngx_http_mock_interaction_t  *it;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mock_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    store = mlcf->store;
    session = &ctx->session;
    key = &ctx->key;

    if (ngx_http_mock_live_key(r, mlcf, key) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * A fleet keeps forced answers and counters in Redis; the answer a
     * request header names is this request's own.
     */

    if (!ctx->fleet_failed && ngx_http_mock_fleet_on(r)) {

        if (mlcf->force_header.len
            && ngx_http_mock_header_in(r, &mlcf->force_header))
        {
            it = ngx_http_mock_replay_forced(r, mlcf, key);

            if (it) {
                /* Redis is not asked: this instance's faults */

                ctx->fault_later = 0;

                rc = ngx_http_mock_replay_fault(r);

                if (rc != NGX_DECLINED) {
                    return rc;
                }

                ctx->status = NGX_HTTP_MOCK_HIT;
                ctx->interaction = it;

                return ngx_http_mock_replay_send(r, it);
            }
        }

        rc = ngx_http_mock_replay_fleet(r, mlcf, ctx);

        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    /* Redis did not answer: this instance's faults */

    if (ctx->fault_later) {
        ctx->fault_later = 0;

        rc = ngx_http_mock_replay_fault(r);

        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    it = ngx_http_mock_replay_forced(r, mlcf, key);

    if (it) {
        ctx->status = NGX_HTTP_MOCK_HIT;
        ctx->interaction = it;

        return ngx_http_mock_replay_send(r, it);
    }

    /* what recording changes is read under the zone's mutex */

    lock = (store->writer || store->sessions);

    if (lock) {
        ngx_shmtx_lock(&store->shpool->mutex);
    }

    g = ngx_http_mock_replay_group(r, mlcf, ctx);

    if (g == NGX_HTTP_MOCK_REPLAY_ERROR) {
        if (lock) {
            ngx_shmtx_unlock(&store->shpool->mutex);
        }

        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = 0;

    /* plays are counted whatever mock_repeats says: they make ctx->seq */

    if (g) {

        if (session->len) {
            if (!lock) {
                ngx_shmtx_lock(&store->shpool->mutex);
            }

            n = ngx_http_mock_session_count(store, session, g, mlcf->repeats,
                                            ctx->head);

            if (!lock) {
                ngx_shmtx_unlock(&store->shpool->mutex);
            }

        } else {
            counter = (mlcf->repeats == NGX_HTTP_MOCK_REPEATS_ON)
                      ? &g->repeated : &g->played;

            n = ctx->head ? *counter : ngx_atomic_fetch_add(counter, 1);
        }
    }

    rc = ngx_http_mock_replay_play(r, n, 1);

    if (lock) {
        ngx_shmtx_unlock(&store->shpool->mutex);
    }

    return rc;
}


/*
 * The request's index and group, the caller holding the zone's mutex
 * where the store needs it; NGX_HTTP_MOCK_REPLAY_ERROR when the index
 * cannot be held.
 */

static ngx_http_mock_group_t *
ngx_http_mock_replay_group(ngx_http_request_t *r,
    ngx_http_mock_loc_conf_t *mlcf, ngx_http_mock_ctx_t *ctx)
{
    ngx_http_mock_key_t     *key;
    ngx_http_mock_group_t   *g;
    ngx_http_mock_index_t   *index;
    ngx_http_mock_match_t   *match;
    ngx_http_mock_store_t   *store;

    store = mlcf->store;
    match = mlcf->match;
    key = &ctx->key;

    index = ctx->index;

    if (index == NULL && store->sessions) {
        /* a session that recording has started since */
        index = ngx_http_mock_session_index(store, &ctx->session, 0, NULL,
                                            NULL);

        if (index && ngx_http_mock_store_hold(r, index) != NGX_OK) {
            return NGX_HTTP_MOCK_REPLAY_ERROR;
        }
    }

    if (index == NULL) {
        /* a session directory's empty index, which no reload replaces */
        index = ngx_http_mock_current(store->shared);
    }

    ctx->index = index;
    ctx->head = 0;

    g = ngx_http_mock_store_find(index, key, match);

    if (g == NULL
        && r->method == NGX_HTTP_HEAD
        && (match->mask & NGX_HTTP_MOCK_MATCH_METHOD))
    {
        /* HEAD gets the headers of the GET recording, and plays nothing */

        key->method = ngx_http_mock_get;
        g = ngx_http_mock_store_find(index, key, match);
        ctx->head = 1;
    }

    ctx->group = g;

    return g;
}


/*
 * Replay in a fleet: one round trip to Redis gives the forced answer, the
 * play and the session's values; the answer is sent when it comes.
 * NGX_DECLINED: Redis is out of reach, this instance decides.
 */

static ngx_int_t
ngx_http_mock_replay_fleet(ngx_http_request_t *r,
    ngx_http_mock_loc_conf_t *mlcf, ngx_http_mock_ctx_t *ctx)
{
    ngx_str_t                 method;
    ngx_uint_t                lock;
    ngx_http_mock_group_t    *g;
    ngx_http_mock_store_t    *store;

    store = mlcf->store;
    method = ctx->key.method;

    lock = (store->writer || store->sessions);

    if (lock) {
        ngx_shmtx_lock(&store->shpool->mutex);
    }

    g = ngx_http_mock_replay_group(r, mlcf, ctx);

    if (g == NGX_HTTP_MOCK_REPLAY_ERROR) {
        if (lock) {
            ngx_shmtx_unlock(&store->shpool->mutex);
        }

        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (lock) {
        ngx_shmtx_unlock(&store->shpool->mutex);
    }

    /* under "mock_repeats on" the zone counts: no Redis key is made */

    return ngx_http_mock_fleet_state(r, store,
                                     mlcf->repeats == NGX_HTTP_MOCK_REPEATS_ON
                                     ? NULL : g,
                                     &method, &ctx->key.path, ctx->head,
                                     ctx->session.len && ctx->index
                                     && ctx->index->var_templates,
                                     ngx_http_mock_replay_fleet_done, NULL);
}


static ngx_int_t
ngx_http_mock_replay_fleet_done(ngx_http_request_t *r, void *data,
    ngx_http_mock_fleet_state_t *st)
{
    ngx_int_t                     rc;
    ngx_uint_t                    n;
    ngx_http_mock_ctx_t          *ctx;
    ngx_http_mock_group_t        *g;
    ngx_http_mock_store_t        *store;
    ngx_http_mock_loc_conf_t     *mlcf;
    ngx_http_mock_interaction_t  *it;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mock_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    store = mlcf->store;
    g = ctx->group;

    if (st == NULL) {
        /* Redis could not answer: this instance decides, as it can */
        ctx->fleet_failed = 1;
        return ngx_http_mock_replay(r);
    }

    if (st->vars
        && ngx_http_mock_session_vars_load(r, st->vars) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_mock_fleet_settings(r, st) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->fault_later) {
        ctx->fault_later = 0;

        rc = ngx_http_mock_replay_fault(r);

        if (rc != NGX_DECLINED) {
            /* the play Redis counted is given back (a forced one was) */

            if (st->play >= 0 && st->forced.len == 0 && g && !ctx->head
                && mlcf->repeats != NGX_HTTP_MOCK_REPEATS_ON)
            {
                ngx_http_mock_fleet_unplay(r, store, g);
            }

            return rc;
        }
    }

    if (st->forced.len) {
        it = ngx_http_mock_fleet_forced(ctx->index, &ctx->key.path,
                                        &st->forced);

        if (it == NULL) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "mock: the forced answer \"%V\" of the fleet "
                          "names no interaction of this instance",
                          &st->forced);

            ctx->fleet_failed = 1;
            return ngx_http_mock_replay(r);
        }

        ctx->status = NGX_HTTP_MOCK_HIT;
        ctx->interaction = it;

        ngx_http_mock_fleet_played(r, store, it);

        return ngx_http_mock_replay_send(r, it);
    }

    if (st->play >= 0) {
        n = (ngx_uint_t) st->play;

    } else if (g == NULL) {
        n = 0;

    } else {
        /* "mock_repeats on": the first interaction's plays, here */

        if (ctx->session.len) {
            ngx_shmtx_lock(&store->shpool->mutex);
            n = ngx_http_mock_session_count(store, &ctx->session, g,
                                            mlcf->repeats, ctx->head);
            ngx_shmtx_unlock(&store->shpool->mutex);

        } else {
            n = ctx->head ? g->repeated
                          : ngx_atomic_fetch_add(&g->repeated, 1);
        }
    }

    rc = ngx_http_mock_replay_play(r, n, 0);

    /* what no counter of the fleet says: the plays of "mock_repeats on" */

    if (st->play < 0 && g && ctx->interaction && !ctx->head) {
        ngx_http_mock_fleet_played(r, store, ctx->interaction);
    }

    return rc;
}


/*
 * Answers with play n of the request's group, or reports the miss; with
 * "locked" the caller holds the zone's mutex where the store needs it.
 */

ngx_int_t
ngx_http_mock_replay_play(ngx_http_request_t *r, ngx_uint_t n,
    ngx_uint_t locked)
{
    ngx_int_t                     rc;
    ngx_uint_t                    lock, on, k;
    ngx_str_t                    *session;
    ngx_http_mock_key_t          *key;
    ngx_http_mock_ctx_t          *ctx;
    ngx_http_mock_group_t        *g;
    ngx_http_mock_match_t        *match;
    ngx_http_mock_store_t        *store;
    ngx_http_mock_loc_conf_t     *mlcf;
    ngx_http_mock_interaction_t  *it, *chain;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mock_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    store = mlcf->store;
    match = mlcf->match;
    session = &ctx->session;
    key = &ctx->key;
    g = ctx->group;

    /*
     * A session's plays of a sequence are its counters; the first
     * interaction's plays under "mock_repeats on" are counted apart.
     */

    on = (mlcf->repeats == NGX_HTTP_MOCK_REPEATS_ON);

    lock = !locked && (store->writer || store->sessions
                       || (session->len && on));

    if (lock) {
        ngx_shmtx_lock(&store->shpool->mutex);
    }

    ctx->seq = n + 1;
    k = g ? ngx_http_mock_repeats_item(mlcf->repeats, n, g->n) : 0;

    if (g && k < g->n) {
        it = g->items[k];

        if (session->len && on && !ctx->head) {
            if (locked && !(store->writer || store->sessions)) {
                ngx_shmtx_lock(&store->shpool->mutex);
                ngx_http_mock_session_played(store, session, it);
                ngx_shmtx_unlock(&store->shpool->mutex);

            } else {
                ngx_http_mock_session_played(store, session, it);
            }
        }

        if (lock) {
            ngx_shmtx_unlock(&store->shpool->mutex);
        }

        ctx->status = NGX_HTTP_MOCK_HIT;
        ctx->interaction = it;

        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "mock hit: interaction %ui of \"%V\", play %ui",
                       it->index, it->cassette, ctx->seq);

        if (!it->templated) {
            return ngx_http_mock_replay_send(r, it);
        }

        /* templates remember values under the zone's mutex */

        ctx->locked = (locked && (store->writer || store->sessions));
        rc = ngx_http_mock_replay_send(r, it);
        ctx->locked = 0;

        return rc;
    }

    if (ctx->head) {
        key->method = r->method_name;
    }

    chain = NULL;

    if (match->mask & NGX_HTTP_MOCK_MATCH_PATH) {
        chain = ngx_http_mock_store_path(ctx->index, &key->path);
    }

    if (g == NULL
        && chain
        && (match->mask & NGX_HTTP_MOCK_MATCH_METHOD))
    {
        for (it = chain; it; it = it->next_path) {
            if ((it->key.method.len == key->method.len
                 && ngx_strncmp(it->key.method.data, key->method.data,
                                key->method.len) == 0)
                || (r->method == NGX_HTTP_HEAD
                    && it->key.method.len == 3
                    && ngx_strncmp(it->key.method.data, "GET", 3) == 0))
            {
                break;
            }
        }

        if (it == NULL) {
            ctx->status = NGX_HTTP_MOCK_NOT_ALLOWED;
            rc = ngx_http_mock_replay_not_allowed(r, mlcf, key, chain);
            goto done;
        }
    }

    ctx->status = g ? NGX_HTTP_MOCK_EXHAUSTED : NGX_HTTP_MOCK_MISS;

    rc = ngx_http_mock_replay_miss(r, mlcf, ctx->index, key, g, chain);

done:

    if (lock) {
        ngx_shmtx_unlock(&store->shpool->mutex);
    }

    return rc;
}


/*
 * An answer chosen for the request rather than by its sequence: named in
 * the request header that mock_force_header allows, or pinned to the
 * endpoint for the request's session.
 */

ngx_http_mock_interaction_t *
ngx_http_mock_replay_forced(ngx_http_request_t *r,
    ngx_http_mock_loc_conf_t *mlcf, ngx_http_mock_key_t *key)
{
    u_char                       *p, *last;
    ngx_int_t                     n;
    ngx_str_t                     cassette, *value;
    ngx_uint_t                    lock;
    ngx_table_elt_t              *h;
    ngx_http_mock_ctx_t          *ctx;
    ngx_http_mock_index_t        *index;
    ngx_http_mock_store_t        *store;
    ngx_http_mock_interaction_t  *it;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);
    store = mlcf->store;

    value = NULL;

    if (mlcf->force_header.len) {
        h = ngx_http_mock_header_in(r, &mlcf->force_header);
        value = h ? &h->value : NULL;
    }

    /* most requests are not forced: no lock for them */

    if (value == NULL
        && (ctx->session.len == 0 || store->sh->nforced == 0))
    {
        return NULL;
    }

    lock = (store->writer || store->sessions || ctx->session.len);

    if (lock) {
        ngx_shmtx_lock(&store->shpool->mutex);
    }

    it = NULL;

    if (value) {

        /* "N", or "cassette.yaml#N" */

        last = value->data + value->len;
        p = ngx_strlchr(value->data, last, '#');

        ngx_str_null(&cassette);

        if (p) {
            cassette.data = value->data;
            cassette.len = p - value->data;
            p++;

        } else {
            p = value->data;
        }

        n = ngx_atoi(p, last - p);

        if (n != NGX_ERROR) {
            index = ctx->index ? ctx->index
                               : ngx_http_mock_current(store->shared);

            it = ngx_http_mock_interaction_find(index, &key->path,
                                                cassette.len ? &cassette
                                                             : NULL,
                                                n);
        }

        if (it == NULL) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "mock: \"%V: %V\" names no recorded interaction",
                          &mlcf->force_header, value);
        }

    } else {
        it = ngx_http_mock_session_forced(store, &ctx->session,
                                          &key->method, &key->path);

        /*
         * A forced answer is in the index that was current when it was
         * pinned: after a reload since the request began, not the one
         * the request holds.
         */

        if (it) {
            index = store->sessions
                    ? ngx_http_mock_session_index(store, &ctx->session, 0,
                                                  NULL, NULL)
                    : ngx_http_mock_store_current(r, store);

            if (index == NULL
                || (store->sessions && index != ctx->index
                    && ngx_http_mock_store_hold(r, index) != NGX_OK))
            {
                it = NULL;
            }
        }
    }

    if (it && ctx->session.len) {
        ngx_http_mock_session_played(store, &ctx->session, it);
    }

    if (lock) {
        ngx_shmtx_unlock(&store->shpool->mutex);
    }

    return it;
}


/*
 * Interaction n of a cassette (any, or the one whose file name is given):
 * on the path's chain, which holds recordings too, or among those loaded.
 */

ngx_http_mock_interaction_t *
ngx_http_mock_interaction_find(ngx_http_mock_index_t *index, ngx_str_t *path,
    ngx_str_t *cassette, ngx_uint_t n)
{
    ngx_uint_t                    i;
    ngx_http_mock_interaction_t  *it;

    if (index == NULL) {
        return NULL;
    }

    it = path ? ngx_http_mock_store_path(index, path) : NULL;

    for ( /* void */ ; it; it = it->next_path) {
        if (it->index == n
            && ngx_http_mock_cassette_named(it->cassette, cassette))
        {
            return it;
        }
    }

    for (i = 0; i < index->nloaded; i++) {
        it = index->interactions[i];

        if (it->index == n
            && ngx_http_mock_cassette_named(it->cassette, cassette))
        {
            return it;
        }
    }

    return NULL;
}


/* the parts of this request that the matchers compare, filters applied */

ngx_int_t
ngx_http_mock_live_key(ngx_http_request_t *r, ngx_http_mock_loc_conf_t *mlcf,
    ngx_http_mock_key_t *key)
{
    ngx_str_t                body, *type;
    ngx_http_mock_ctx_t     *ctx;
    ngx_http_mock_ignore_t  *ig;

    if (ngx_http_mock_request_key(r, mlcf, key) != NGX_OK) {
        return NGX_ERROR;
    }

    type = r->headers_in.content_type ? &r->headers_in.content_type->value
                                      : NULL;

    ig = mlcf->match->ignore;

    if (ig && ngx_http_mock_live_ignored(r, ig) != NGX_OK) {
        return NGX_ERROR;
    }

    if (mlcf->match->mask & NGX_HTTP_MOCK_MATCH_BODY) {

        if (ngx_http_mock_request_body(r, &body) != NGX_OK) {
            return NGX_ERROR;
        }

        if (mlcf->filters
            && ngx_http_mock_filter_body(r->pool, mlcf->filters, type, &body)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (ig && ig->body.nelts) {
            /* made canonical and stripped in one pass */

            ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

            if (ngx_http_mock_ignore_body(ig, r->pool, type, &body,
                                          &key->body, ctx->ignored, 0)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

        } else if (ngx_http_mock_canon_body(r->pool, type, &body, &key->body)
                   != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (ig == NULL) {
        return NGX_OK;
    }

    return ngx_http_mock_live_ignore(r, mlcf, type, key);
}


/* the rules that name something in this request, for a miss report */

static ngx_int_t
ngx_http_mock_live_ignored(ngx_http_request_t *r, ngx_http_mock_ignore_t *ig)
{
    ngx_str_t            *names;
    ngx_uint_t            i, n;
    ngx_http_mock_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);
    n = ngx_http_mock_ignore_rules(ig);

    ctx->ignored = ngx_pcalloc(r->pool, n);
    if (ctx->ignored == NULL) {
        return NGX_ERROR;
    }

    /* ignored headers are no matchers: flagged when the request has them */

    names = ig->headers.elts;

    for (i = 0; i < ig->headers.nelts; i++) {
        if (ngx_http_mock_header_in(r, &names[i])) {
            ctx->ignored[n - ig->headers.nelts + i] = 1;
        }
    }

    return NGX_OK;
}


/*
 * The live key without what mock_ignore names, with the rules that named
 * something flagged for a miss report and the path placeholders captured.
 */

static ngx_int_t
ngx_http_mock_live_ignore(ngx_http_request_t *r,
    ngx_http_mock_loc_conf_t *mlcf, ngx_str_t *type, ngx_http_mock_key_t *key)
{
    u_char                  *buf;
    ngx_http_mock_ctx_t     *ctx;
    ngx_http_mock_ignore_t  *ig;

    ig = mlcf->match->ignore;
    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    if (ig->paths.nelts == 0 && ig->query.nelts == 0) {
        return NGX_OK;
    }

    buf = ngx_pnalloc(r->pool, ig->path_max + key->query.len);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_mock_ignore_key(ig, type, key, buf, ctx->ignored,
                                    r->pool, &ctx->captures, 0);
}


/* answers with the interaction chosen before the content phase */

ngx_int_t
ngx_http_mock_hit_handler(ngx_http_request_t *r)
{
    ngx_int_t             rc;
    ngx_http_mock_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    if (ngx_http_mock_replay_session(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->interaction->templated & NGX_HTTP_MOCK_TEMPLATED_BODY) {
        /* its templates read the live body */

        rc = ngx_http_read_client_request_body(r,
                                               ngx_http_mock_hit_body_handler);

        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            return rc;
        }

        return NGX_DONE;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_mock_replay_send(r, ctx->interaction);
}


ngx_int_t
ngx_http_mock_replay_send(ngx_http_request_t *r,
    ngx_http_mock_interaction_t *it)
{
    ngx_str_t             body;
    ngx_msec_t            delay;
    ngx_http_mock_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    if (!ctx->delayed) {
        delay = ngx_http_mock_latency_delay(r, it, ctx->own_latency);

        ctx->latency = delay;
        ctx->timed = 1;

        if (delay) {
            /* the interaction is held with its index until the request ends */
            ctx->interaction = it;
            return ngx_http_mock_latency_wait(r, delay,
                                              ngx_http_mock_replay_resume);
        }
    }

    if (it->tpl == NULL) {
        if (ngx_http_mock_replay_headers(r, it) != NGX_OK) {
            return NGX_ERROR;
        }

        if (ngx_http_mock_stream_applies(r, it)) {
            return ngx_http_mock_stream_send(r, it, it->body.data,
                                             it->body.len);
        }

        /* the body is sent from the shared zone, which outlives the request */

        return ngx_http_mock_send(r, it->body.data, it->body.len);
    }

    /* the body first: what it remembers, the headers may use */

    if (ngx_http_mock_stream_render(r, it, &body) != NGX_OK
        || ngx_http_mock_replay_headers(r, it) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (r->headers_out.content_length_n != -1) {
        r->headers_out.content_length_n = body.len;
    }

    if (ngx_http_mock_stream_applies(r, it)) {
        return ngx_http_mock_stream_send(r, it, body.data, body.len);
    }

    return ngx_http_mock_send(r, body.data, body.len);
}


/*
 * The session's own latency, read before the zone's mutex may be held:
 * the answer is sent with the mutex held where the store needs it.
 */

static ngx_int_t
ngx_http_mock_replay_session(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    ngx_http_mock_ctx_t       *ctx;
    ngx_http_mock_shctx_t     *sh;
    ngx_http_mock_latency_t    lat;
    ngx_http_mock_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mock_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    sh = mlcf->store->sh;

    /* a signed request's own latency comes before the session's */

    if (ctx->asked_latency || sh->nsettings == 0 || ctx->session.len == 0) {
        return NGX_OK;
    }

    ngx_shmtx_lock(&sh->shpool->mutex);
    rc = ngx_http_mock_session_setting(sh, NGX_HTTP_MOCK_STATE_LATENCY,
                                       &ctx->session, &lat,
                                       sizeof(ngx_http_mock_latency_t));
    ngx_shmtx_unlock(&sh->shpool->mutex);

    if (rc != NGX_OK) {
        return NGX_OK;
    }

    ctx->own_latency = ngx_palloc(r->pool, sizeof(ngx_http_mock_latency_t));
    if (ctx->own_latency == NULL) {
        return NGX_ERROR;
    }

    *ctx->own_latency = lat;

    return NGX_OK;
}


/*
 * A fault that answers in place of the recording: its answer; NGX_DECLINED
 * when there is none (a fault that breaks the recorded answer is set for
 * the answer to use).
 */

static ngx_int_t
ngx_http_mock_replay_fault(ngx_http_request_t *r)
{
    ngx_http_mock_ctx_t       *ctx;
    ngx_http_mock_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mock_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    if ((mlcf->fault || mlcf->store->sh->nsettings || ctx->asked_fault
         || ctx->fleet_fault)
        && ngx_http_mock_fault_pick(r, 0)
        && ctx->fault->type != NGX_HTTP_MOCK_FAULT_TRUNCATE
        && ctx->fault->type != NGX_HTTP_MOCK_FAULT_MALFORMED)
    {
        return ngx_http_mock_fault_answer(r);
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_mock_replay_resume(ngx_http_request_t *r)
{
    ngx_http_mock_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);
    ctx->delayed = 1;

    return ngx_http_mock_replay_send(r, ctx->interaction);
}


static void
ngx_http_mock_hit_body_handler(ngx_http_request_t *r)
{
    ngx_http_mock_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    ngx_http_finalize_request(r,
                              ngx_http_mock_replay_send(r, ctx->interaction));
}


/* the headers set, then the body from memory that outlives the request */

static ngx_int_t
ngx_http_mock_send(ngx_http_request_t *r, u_char *data, size_t len)
{
    ngx_int_t             rc;
    ngx_buf_t            *b;
    ngx_chain_t           out;
    ngx_http_mock_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    if (ctx->fault) {
        /* a cut or broken body in place of the recorded one */
        return ngx_http_mock_fault_send(r, data, len);
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    if (len == 0) {
        return ngx_http_send_special(r, NGX_HTTP_LAST);
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = data;
    b->last = data + len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* the recorded status and headers, into r->headers_out */

ngx_int_t
ngx_http_mock_replay_headers(ngx_http_request_t *r,
    ngx_http_mock_interaction_t *it)
{
    u_char                    *p;
    ngx_int_t                  rc;
    ngx_str_t                  value;
    ngx_uint_t                 i, dates;
    ngx_table_elt_t           *h;
    ngx_http_mock_header_t    *hh;
    ngx_http_mock_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mock_module);
    dates = mlcf->refresh_dates;

    r->headers_out.status = it->status;
    r->headers_out.content_length_n = it->body.len;

    if (it->status_line.len) {
        r->headers_out.status_line = it->status_line;
    }

    /*
     * These answers end with their header.  nginx's header filter sees to
     * that only when it makes the status line itself, without the reason.
     */

    if (it->status < NGX_HTTP_OK
        || it->status == NGX_HTTP_NO_CONTENT
        || it->status == NGX_HTTP_NOT_MODIFIED)
    {
        r->headers_out.content_length_n = -1;
        r->header_only = 1;
    }

    for (i = 0; i < it->nheaders; i++) {
        hh = &it->headers[i];

        if (hh->type == NGX_HTTP_MOCK_HEADER_SKIP) {
            continue;
        }

        value = hh->value;

        if (it->templated || dates) {
            rc = ngx_http_mock_replay_value(r, it, hh, &value);

            if (rc == NGX_DECLINED) {
                continue;
            }

            if (rc != NGX_OK) {
                return NGX_ERROR;
            }
        }

        if (hh->type == NGX_HTTP_MOCK_HEADER_CONTENT_TYPE) {
            if (r->headers_out.content_type.len) {
                continue;
            }

            r->headers_out.content_type = value;

            p = ngx_strlchr(value.data, value.data + value.len, ';');
            r->headers_out.content_type_len = p ? (size_t) (p - value.data)
                                                : value.len;
            continue;
        }

        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        h->hash = 1;
        h->key = hh->name;
        h->value = value;
        h->lowcase_key = hh->lowcase;
#if (nginx_version >= 1023000)
        h->next = NULL;
#endif

        switch (hh->type) {

        case NGX_HTTP_MOCK_HEADER_DATE:
            r->headers_out.date = h;
            break;

        case NGX_HTTP_MOCK_HEADER_SERVER:
            r->headers_out.server = h;
            break;

        case NGX_HTTP_MOCK_HEADER_CONTENT_ENCODING:
            r->headers_out.content_encoding = h;
            break;
        }
    }

    return NGX_OK;
}


/* a header's value as its template and mock_refresh_dates make it */

static ngx_int_t
ngx_http_mock_replay_value(ngx_http_request_t *r,
    ngx_http_mock_interaction_t *it, ngx_http_mock_header_t *hh,
    ngx_str_t *value)
{
    ngx_int_t                  rc;
    ngx_http_mock_loc_conf_t  *mlcf;

    if (hh->tpl) {
        rc = ngx_http_mock_render_header(r, it, hh, value);

        if (rc != NGX_OK) {
            return rc;
        }
    }

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mock_module);

    if (mlcf->refresh_dates
        && (hh->type == NGX_HTTP_MOCK_HEADER_DATE
            || hh->type == NGX_HTTP_MOCK_HEADER_EXPIRES
            || hh->type == NGX_HTTP_MOCK_HEADER_LAST_MODIFIED
            || hh->type == NGX_HTTP_MOCK_HEADER_SET_COOKIE))
    {
        if (ngx_http_mock_dates_refresh(r, it, hh, value) == NGX_ERROR) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mock_replay_not_allowed(ngx_http_request_t *r,
    ngx_http_mock_loc_conf_t *mlcf, ngx_http_mock_key_t *key,
    ngx_http_mock_interaction_t *chain)
{
    u_char                       *p, *last, *text;
    size_t                        len;
    ngx_uint_t                    i, n;
    ngx_str_t                     methods[NGX_HTTP_MOCK_ALLOW_MAX];
    ngx_table_elt_t              *h;
    ngx_http_mock_interaction_t  *it;

    n = 0;
    len = 0;

    for (it = chain; it && n < NGX_HTTP_MOCK_ALLOW_MAX; it = it->next_path) {
        for (i = 0; i < n; i++) {
            if (methods[i].len == it->key.method.len
                && ngx_strncmp(methods[i].data, it->key.method.data,
                               methods[i].len) == 0)
            {
                break;
            }
        }

        if (i == n) {
            methods[n++] = it->key.method;
            len += it->key.method.len + 2;
        }
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->value.data = ngx_pnalloc(r->pool, len);
    if (h->value.data == NULL) {
        return NGX_ERROR;
    }

    p = h->value.data;

    for (i = 0; i < n; i++) {
        if (i) {
            *p++ = ','; *p++ = ' ';
        }

        p = ngx_http_mock_cpymem(p, methods[i].data, methods[i].len);
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Allow");
    h->value.len = p - h->value.data;
    h->lowcase_key = (u_char *) "allow";
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "mock: method %V is not recorded for \"%V\" in \"%V\", "
                  "recorded: %V", &r->method_name, &key->path,
                  &mlcf->store->path, &h->value);

    len = sizeof("mock: method  is not recorded for path \"\"\n"
                 "recorded methods: \n") - 1
          + r->method_name.len + key->path.len + h->value.len;

    text = ngx_pnalloc(r->pool, len);
    if (text == NULL) {
        return NGX_ERROR;
    }

    last = ngx_slprintf(text, text + len,
                        "mock: method %V is not recorded for path \"%V\"\n"
                        "recorded methods: %V\n",
                        &r->method_name, &key->path, &h->value);

    return ngx_http_mock_send_text(r, NGX_HTTP_NOT_ALLOWED, text,
                                   last - text);
}


static ngx_int_t
ngx_http_mock_replay_miss(ngx_http_request_t *r,
    ngx_http_mock_loc_conf_t *mlcf, ngx_http_mock_index_t *index,
    ngx_http_mock_key_t *key, ngx_http_mock_group_t *played,
    ngx_http_mock_interaction_t *chain)
{
    u_char                       *text, *p, *last, *start, *q;
    size_t                        len;
    ngx_uint_t                    i, n;
    ngx_http_mock_ctx_t          *ctx;
    ngx_http_mock_near_t          near[NGX_HTTP_MOCK_NEAR_MISSES];
    ngx_http_mock_interaction_t  *it;

    len = 512 + r->method_name.len + r->unparsed_uri.len + key->path.len
          + mlcf->store->path.len + mlcf->match->text.len;

    if (played) {
        n = 0;

        for (i = 0; i < played->n && i < NGX_HTTP_MOCK_NEAR_SCAN; i++) {
            len += played->items[i]->cassette->len + NGX_INT_T_LEN + 16;
        }

    } else {
        n = ngx_http_mock_near_misses(mlcf, index, key, chain, near);

        for (i = 0; i < n; i++) {
            it = near[i].it;
            len += it->cassette->len + it->key.method.len + it->uri.len
                   + ngx_http_mock_match_names_len(near[i].diff)
                   + NGX_INT_T_LEN + 64 + NGX_HTTP_MOCK_DETAIL_LEN;
        }
    }

    if (mlcf->match->ignore) {
        len += ngx_http_mock_ignore_report_len(mlcf->match->ignore);
    }

    text = ngx_pnalloc(r->pool, len);
    if (text == NULL) {
        return NGX_ERROR;
    }

    last = text + len;

    p = ngx_slprintf(text, last, "mock: no recorded interaction matches "
                     "%V %V\n", &r->method_name, &r->unparsed_uri);

    if (key->path.len != r->uri.len
        || ngx_strncmp(key->path.data, r->uri.data, r->uri.len) != 0)
    {
        p = ngx_slprintf(p, last, "compared as path: %V\n", &key->path);
    }

    p = ngx_slprintf(p, last, "cassette: %V\nmatchers: %V\n",
                     &mlcf->store->path, &mlcf->match->text);

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    if (mlcf->match->ignore && ctx->ignored) {
        start = p;
        p = ngx_slprintf(p, last, "ignored: ");
        q = ngx_http_mock_ignore_report(p, last, mlcf->match->ignore,
                                        ctx->ignored);

        if (q == p) {
            p = start;

        } else if (q < last) {
            p = q;
            *p++ = '\n';
        }
    }

    if (played) {
        p = ngx_slprintf(p, last, "all %ui matching interactions were "
                         "already played:\n", played->n);

        for (i = 0; i < played->n && i < NGX_HTTP_MOCK_NEAR_SCAN; i++) {
            it = played->items[i];
            p = ngx_slprintf(p, last, "  #%ui in %V\n", it->index,
                             it->cassette);
        }

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "mock: \"%V %V\" already played: all %ui matching "
                      "interactions in \"%V\" were used",
                      &r->method_name, &r->unparsed_uri, played->n,
                      &mlcf->store->path);

    } else if (n == 0) {
        p = ngx_slprintf(p, last, "no recorded interactions are close\n");

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "mock: no recorded interaction matches \"%V %V\" "
                      "in \"%V\"", &r->method_name, &r->unparsed_uri,
                      &mlcf->store->path);

    } else {
        p = ngx_slprintf(p, last, "closest recorded interactions:\n");

        for (i = 0; i < n; i++) {
            it = near[i].it;

            p = ngx_slprintf(p, last, "  #%ui in %V: %V %V\n"
                             "    differs in: ",
                             it->index, it->cassette, &it->key.method,
                             &it->uri);

            p = ngx_http_mock_differs(r, p, last - 1, mlcf, key, &near[i]);
            *p++ = '\n';
        }

        it = near[0].it;

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "mock: no recorded interaction matches \"%V %V\" "
                      "in \"%V\"; closest is #%ui in \"%V\"",
                      &r->method_name, &r->unparsed_uri, &mlcf->store->path,
                      it->index, it->cassette);
    }

    /* kept in the zone by the journal, for the admin */

    ctx->report.data = text;
    ctx->report.len = p - text;

    return ngx_http_mock_send_text(r, mlcf->miss_status, text, p - text);
}


/*
 * The recorded interactions that fail the fewest matchers: those with the
 * same path when paths are matched, else the first ones of the store.
 */

static ngx_uint_t
ngx_http_mock_near_misses(ngx_http_mock_loc_conf_t *mlcf,
    ngx_http_mock_index_t *index, ngx_http_mock_key_t *key,
    ngx_http_mock_interaction_t *chain, ngx_http_mock_near_t *near)
{
    ngx_uint_t                    i, j, n, scanned, diff, score;
    ngx_http_mock_interaction_t  *it;

    n = 0;

    it = chain ? chain : (index->nloaded ? index->interactions[0] : NULL);

    for (scanned = 0; it && scanned < NGX_HTTP_MOCK_NEAR_SCAN; scanned++) {
        diff = ngx_http_mock_key_diff(key, &it->key, mlcf->match);

        for (score = 0, i = diff; i; i &= i - 1) {
            score++;
        }

        for (i = 0; i < n; i++) {
            if (score < near[i].score) {
                break;
            }
        }

        if (i < NGX_HTTP_MOCK_NEAR_MISSES) {
            if (n < NGX_HTTP_MOCK_NEAR_MISSES) {
                n++;
            }

            for (j = n - 1; j > i; j--) {
                near[j] = near[j - 1];
            }

            near[i].it = it;
            near[i].diff = diff;
            near[i].score = score;
        }

        it = chain ? it->next_path
                   : (scanned + 1 < index->nloaded
                      ? index->interactions[scanned + 1] : NULL);
    }

    return n;
}


/*
 * "query ts, body $.sent_at, headers x-request-id": the matchers a near
 * miss fails, with the parts that differ where they can be named.
 */

static u_char *
ngx_http_mock_differs(ngx_http_request_t *r, u_char *p, u_char *last,
    ngx_http_mock_loc_conf_t *mlcf, ngx_http_mock_key_t *key,
    ngx_http_mock_near_t *near)
{
    u_char                       *start;
    ngx_str_t                    *names, *type;
    ngx_uint_t                    bit, i, n;
    ngx_http_mock_interaction_t  *it;

    it = near->it;
    start = p;

    for (bit = 1; bit <= NGX_HTTP_MOCK_MATCH_HEADERS; bit <<= 1) {

        if (!(near->diff & bit)) {
            continue;
        }

        if ((size_t) (last - p) < ngx_http_mock_match_names_len(bit) + 2) {
            break;
        }

        if (p != start) {
            *p++ = ','; *p++ = ' ';
        }

        p = ngx_http_mock_match_names(p, bit);

        switch (bit) {

        case NGX_HTTP_MOCK_MATCH_QUERY:
            p = ngx_http_mock_diff_detail(p, last, bit, NULL, &key->query,
                                          &it->key.query);
            break;

        case NGX_HTTP_MOCK_MATCH_BODY:
            type = r->headers_in.content_type
                   ? &r->headers_in.content_type->value : NULL;

            p = ngx_http_mock_diff_detail(p, last, bit, type, &key->body,
                                          &it->key.body);
            break;

        case NGX_HTTP_MOCK_MATCH_HEADERS:
            names = mlcf->match->headers->elts;
            n = 0;

            for (i = 0; i < mlcf->match->headers->nelts; i++) {
                if (key->headers[i].len == it->key.headers[i].len
                    && (key->headers[i].len == 0
                        || ngx_memcmp(key->headers[i].data,
                                      it->key.headers[i].data,
                                      key->headers[i].len) == 0))
                {
                    continue;
                }

                p = ngx_slprintf(p, last, "%s %V", n++ ? "," : "",
                                 &names[i]);
            }

            break;
        }
    }

    return p;
}


/* the cassette is the file (its base name), or any when file is NULL */

static ngx_int_t
ngx_http_mock_cassette_named(ngx_str_t *name, ngx_str_t *file)
{
    if (file == NULL) {
        return 1;
    }

    return name->len >= file->len + 1
           && name->data[name->len - file->len - 1] == '/'
           && ngx_strncmp(name->data + name->len - file->len, file->data,
                          file->len) == 0;
}


static ngx_int_t
ngx_http_mock_send_text(ngx_http_request_t *r, ngx_uint_t status,
    u_char *text, size_t len)
{
    ngx_http_mock_ctx_t  *ctx;

    /* a fault breaks recorded answers, never a report */

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);
    ctx->fault = NULL;

    r->headers_out.status = status;
    r->headers_out.content_length_n = len;
    ngx_str_set(&r->headers_out.content_type, "text/plain");
    r->headers_out.content_type_len = sizeof("text/plain") - 1;

    return ngx_http_mock_send(r, text, len);
}
