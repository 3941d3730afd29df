
/*
 * The fleet's state in Redis (mock_redis): the sequences, forced answers,
 * plays, session values, latencies and faults of every session, and the
 * journal, so that several nginx instances behind one balancer answer as
 * one.  The hot path costs one round trip: the forced answer, the play,
 * the session's latency and fault and its values are asked for in one
 * write of plain commands; what only changes the state (plays, values,
 * the journal) is sent without waiting for its reply.
 */


#include "ngx_http_mock_module.h"

#include <hiredis/hiredis.h>


#define NGX_HTTP_MOCK_FLEET_ARGS     16
#define NGX_HTTP_MOCK_FLEET_VALUES   5      /* the commands of a state */
#define NGX_HTTP_MOCK_FLEET_RENEWED  4096
#define NGX_HTTP_MOCK_FLEET_BATCH    64
#define NGX_HTTP_MOCK_FLEET_BATCH_SIZE  (128 * 1024)


typedef struct {
    uint32_t                      hash;
    time_t                        time;
} ngx_http_mock_renewed_t;


typedef struct {
    ngx_http_mock_fleet_done_pt   done;
    void                         *data;
    ngx_str_t                     counter;      /* of the state */
    ngx_uint_t                    head;
    ngx_uint_t                    vars;
    ngx_uint_t                    renewed;      /* the expiry was sent */
    ngx_uint_t                    force;        /* its reply, or n: HMGET */
    ngx_uint_t                    settings;     /* of the latency, fault */
    ngx_uint_t                    n;
    ngx_http_mock_redis_value_t   values[NGX_HTTP_MOCK_FLEET_VALUES];
} ngx_http_mock_fleet_call_t;


static ngx_int_t ngx_http_mock_fleet_state_reply(ngx_http_request_t *r,
    void *data, void *reply);
static ngx_int_t ngx_http_mock_fleet_plain_reply(ngx_http_request_t *r,
    void *data, void *reply);
static ngx_int_t ngx_http_mock_fleet_journal_reply(ngx_http_request_t *r,
    void *data, void *reply);
static ngx_int_t ngx_http_mock_fleet_plays_reply(ngx_http_request_t *r,
    void *data, void *reply);
static void ngx_http_mock_fleet_flush(ngx_event_t *ev);
static ngx_int_t ngx_http_mock_fleet_copy(ngx_pool_t *pool, void *reply,
    ngx_str_t *s);
static ngx_array_t *ngx_http_mock_fleet_pairs(ngx_pool_t *pool,
    void *reply);
static ngx_uint_t ngx_http_mock_fleet_value(ngx_array_t *pairs,
    u_char *name, size_t len);
static ngx_uint_t ngx_http_mock_fleet_renew(ngx_http_mock_redis_t *redis,
    ngx_str_t *key);
static void ngx_http_mock_fleet_touch(ngx_http_mock_redis_t *redis,
    ngx_str_t *key);
static ngx_int_t ngx_http_mock_fleet_key(ngx_pool_t *pool,
    ngx_http_mock_redis_t *redis, ngx_str_t *key, const char *fmt, ...);
static ngx_int_t ngx_http_mock_fleet_counter(ngx_pool_t *pool,
    ngx_http_mock_redis_t *redis, ngx_str_t *key, uint32_t store,
    ngx_str_t *session, uint32_t hash, ngx_uint_t first);
static ngx_int_t ngx_http_mock_fleet_session_key(ngx_pool_t *pool,
    ngx_http_mock_redis_t *redis, ngx_str_t *key, const char *kind,
    size_t len, ngx_str_t *session);
static u_char *ngx_http_mock_fleet_hex(u_char *p, uint32_t v);
static ngx_int_t ngx_http_mock_fleet_id(ngx_pool_t *pool,
    ngx_http_mock_interaction_t *it, ngx_str_t *id);
static void ngx_http_mock_cassette_basename(ngx_str_t *path,
    ngx_str_t *name);
static ngx_int_t ngx_http_mock_fleet_wait(ngx_http_request_t *r,
    ngx_http_mock_redis_reply_pt handler, ngx_http_mock_fleet_done_pt done,
    void *data, int argc, const char **argv, const size_t *argvlen);


/*
 * The keys of a session (ARGV[1], a glob), or of all: the recordings'
 * streams and the journal, which are no session's, stay.
 */

static const char  ngx_http_mock_fleet_reset_lua[] =
    "local n = 0 "
    "local p = string.len(ARGV[2]) "
    "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do "
    "  local rest = string.sub(k, p + 1) "
    "  if string.sub(rest, 1, 4) ~= 'rec:' and rest ~= 'journal' then "
    "    n = n + redis.call('DEL', k) "
    "  end "
    "end "
    "return n";


/*
 * A session's plays: its counters (the part of their names after
 * ARGV[1], the session's prefix) and their values, then the plays that
 * no sequence counts (forced answers, mock_repeats on, fallback).
 */

static const char  ngx_http_mock_fleet_plays_lua[] =
    "local c = {} "
    "local p = string.len(ARGV[1]) "
    "for _, k in ipairs(redis.call('KEYS', ARGV[1] .. '*')) do "
    "  local rest = string.sub(k, p + 1) "
    "  if string.find(rest, ':', 1, true) then "
    "    local v = redis.call('GET', k) "
    "    if v then table.insert(c, rest) table.insert(c, v) end "
    "  end "
    "end "
    "return {c, redis.call('HGETALL', ARGV[2])}";


/*
 * A session's latency and fault, one string "<latency>\n<fault>" in the
 * field "settings" of the hash of its forced answers, which a request
 * reads with them in one HMGET: ARGV[1] names which to set to ARGV[2]
 * ("" forgets it), ARGV[3] is the expiry in ms.  Returns 1 when there
 * was one to forget or it is set, else 0.
 */

static const char  ngx_http_mock_fleet_setting_lua[] =
    "local v = redis.call('HGET', KEYS[1], 'settings') or '\\n' "
    "local nl = string.find(v, '\\n', 1, true) or string.len(v) + 1 "
    "local l, f = string.sub(v, 1, nl - 1), string.sub(v, nl + 1) "
    "local had "
    "if ARGV[1] == 'latency' then had = l l = ARGV[2] "
    "else had = f f = ARGV[2] end "
    "if l == '' and f == '' then redis.call('HDEL', KEYS[1], 'settings') "
    "else redis.call('HSET', KEYS[1], 'settings', l .. '\\n' .. f) "
    "redis.call('PEXPIRE', KEYS[1], ARGV[3]) end "
    "if had ~= '' or ARGV[2] ~= '' then return 1 end "
    "return 0";


static ngx_http_mock_redis_script_t  *ngx_http_mock_fleet_setting_script;
static ngx_http_mock_redis_script_t  *ngx_http_mock_fleet_plays_script;
static ngx_http_mock_redis_script_t  *ngx_http_mock_fleet_reset_script;


ngx_int_t
ngx_http_mock_fleet_init(ngx_conf_t *cf)
{
    ngx_http_mock_main_conf_t  *mmcf;

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mock_module);

    if (mmcf->redis == NULL) {
        return NGX_OK;
    }

    ngx_http_mock_fleet_reset_script =
        ngx_http_mock_redis_script(cf, mmcf->redis,
                                   ngx_http_mock_fleet_reset_lua);

    ngx_http_mock_fleet_plays_script =
        ngx_http_mock_redis_script(cf, mmcf->redis,
                                   ngx_http_mock_fleet_plays_lua);

    ngx_http_mock_fleet_setting_script =
        ngx_http_mock_redis_script(cf, mmcf->redis,
                                   ngx_http_mock_fleet_setting_lua);

    if (ngx_http_mock_fleet_reset_script == NULL
        || ngx_http_mock_fleet_plays_script == NULL
        || ngx_http_mock_fleet_setting_script == NULL)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the fleet is configured: its state is asked for in Redis */

ngx_int_t
ngx_http_mock_fleet_on(ngx_http_request_t *r)
{
    return ngx_http_mock_redis_get(r) != NULL;
}


/*
 * The request's state in the fleet, in one round trip: its forced
 * answer, its play of the group g (when there is one), the session's
 * latency and fault (when it has a name) and, with "vars", the session's
 * values.  done gets it, or NULL when Redis could not answer.  NGX_DONE:
 * the request waits; NGX_DECLINED: Redis is out of reach.
 */

ngx_int_t
ngx_http_mock_fleet_state(ngx_http_request_t *r, ngx_http_mock_store_t *store,
    ngx_http_mock_group_t *g, ngx_str_t *method, ngx_str_t *path,
    ngx_uint_t head, ngx_uint_t vars, ngx_http_mock_fleet_done_pt done,
    void *data)
{
    u_char                 *p;
    size_t                          argvlen[NGX_HTTP_MOCK_FLEET_ARGS];
    ngx_str_t                       counter, force, values, ttl, endpoint;
    const char                     *argv[NGX_HTTP_MOCK_FLEET_ARGS];
    ngx_http_mock_ctx_t            *ctx;
    ngx_http_mock_redis_t          *redis;
    ngx_http_mock_fleet_call_t     *call;
    ngx_http_mock_redis_command_t   cmds[NGX_HTTP_MOCK_FLEET_VALUES];

    redis = ngx_http_mock_redis_get(r);
    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    if (!ngx_http_mock_redis_up(redis)) {
        return NGX_DECLINED;
    }

    /*
     * The counter names the group the same way on every instance: the
     * store (cassette path as configured, and matchers), the session,
     * the group's key hash and its first interaction.
     */

    ngx_str_null(&counter);

    if (g
        && ngx_http_mock_fleet_counter(r->pool, redis, &counter, store->id,
                                       &ctx->session, g->hash,
                                       g->first->index)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_mock_fleet_session_key(r->pool, redis, &force, "fs:", 3,
                                        &ctx->session)
           != NGX_OK
        || (vars
            && ngx_http_mock_fleet_session_key(r->pool, redis, &values,
                                               "vars:", 5, &ctx->session)
               != NGX_OK))
    {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN + 9 + method->len + 1
                             + path->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ttl.data = p;
    ttl.len = ngx_http_mock_decimal(p, (uint64_t) redis->ttl * 1000) - p;

    endpoint.data = p + ttl.len;

    p = ngx_http_mock_fleet_hex(endpoint.data, store->id);
    *p++ = ' ';
    p = ngx_http_mock_cpymem(p, method->data, method->len);
    *p++ = ' ';
    p = ngx_http_mock_cpymem(p, path->data, path->len);

    endpoint.len = p - endpoint.data;

    /*
     * One write, one wait: the play and the expiry renewed, the forced
     * answer and the session's latency and fault (two fields of one
     * hash), and the values; plain commands cost Redis a fraction of a
     * script.
     */

    call = ngx_palloc(r->pool, sizeof(ngx_http_mock_fleet_call_t));
    if (call == NULL) {
        return NGX_ERROR;
    }

    call->done = done;
    call->data = data;
    call->counter = counter;
    call->head = head;
    call->vars = vars;
    call->settings = ctx->session.len != 0;
    call->n = 0;

    if (counter.len) {
        argv[3] = head ? "GET" : "INCR";
        argvlen[3] = head ? 3 : 4;
        argv[4] = (char *) counter.data;
        argvlen[4] = counter.len;

        cmds[call->n].argc = 2;
        cmds[call->n].argv = &argv[3];
        cmds[call->n++].argvlen = &argvlen[3];

        call->renewed = !head && ngx_http_mock_fleet_renew(redis, &counter);

        if (call->renewed) {
            argv[5] = "PEXPIRE";
            argvlen[5] = 7;
            argv[6] = (char *) counter.data;
            argvlen[6] = counter.len;
            argv[7] = (char *) ttl.data;
            argvlen[7] = ttl.len;

            cmds[call->n].argc = 3;
            cmds[call->n].argv = &argv[5];
            cmds[call->n++].argvlen = &argvlen[5];
        }
    }

    argv[0] = "HGET";
    argvlen[0] = 4;
    argv[1] = (char *) force.data;
    argvlen[1] = force.len;
    argv[2] = (char *) endpoint.data;
    argvlen[2] = endpoint.len;

    if (!vars) {

        /* last: its reply, an array, is read whole */

        argv[11] = "HMGET";
        argvlen[11] = 5;
        argv[12] = (char *) force.data;
        argvlen[12] = force.len;
        argv[13] = (char *) endpoint.data;
        argvlen[13] = endpoint.len;
        argv[14] = "settings";
        argvlen[14] = 8;

        call->force = call->n;

        cmds[call->n].argc = 4;
        cmds[call->n].argv = &argv[11];
        cmds[call->n++].argvlen = &argvlen[11];

        return ngx_http_mock_redis_pipeline(r,
                                            ngx_http_mock_fleet_state_reply,
                                            call, call->n, cmds,
                                            call->values);
    }

    call->force = call->n;

    cmds[call->n].argc = 3;
    cmds[call->n].argv = &argv[0];
    cmds[call->n++].argvlen = &argvlen[0];

    argv[11] = "HGET";
    argvlen[11] = 4;
    argv[12] = (char *) force.data;
    argvlen[12] = force.len;
    argv[13] = "settings";
    argvlen[13] = 8;

    call->settings = call->settings ? call->n : 0;

    cmds[call->n].argc = 3;
    cmds[call->n].argv = &argv[11];
    cmds[call->n++].argvlen = &argvlen[11];

    /* last: its reply, an array, is read whole */

    argv[8] = "HGETALL";
    argvlen[8] = 7;
    argv[9] = (char *) values.data;
    argvlen[9] = values.len;

    cmds[call->n].argc = 2;
    cmds[call->n].argv = &argv[8];
    cmds[call->n++].argvlen = &argvlen[8];

    return ngx_http_mock_redis_pipeline(r, ngx_http_mock_fleet_state_reply,
                                        call, call->n, cmds, call->values);
}


static ngx_int_t
ngx_http_mock_fleet_state_reply(ngx_http_request_t *r, void *data,
    void *reply)
{
    ngx_http_mock_fleet_call_t *call = data;

    u_char                       *p;
    size_t                        argvlen[2];
    redisReply                   *rep = reply;
    const char                   *argv[2];
    ngx_http_mock_redis_t        *redis;
    ngx_str_t                     settings;
    ngx_http_mock_redis_value_t  *v;
    ngx_http_mock_fleet_state_t   st;

    if (rep == NULL) {
        return call->done(r, call->data, NULL);
    }

    ngx_memzero(&st, sizeof(ngx_http_mock_fleet_state_t));
    st.play = -1;

    ngx_str_null(&settings);

    v = call->values;

    if (!call->vars) {

        /* HMGET, the last: the forced answer and the settings */

        if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
            return call->done(r, call->data, NULL);
        }

        if ((rep->element[0]->type == REDIS_REPLY_STRING
             && ngx_http_mock_fleet_copy(r->pool, rep->element[0],
                                         &st.forced)
                != NGX_OK)
            || (call->settings
                && rep->element[1]->type == REDIS_REPLY_STRING
                && ngx_http_mock_fleet_copy(r->pool, rep->element[1],
                                            &settings)
                   != NGX_OK))
        {
            return NGX_ERROR;
        }

    } else {
        if (v[call->force].type == NGX_HTTP_MOCK_REDIS_STRING) {
            st.forced = v[call->force].str;
        }

        if (call->settings
            && v[call->settings].type == NGX_HTTP_MOCK_REDIS_STRING)
        {
            settings = v[call->settings].str;
        }
    }

    if (call->counter.len) {

        if (v[0].type == NGX_HTTP_MOCK_REDIS_INTEGER && v[0].integer >= 1) {
            st.play = (ngx_int_t) v[0].integer - 1;

            /* a counter made anew (a reset, an expiry) gets its expiry */

            if (v[0].integer == 1 && !call->renewed && !call->head) {
                ngx_http_mock_fleet_touch(ngx_http_mock_redis_get(r),
                                          &call->counter);
            }

        } else if (v[0].type == NGX_HTTP_MOCK_REDIS_NIL) {
            st.play = 0;

        } else if (v[0].type == NGX_HTTP_MOCK_REDIS_STRING) {
            st.play = ngx_atoi(v[0].str.data, v[0].str.len);

            if (st.play == NGX_ERROR) {
                return call->done(r, call->data, NULL);
            }

        } else {
            return call->done(r, call->data, NULL);
        }

        /* a forced answer plays no sequence: the play is given back */

        if (st.forced.len && !call->head) {
            redis = ngx_http_mock_redis_get(r);

            argv[0] = "DECR";
            argvlen[0] = 4;
            argv[1] = (char *) call->counter.data;
            argvlen[1] = call->counter.len;

            (void) ngx_http_mock_redis_send(redis, 2, argv, argvlen);
        }
    }

    /* "<latency>\n<fault>" */

    if (call->settings) {
        if (settings.data) {
            st.latency = settings;

            p = ngx_strlchr(st.latency.data,
                            st.latency.data + st.latency.len, '\n');

            if (p) {
                st.fault.data = p + 1;
                st.fault.len = st.latency.data + st.latency.len - p - 1;
                st.latency.len = p - st.latency.data;
            }
        }

        st.settings = 1;
    }

    if (call->vars && rep->type == REDIS_REPLY_ARRAY) {
        st.vars = ngx_http_mock_fleet_pairs(r->pool, rep);
        if (st.vars == NULL) {
            return NGX_ERROR;
        }
    }

    return call->done(r, call->data, &st);
}


/* "cassette#N", an interaction named the same way on every instance */

static ngx_int_t
ngx_http_mock_fleet_id(ngx_pool_t *pool, ngx_http_mock_interaction_t *it,
    ngx_str_t *id)
{
    ngx_str_t  name;

    ngx_http_mock_cassette_basename(it->cassette, &name);

    id->data = ngx_pnalloc(pool, name.len + 1 + NGX_INT_T_LEN);
    if (id->data == NULL) {
        return NGX_ERROR;
    }

    id->len = ngx_sprintf(id->data, "%V#%ui", &name, it->index) - id->data;

    return NGX_OK;
}


/*
 * The interaction of a forced answer kept in Redis, as the force header
 * names one: "cassette#N".
 */

ngx_http_mock_interaction_t *
ngx_http_mock_fleet_forced(ngx_http_mock_index_t *index, ngx_str_t *path,
    ngx_str_t *forced)
{
    u_char     *p, *last;
    ngx_int_t   n;
    ngx_str_t   cassette;

    last = forced->data + forced->len;
    p = ngx_strlchr(forced->data, last, '#');

    if (p == NULL) {
        return NULL;
    }

    cassette.data = forced->data;
    cassette.len = p - forced->data;

    n = ngx_atoi(p + 1, last - p - 1);
    if (n == NGX_ERROR) {
        return NULL;
    }

    return ngx_http_mock_interaction_find(index, path, &cassette, n);
}


/*
 * A play the request made, for the fleet's "unused": the session's plays
 * of each interaction, by "cassette#N".
 */

void
ngx_http_mock_fleet_played(ngx_http_request_t *r, ngx_http_mock_store_t *store,
    ngx_http_mock_interaction_t *it)
{
    size_t                  argvlen[4];
    ngx_str_t               key, id;
    const char             *argv[4];
    ngx_http_mock_ctx_t    *ctx;
    ngx_http_mock_redis_t  *redis;

    redis = ngx_http_mock_redis_get(r);
    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    if (!ngx_http_mock_redis_up(redis) || ctx == NULL) {
        return;
    }

    if (ngx_http_mock_fleet_key(r->pool, redis, &key, "%08xD:%V:plays",
                                store->id, &ctx->session)
        != NGX_OK
        || ngx_http_mock_fleet_id(r->pool, it, &id) != NGX_OK)
    {
        return;
    }

    argv[0] = "HINCRBY";
    argvlen[0] = 7;
    argv[1] = (char *) key.data;
    argvlen[1] = key.len;
    argv[2] = (char *) id.data;
    argvlen[2] = id.len;
    argv[3] = "1";
    argvlen[3] = 1;

    (void) ngx_http_mock_redis_send(redis, 4, argv, argvlen);

    ngx_http_mock_fleet_touch(redis, &key);
}


/*
 * The recording request has played the first interaction of a group
 * that it made: the fleet's counter says so too.
 */

void
ngx_http_mock_fleet_consumed(ngx_http_request_t *r,
    ngx_http_mock_store_t *store, uint32_t hash, ngx_uint_t first)
{
    size_t                  argvlen[3];
    ngx_str_t               key;
    const char             *argv[3];
    ngx_http_mock_ctx_t    *ctx;
    ngx_http_mock_redis_t  *redis;

    redis = ngx_http_mock_redis_get(r);
    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    if (!ngx_http_mock_redis_up(redis) || ctx == NULL) {
        return;
    }

    if (ngx_http_mock_fleet_counter(r->pool, redis, &key, store->id,
                                    &ctx->session, hash, first)
        != NGX_OK)
    {
        return;
    }

    argv[0] = "INCR";
    argvlen[0] = 4;
    argv[1] = (char *) key.data;
    argvlen[1] = key.len;

    (void) ngx_http_mock_redis_send(redis, 2, argv, argvlen);

    ngx_http_mock_fleet_touch(redis, &key);
}


/*
 * The session's latency and fault that Redis holds, for the request: when
 * Redis answers, they are the session's, and this instance's are not
 * read (a signed request's own come first still).  A value that does not
 * parse is logged and left out.
 */

ngx_int_t
ngx_http_mock_fleet_settings(ngx_http_request_t *r,
    ngx_http_mock_fleet_state_t *st)
{
    char                     *err;
    ngx_str_t                 args[8];
    ngx_uint_t                n;
    ngx_http_mock_ctx_t      *ctx;
    ngx_http_mock_fault_t    *fault;
    ngx_http_mock_latency_t  *lat;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    if (!st->settings) {
        return NGX_OK;
    }

    ctx->fleet_settings = 1;

    if (!ctx->asked_latency) {
        ctx->own_latency = NULL;
        ctx->asked_latency = 1;
    }

    if (st->latency.len && ctx->own_latency == NULL) {
        lat = ngx_palloc(r->pool, sizeof(ngx_http_mock_latency_t));
        if (lat == NULL) {
            return NGX_ERROR;
        }

        n = ngx_http_mock_words(&st->latency, args, 8);
        err = (n > 8) ? "too many words"
                      : ngx_http_mock_latency_parse(args, n, lat);

        if (err) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "mock: the fleet's latency of session \"%V\" "
                          "is left out: %s", &ctx->session, err);

        } else {
            ctx->own_latency = lat;
        }
    }

    if (st->fault.len) {
        fault = ngx_palloc(r->pool, sizeof(ngx_http_mock_fault_t));
        if (fault == NULL) {
            return NGX_ERROR;
        }

        n = ngx_http_mock_words(&st->fault, args, 8);
        err = (n > 8) ? "too many words"
                      : ngx_http_mock_fault_parse(args, n, fault);

        if (err) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "mock: the fleet's fault of session \"%V\" is "
                          "left out: %s", &ctx->session, err);

        } else {
            ctx->fleet_fault = fault;
        }
    }

    return NGX_OK;
}


/*
 * A fault answered in place of the play that the fleet's counter of the
 * group g counted: the play is given back.
 */

void
ngx_http_mock_fleet_unplay(ngx_http_request_t *r,
    ngx_http_mock_store_t *store, ngx_http_mock_group_t *g)
{
    size_t                  argvlen[2];
    ngx_str_t               key;
    const char             *argv[2];
    ngx_http_mock_ctx_t    *ctx;
    ngx_http_mock_redis_t  *redis;

    redis = ngx_http_mock_redis_get(r);
    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    if (!ngx_http_mock_redis_up(redis) || ctx == NULL || g == NULL) {
        return;
    }

    if (ngx_http_mock_fleet_counter(r->pool, redis, &key, store->id,
                                    &ctx->session, g->hash, g->first->index)
        != NGX_OK)
    {
        return;
    }

    argv[0] = "DECR";
    argvlen[0] = 4;
    argv[1] = (char *) key.data;
    argvlen[1] = key.len;

    (void) ngx_http_mock_redis_send(redis, 2, argv, argvlen);
}


/*
 * The admin sets (value, as printed) or forgets (value NULL) a session's
 * latency or fault ("name") for the fleet: done gets 1 (0: there was none
 * to forget), or NULL.
 */

ngx_int_t
ngx_http_mock_fleet_setting(ngx_http_request_t *r, ngx_str_t *session,
    const char *name, ngx_str_t *value, ngx_http_mock_fleet_done_pt done,
    void *data)
{
    size_t                  argvlen[7];
    ngx_str_t               key, ttl;
    const char             *argv[7];
    ngx_http_mock_redis_t  *redis;

    redis = ngx_http_mock_redis_get(r);

    if (!ngx_http_mock_redis_up(redis)) {
        return NGX_DECLINED;
    }

    if (ngx_http_mock_fleet_key(r->pool, redis, &key, "fs:%V:all", session)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ttl.data = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (ttl.data == NULL) {
        return NGX_ERROR;
    }

    /* as long as the session's counters */

    ttl.len = ngx_sprintf(ttl.data, "%T", redis->ttl * 1000) - ttl.data;

    argv[0] = "EVALSHA";
    argvlen[0] = 7;
    argv[1] = (char *) ngx_http_mock_fleet_setting_script->sha;
    argvlen[1] = 40;
    argv[2] = "1";
    argvlen[2] = 1;
    argv[3] = (char *) key.data;
    argvlen[3] = key.len;
    argv[4] = name;
    argvlen[4] = ngx_strlen(name);
    argv[5] = value ? (char *) value->data : "";
    argvlen[5] = value ? value->len : 0;
    argv[6] = (char *) ttl.data;
    argvlen[6] = ttl.len;

    return ngx_http_mock_fleet_wait(r, ngx_http_mock_fleet_plain_reply, done,
                                    data, 7, argv, argvlen);
}


/* a value a template remembered ("as NAME"), for the whole fleet */

void
ngx_http_mock_fleet_var_set(ngx_http_request_t *r, ngx_str_t *session,
    ngx_str_t *name, ngx_str_t *value)
{
    size_t                  argvlen[4];
    ngx_str_t               key;
    const char             *argv[4];
    ngx_http_mock_redis_t  *redis;

    redis = ngx_http_mock_redis_get(r);

    if (!ngx_http_mock_redis_up(redis)) {
        return;
    }

    if (ngx_http_mock_fleet_key(r->pool, redis, &key, "vars:%V:all", session)
        != NGX_OK)
    {
        return;
    }

    argv[0] = "HSET";
    argvlen[0] = 4;
    argv[1] = (char *) key.data;
    argvlen[1] = key.len;
    argv[2] = (char *) name->data;
    argvlen[2] = name->len;
    argv[3] = value->len ? (char *) value->data : "";
    argvlen[3] = value->len;

    (void) ngx_http_mock_redis_send(redis, 4, argv, argvlen);

    ngx_http_mock_fleet_touch(redis, &key);
}


/*
 * Pins (it) or unpins (NULL) an endpoint's answer for a session, for the
 * fleet.  done gets 1 when Redis did, 0 when there was nothing to unpin,
 * -1 when Redis could not.
 */

ngx_int_t
ngx_http_mock_fleet_force(ngx_http_request_t *r, ngx_http_mock_store_t *store,
    ngx_str_t *session, ngx_str_t *method, ngx_str_t *path,
    ngx_http_mock_interaction_t *it, ngx_http_mock_fleet_done_pt done,
    void *data)
{
    size_t                  argvlen[4];
    ngx_str_t               key, endpoint, id;
    const char             *argv[4];
    ngx_http_mock_redis_t  *redis;

    redis = ngx_http_mock_redis_get(r);

    if (!ngx_http_mock_redis_up(redis)) {
        return NGX_DECLINED;
    }

    /* a session's forced answers, of every store, and its settings */

    if (ngx_http_mock_fleet_key(r->pool, redis, &key, "fs:%V:all", session)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    endpoint.data = ngx_pnalloc(r->pool, 9 + method->len + 1 + path->len);
    if (endpoint.data == NULL) {
        return NGX_ERROR;
    }

    endpoint.len = ngx_sprintf(endpoint.data, "%08xD %V %V", store->id,
                               method, path)
                   - endpoint.data;

    argv[1] = (char *) key.data;
    argvlen[1] = key.len;
    argv[2] = (char *) endpoint.data;
    argvlen[2] = endpoint.len;

    if (it == NULL) {
        argv[0] = "HDEL";
        argvlen[0] = 4;

        return ngx_http_mock_fleet_wait(r, ngx_http_mock_fleet_plain_reply,
                                        done, data, 3, argv, argvlen);
    }

    if (ngx_http_mock_fleet_id(r->pool, it, &id) != NGX_OK) {
        return NGX_ERROR;
    }

    /* a forced answer lasts as long as the session's counters */

    argv[0] = "HSET";
    argvlen[0] = 4;
    argv[3] = (char *) id.data;
    argvlen[3] = id.len;

    if (ngx_http_mock_redis_send(redis, 4, argv, argvlen) != NGX_OK) {
        return NGX_DECLINED;
    }

    argv[0] = "PEXPIRE";
    argvlen[0] = 7;
    argv[2] = (char *) ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (argv[2] == NULL) {
        return NGX_ERROR;
    }

    argvlen[2] = ngx_sprintf((u_char *) argv[2], "%T", redis->ttl * 1000)
                 - (u_char *) argv[2];

    return ngx_http_mock_fleet_wait(r, ngx_http_mock_fleet_plain_reply,
                                    done, data, 3, argv, argvlen);
}


/*
 * The admin reset: the session's keys (or all of them) go from Redis:
 * done gets how many, or -1.
 */

ngx_int_t
ngx_http_mock_fleet_reset(ngx_http_request_t *r, ngx_str_t *session,
    ngx_http_mock_fleet_done_pt done, void *data)
{
    size_t                  argvlen[5];
    ngx_str_t               pattern;
    const char             *argv[5];
    ngx_http_mock_redis_t  *redis;

    redis = ngx_http_mock_redis_get(r);

    if (!ngx_http_mock_redis_up(redis)) {
        return NGX_DECLINED;
    }

    /* session names hold no glob characters: they are %XX-escaped */

    if ((session ? ngx_http_mock_fleet_key(r->pool, redis, &pattern,
                                           "*:%V:*", session)
                 : ngx_http_mock_fleet_key(r->pool, redis, &pattern, "*"))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    argv[0] = "EVALSHA";
    argvlen[0] = 7;
    argv[1] = (char *) ngx_http_mock_fleet_reset_script->sha;
    argvlen[1] = 40;
    argv[2] = "0";
    argvlen[2] = 1;
    argv[3] = (char *) pattern.data;
    argvlen[3] = pattern.len;
    argv[4] = (char *) redis->prefix.data;
    argvlen[4] = redis->prefix.len;

    return ngx_http_mock_fleet_wait(r, ngx_http_mock_fleet_plain_reply, done,
                                    data, 5, argv, argvlen);
}


/* an integer reply: done gets it as st->play, or NULL */

static ngx_int_t
ngx_http_mock_fleet_plain_reply(ngx_http_request_t *r, void *data,
    void *reply)
{
    ngx_http_mock_fleet_call_t *call = data;

    redisReply                  *rep = reply;
    ngx_http_mock_fleet_state_t  st;

    if (rep == NULL || rep->type != REDIS_REPLY_INTEGER) {
        return call->done(r, call->data, NULL);
    }

    ngx_memzero(&st, sizeof(ngx_http_mock_fleet_state_t));
    st.play = (ngx_int_t) rep->integer;

    return call->done(r, call->data, &st);
}


/*
 * The requests of the fleet's journal go to Redis in batches: those a
 * worker answers in one turn of its event loop (at most
 * NGX_HTTP_MOCK_FLEET_BATCH) make one entry of the stream, a line each:
 * the session, a tab, and the entry as the admin shows it.
 */

typedef struct {
    u_char                       *buf;
    size_t                        len;
    ngx_uint_t                    n;
    ngx_uint_t                    size;         /* mock_journal */
    ngx_event_t                   flush;
    ngx_http_mock_redis_t        *redis;
} ngx_http_mock_fleet_batch_t;


static ngx_http_mock_fleet_batch_t  ngx_http_mock_fleet_batch;


void
ngx_http_mock_fleet_journal_add(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx, ngx_uint_t size)
{
    u_char                       *p;
    size_t                        len;
    ngx_str_t                     uri;
    ngx_http_mock_redis_t        *redis;
    ngx_http_mock_fleet_batch_t  *b;

    redis = ngx_http_mock_redis_get(r);
    b = &ngx_http_mock_fleet_batch;

    if (size == 0 || !ngx_http_mock_redis_up(redis)) {
        return;
    }

    uri.data = r->unparsed_uri.data;
    uri.len = ngx_min(r->unparsed_uri.len, 2048);

    len = ctx->session.len + 1
          + sizeof("{\"time\": , \"instance\": , \"session\": , "
                   "\"method\": , \"uri\": , \"result\": , "
                   "\"status\": , \"cassette\": , \"interaction\": }\n")
          + 6 * (redis->instance.len + ctx->session.len + r->method_name.len
                 + uri.len + 32
                 + (ctx->interaction ? ctx->interaction->cassette->len : 0))
          + 4 * NGX_INT_T_LEN;

    if (b->buf == NULL) {
        b->buf = ngx_alloc(NGX_HTTP_MOCK_FLEET_BATCH_SIZE, ngx_cycle->log);
        if (b->buf == NULL) {
            return;
        }

        b->flush.handler = ngx_http_mock_fleet_flush;
        b->flush.data = b;
        b->flush.log = ngx_cycle->log;
    }

    if (len > NGX_HTTP_MOCK_FLEET_BATCH_SIZE) {
        return;
    }

    if (b->len + len > NGX_HTTP_MOCK_FLEET_BATCH_SIZE
        || b->n == NGX_HTTP_MOCK_FLEET_BATCH)
    {
        ngx_http_mock_fleet_flush(&b->flush);
    }

    b->redis = redis;
    b->size = size;

    p = b->buf + b->len;

    if (ctx->session.len) {
        p = ngx_cpymem(p, ctx->session.data, ctx->session.len);
    }

    *p++ = '\t';

    p = ngx_cpymem(p, "{\"time\": ", 9);
    p = ngx_http_mock_decimal(p, (uint64_t) ngx_time());
    p = ngx_cpymem(p, ", \"instance\": ", 14);
    p = ngx_http_mock_json_quote(p, &redis->instance);
    p = ngx_cpymem(p, ", \"session\": ", 13);
    p = ctx->session.len ? ngx_http_mock_json_quote(p, &ctx->session)
                         : ngx_cpymem(p, "null", 4);
    p = ngx_cpymem(p, ", \"method\": ", 12);
    p = ngx_http_mock_json_quote(p, &r->method_name);
    p = ngx_cpymem(p, ", \"uri\": ", 9);
    p = ngx_http_mock_json_quote(p, &uri);
    p = ngx_cpymem(p, ", \"result\": ", 12);
    p = ngx_http_mock_json_quote(p, ngx_http_mock_status_name(ctx->status));
    p = ngx_cpymem(p, ", \"status\": ", 12);
    p = ngx_http_mock_decimal(p, r->headers_out.status);
    p = ngx_cpymem(p, ", \"cassette\": ", 14);

    if (ctx->interaction) {
        p = ngx_http_mock_json_quote(p, ctx->interaction->cassette);
        p = ngx_cpymem(p, ", \"interaction\": ", 17);
        p = ngx_http_mock_decimal(p, ctx->interaction->index);
        *p++ = '}';

    } else {
        p = ngx_cpymem(p, "null, \"interaction\": null}", 26);
    }

    *p++ = '\n';

    b->len = p - b->buf;
    b->n++;

    /* sent at the end of this turn of the event loop */

    if (!b->flush.posted) {
        ngx_post_event(&b->flush, &ngx_posted_events);
    }
}


/* the worker goes: what the journal still holds is sent, and freed */

void
ngx_http_mock_fleet_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_mock_fleet_batch_t  *b;

    b = &ngx_http_mock_fleet_batch;

    if (b->buf == NULL) {
        return;
    }

    if (b->n && b->redis) {
        ngx_http_mock_fleet_flush(&b->flush);
    }

    if (b->flush.posted) {
        ngx_delete_posted_event(&b->flush);
    }

    ngx_free(b->buf);
    b->buf = NULL;
    b->len = 0;
    b->n = 0;
}


static void
ngx_http_mock_fleet_flush(ngx_event_t *ev)
{
    ngx_http_mock_fleet_batch_t  *b = ev->data;

    u_char       *p;
    size_t        argvlen[8];
    ngx_str_t     key;
    const char   *argv[8];
    ngx_pool_t   *pool;
    u_char        max[NGX_INT_T_LEN];

    if (ev->posted) {
        ngx_delete_posted_event(ev);
    }

    if (b->n == 0) {
        return;
    }

    pool = ngx_create_pool(512, ngx_cycle->log);

    if (pool
        && ngx_http_mock_fleet_key(pool, b->redis, &key, "journal") == NGX_OK)
    {
        p = ngx_sprintf(max, "%ui", b->size);

        argv[0] = "XADD";
        argvlen[0] = 4;
        argv[1] = (char *) key.data;
        argvlen[1] = key.len;
        argv[2] = "MAXLEN";
        argvlen[2] = 6;
        argv[3] = "~";
        argvlen[3] = 1;
        argv[4] = (char *) max;
        argvlen[4] = p - max;
        argv[5] = "*";
        argvlen[5] = 1;
        argv[6] = "b";
        argvlen[6] = 1;
        argv[7] = (char *) b->buf;
        argvlen[7] = b->len;

        (void) ngx_http_mock_redis_send(b->redis, 8, argv, argvlen);
    }

    if (pool) {
        ngx_destroy_pool(pool);
    }

    b->len = 0;
    b->n = 0;
}


/*
 * The fleet's journal, newest first as Redis gives it: done gets its
 * entries in st->entries (ngx_http_mock_fleet_entry_t), or NULL.
 */

ngx_int_t
ngx_http_mock_fleet_journal(ngx_http_request_t *r, ngx_uint_t limit,
    ngx_http_mock_fleet_done_pt done, void *data)
{
    u_char                 *p;
    size_t                  argvlen[6];
    ngx_str_t               key;
    const char             *argv[6];
    ngx_http_mock_redis_t  *redis;

    redis = ngx_http_mock_redis_get(r);

    if (!ngx_http_mock_redis_up(redis)) {
        return NGX_DECLINED;
    }

    if (ngx_http_mock_fleet_key(r->pool, redis, &key, "journal") != NGX_OK) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    argv[0] = "XREVRANGE";
    argvlen[0] = 9;
    argv[1] = (char *) key.data;
    argvlen[1] = key.len;
    argv[2] = "+";
    argvlen[2] = 1;
    argv[3] = "-";
    argvlen[3] = 1;
    argv[4] = "COUNT";
    argvlen[4] = 5;
    argv[5] = (char *) p;
    argvlen[5] = ngx_sprintf(p, "%ui", limit) - p;

    return ngx_http_mock_fleet_wait(r, ngx_http_mock_fleet_journal_reply,
                                    done, data, 6, argv, argvlen);
}


static ngx_int_t
ngx_http_mock_fleet_copy(ngx_pool_t *pool, void *reply, ngx_str_t *s)
{
    redisReply  *e = reply;

    s->len = e->len;
    s->data = ngx_pnalloc(pool, e->len + 1);

    if (s->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(s->data, e->str, e->len);

    return NGX_OK;
}


static ngx_int_t
ngx_http_mock_fleet_journal_reply(ngx_http_request_t *r, void *data,
    void *reply)
{
    ngx_http_mock_fleet_call_t *call = data;

    u_char                       *last, *end, *line, *tab;
    size_t                        i, k;
    ngx_str_t                     batch;
    redisReply                   *rep = reply, *e, *fields;
    ngx_http_mock_fleet_entry_t  *en;
    ngx_http_mock_fleet_state_t   st;

    if (rep == NULL || rep->type != REDIS_REPLY_ARRAY) {
        return call->done(r, call->data, NULL);
    }

    ngx_memzero(&st, sizeof(ngx_http_mock_fleet_state_t));

    st.entries = ngx_array_create(r->pool, 4 * rep->elements + 1,
                                  sizeof(ngx_http_mock_fleet_entry_t));
    if (st.entries == NULL) {
        return NGX_ERROR;
    }

    /* entries newest first, as Redis gives them; their lines backwards */

    for (i = 0; i < rep->elements; i++) {
        e = rep->element[i];

        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2
            || e->element[1]->type != REDIS_REPLY_ARRAY)
        {
            continue;
        }

        fields = e->element[1];

        for (k = 0; k + 1 < fields->elements; k += 2) {
            if (fields->element[k]->type != REDIS_REPLY_STRING
                || fields->element[k + 1]->type != REDIS_REPLY_STRING
                || fields->element[k]->len != 1
                || fields->element[k]->str[0] != 'b')
            {
                continue;
            }

            if (ngx_http_mock_fleet_copy(r->pool, fields->element[k + 1],
                                         &batch)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            last = batch.data + batch.len;

            while (last > batch.data) {
                /* the line that ends at last (its '\n' before last) */

                end = (last[-1] == '\n') ? last - 1 : last;

                for (line = end; line > batch.data && line[-1] != '\n';
                     line--)
                {
                    /* void */
                }

                last = line;

                tab = ngx_strlchr(line, end, '\t');
                if (tab == NULL || tab + 1 >= end) {
                    continue;
                }

                en = ngx_array_push(st.entries);
                if (en == NULL) {
                    return NGX_ERROR;
                }

                en->session.data = line;
                en->session.len = tab - line;
                en->json.data = tab + 1;
                en->json.len = end - tab - 1;
            }
        }
    }

    return call->done(r, call->data, &st);
}


/*
 * A session's plays in the fleet: done gets its counters in st->vars
 * ("<group hash>:<first>" and the plays) and the plays no sequence
 * counts in st->entries ("cassette#N" and a count, as ngx_keyval_t),
 * or NULL.
 */

ngx_int_t
ngx_http_mock_fleet_plays(ngx_http_request_t *r, ngx_http_mock_store_t *store,
    ngx_str_t *session, ngx_http_mock_fleet_done_pt done, void *data)
{
    size_t                  argvlen[5];
    ngx_str_t               key, counters;
    const char             *argv[5];
    ngx_http_mock_redis_t  *redis;

    redis = ngx_http_mock_redis_get(r);

    if (!ngx_http_mock_redis_up(redis)) {
        return NGX_DECLINED;
    }

    if (ngx_http_mock_fleet_key(r->pool, redis, &key, "%08xD:%V:plays",
                                store->id, session)
        != NGX_OK
        || ngx_http_mock_fleet_key(r->pool, redis, &counters, "%08xD:%V:",
                                   store->id, session)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    argv[0] = "EVALSHA";
    argvlen[0] = 7;
    argv[1] = (char *) ngx_http_mock_fleet_plays_script->sha;
    argvlen[1] = 40;
    argv[2] = "0";
    argvlen[2] = 1;
    argv[3] = (char *) counters.data;
    argvlen[3] = counters.len;
    argv[4] = (char *) key.data;
    argvlen[4] = key.len;

    return ngx_http_mock_fleet_wait(r, ngx_http_mock_fleet_plays_reply, done,
                                    data, 5, argv, argvlen);
}


/* a flat array of names and values, as ngx_keyval_t */

static ngx_array_t *
ngx_http_mock_fleet_pairs(ngx_pool_t *pool, void *reply)
{
    size_t         i;
    redisReply    *rep = reply;
    ngx_array_t   *a;
    ngx_keyval_t  *kv;

    if (rep->type != REDIS_REPLY_ARRAY) {
        return NULL;
    }

    a = ngx_array_create(pool, rep->elements / 2 + 1, sizeof(ngx_keyval_t));
    if (a == NULL) {
        return NULL;
    }

    for (i = 0; i + 1 < rep->elements; i += 2) {
        if (rep->element[i]->type != REDIS_REPLY_STRING
            || rep->element[i + 1]->type != REDIS_REPLY_STRING)
        {
            continue;
        }

        kv = ngx_array_push(a);
        if (kv == NULL) {
            return NULL;
        }

        if (ngx_http_mock_fleet_copy(pool, rep->element[i], &kv->key)
            != NGX_OK
            || ngx_http_mock_fleet_copy(pool, rep->element[i + 1],
                                        &kv->value)
               != NGX_OK)
        {
            return NULL;
        }
    }

    return a;
}


static ngx_int_t
ngx_http_mock_fleet_plays_reply(ngx_http_request_t *r, void *data,
    void *reply)
{
    ngx_http_mock_fleet_call_t *call = data;

    redisReply                  *rep = reply;
    ngx_http_mock_fleet_state_t  st;

    if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
        return call->done(r, call->data, NULL);
    }

    ngx_memzero(&st, sizeof(ngx_http_mock_fleet_state_t));

    st.vars = ngx_http_mock_fleet_pairs(r->pool, rep->element[0]);
    st.entries = ngx_http_mock_fleet_pairs(r->pool, rep->element[1]);

    if (st.vars == NULL || st.entries == NULL) {
        return NGX_ERROR;
    }

    return call->done(r, call->data, &st);
}


/* a value of "name" among the pairs, as a number; 0 if there is none */

static ngx_uint_t
ngx_http_mock_fleet_value(ngx_array_t *pairs, u_char *name, size_t len)
{
    ngx_int_t      n;
    ngx_uint_t     i;
    ngx_keyval_t  *kv;

    kv = pairs->elts;

    for (i = 0; i < pairs->nelts; i++) {
        if (kv[i].key.len == len
            && ngx_strncmp(kv[i].key.data, name, len) == 0)
        {
            n = ngx_atoi(kv[i].value.data, kv[i].value.len);
            return n > 0 ? (ngx_uint_t) n : 0;
        }
    }

    return 0;
}


/*
 * The plays an interaction has in what ngx_http_mock_fleet_plays gave:
 * one when its group's counter has passed it, and those no sequence
 * counts.
 */

ngx_uint_t
ngx_http_mock_fleet_count(ngx_http_mock_fleet_state_t *st,
    ngx_http_mock_group_t *g, ngx_http_mock_interaction_t *it)
{
    u_char      buf[1024], *p;
    ngx_str_t   name;
    ngx_uint_t  k, plays, played;

    ngx_http_mock_cassette_basename(it->cassette, &name);

    p = ngx_snprintf(buf, sizeof(buf), "%V#%ui", &name, it->index);
    plays = ngx_http_mock_fleet_value(st->entries, buf, p - buf);

    if (g == NULL) {
        return plays;
    }

    p = ngx_sprintf(buf, "%08xD:%ui", g->hash, g->first->index);
    played = ngx_http_mock_fleet_value(st->vars, buf, p - buf);

    for (k = 0; k < g->n; k++) {
        if (g->items[k] == it) {
            return plays + ((k < played) ? 1 : 0);
        }
    }

    return plays;
}


/* a cassette's file name, without its directory */

static void
ngx_http_mock_cassette_basename(ngx_str_t *path, ngx_str_t *name)
{
    u_char  *p;

    for (p = path->data + path->len; p > path->data; p--) {
        if (p[-1] == '/') {
            break;
        }
    }

    name->data = p;
    name->len = path->data + path->len - p;
}


/*
 * A counter's expiry is renewed by its play when this worker has not
 * renewed it in the last half of the ttl: a key lives at least half the
 * ttl after its last play, and Redis is spared a command a play.  The
 * worker remembers the counters it renewed in a small table, where a
 * counter may push out another, which is then renewed once more.
 */

static ngx_uint_t
ngx_http_mock_fleet_renew(ngx_http_mock_redis_t *redis, ngx_str_t *key)
{
    uint32_t                  hash;
    ngx_http_mock_renewed_t  *slot;

    static ngx_http_mock_renewed_t  renewed[NGX_HTTP_MOCK_FLEET_RENEWED];

    hash = ngx_crc32_short(key->data, key->len);
    slot = &renewed[hash % NGX_HTTP_MOCK_FLEET_RENEWED];

    if (slot->hash == hash && slot->time
        && ngx_time() - slot->time < redis->ttl / 2)
    {
        return 0;
    }

    slot->hash = hash;
    slot->time = ngx_time();

    return 1;
}


/* a session key lives ttl from now */

static void
ngx_http_mock_fleet_touch(ngx_http_mock_redis_t *redis, ngx_str_t *key)
{
    size_t       argvlen[3];
    const char  *argv[3];
    u_char       buf[NGX_TIME_T_LEN];

    argv[0] = "PEXPIRE";
    argvlen[0] = 7;
    argv[1] = (char *) key->data;
    argvlen[1] = key->len;
    argv[2] = (char *) buf;
    argvlen[2] = ngx_sprintf(buf, "%T", redis->ttl * 1000) - buf;

    (void) ngx_http_mock_redis_send(redis, 3, argv, argvlen);
}


/* "<prefix>" and the rest, formatted */

static ngx_int_t
ngx_http_mock_fleet_key(ngx_pool_t *pool, ngx_http_mock_redis_t *redis,
    ngx_str_t *key, const char *fmt, ...)
{
    u_char   *p, buf[1024];
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    if (p == buf + sizeof(buf)) {
        return NGX_ERROR;
    }

    key->len = redis->prefix.len + (p - buf);
    key->data = ngx_pnalloc(pool, key->len + 1);

    if (key->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(key->data, redis->prefix.data, redis->prefix.len);
    p = ngx_cpymem(p, buf, key->len - redis->prefix.len);
    *p = '\0';

    return NGX_OK;
}


/*
 * The keys that every request of the fleet names, made without a format:
 * the counter of a group, "<store>:<session>:<hash>:<first>", as
 * ngx_http_mock_fleet_key() makes it with "%08xD:%V:%08xD:%ui", ...
 */

static ngx_int_t
ngx_http_mock_fleet_counter(ngx_pool_t *pool, ngx_http_mock_redis_t *redis,
    ngx_str_t *key, uint32_t store, ngx_str_t *session, uint32_t hash,
    ngx_uint_t first)
{
    u_char  *p;

    p = ngx_pnalloc(pool, redis->prefix.len + 8 + 1 + session->len + 1 + 8
                          + 1 + NGX_INT_T_LEN + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    key->data = p;

    p = ngx_http_mock_cpymem(p, redis->prefix.data, redis->prefix.len);
    p = ngx_http_mock_fleet_hex(p, store);
    *p++ = ':';
    p = ngx_http_mock_cpymem(p, session->data, session->len);
    *p++ = ':';
    p = ngx_http_mock_fleet_hex(p, hash);
    *p++ = ':';
    p = ngx_http_mock_decimal(p, first);
    *p = '\0';

    key->len = p - key->data;

    return NGX_OK;
}


/* ... and a hash of the session, "<kind><session>:all" */

static ngx_int_t
ngx_http_mock_fleet_session_key(ngx_pool_t *pool,
    ngx_http_mock_redis_t *redis, ngx_str_t *key, const char *kind,
    size_t len, ngx_str_t *session)
{
    u_char  *p;

    p = ngx_pnalloc(pool, redis->prefix.len + len + session->len
                          + sizeof(":all"));
    if (p == NULL) {
        return NGX_ERROR;
    }

    key->data = p;

    p = ngx_http_mock_cpymem(p, redis->prefix.data, redis->prefix.len);
    p = ngx_cpymem(p, kind, len);
    p = ngx_http_mock_cpymem(p, session->data, session->len);
    p = ngx_cpymem(p, ":all", sizeof(":all"));

    key->len = p - 1 - key->data;

    return NGX_OK;
}


/* eight lowercase hex digits, as "%08xD" */

static u_char *
ngx_http_mock_fleet_hex(u_char *p, uint32_t v)
{
    ngx_uint_t  i;

    static u_char  hex[] = "0123456789abcdef";

    for (i = 8; i > 0; i--) {
        p[i - 1] = hex[v & 0xf];
        v >>= 4;
    }

    return p + 8;
}


static ngx_int_t
ngx_http_mock_fleet_wait(ngx_http_request_t *r,
    ngx_http_mock_redis_reply_pt handler, ngx_http_mock_fleet_done_pt done,
    void *data, int argc, const char **argv, const size_t *argvlen)
{
    ngx_http_mock_fleet_call_t  *call;

    call = ngx_palloc(r->pool, sizeof(ngx_http_mock_fleet_call_t));
    if (call == NULL) {
        return NGX_ERROR;
    }

    call->done = done;
    call->data = data;

    return ngx_http_mock_redis_call(r, handler, call, argc, argv, argvlen);
}
