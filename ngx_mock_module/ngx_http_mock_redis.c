
/*
 * Sequence counters in Redis (mock_redis), so that several nginx
 * instances share one sequence.  Each worker keeps one connection, made
 * in the worker, driven by hiredis's async API on the nginx event loop:
 * level-triggered events, timeouts from nginx timers (hiredis 0.14 has
 * no timer hook).  A request waits for its counter without blocking the
 * worker.
 *
 * When Redis cannot answer (down, killed, slower than the timeout, or
 * answering with an error), the request is counted in the shared zone
 * instead, a warning is logged once per outage, and the worker connects
 * again by itself; a notice tells when Redis answers again, with or
 * without requests.
 */


#include "ngx_http_mock_module.h"

#include <hiredis/hiredis.h>
#include <hiredis/async.h>


#define NGX_HTTP_MOCK_REDIS_RECONNECT  1000


typedef struct {
    ngx_str_t                     name;         /* as configured */
    u_char                        ip[NGX_INET6_ADDRSTRLEN + 1];
    ngx_uint_t                    port;
    ngx_str_t                     prefix;
    ngx_msec_t                    timeout;
    time_t                        ttl;

    /* the worker's connection */
    redisAsyncContext            *ac;
    ngx_connection_t             *conn;
    ngx_event_t                   reconnect;
    ngx_event_t                   connect_timer;
    ngx_uint_t                    connected;
    ngx_log_t                    *log;
    ngx_atomic_t                 *down;         /* in the shared zone */
} ngx_http_mock_redis_t;


/*
 * A command in flight.  hiredis calls its callback exactly once, with the
 * reply or, when the connection goes, with none: the callback frees it.
 * The request may go before that, or stop waiting; then it is detached.
 */
typedef struct {
    ngx_http_request_t           *r;            /* NULL when detached */
    ngx_http_cleanup_t           *cln;
    ngx_event_t                   timer;
    ngx_http_mock_redis_t        *redis;
    ngx_http_mock_store_t        *store;
    ngx_http_mock_group_t        *group;
    ngx_http_mock_redis_done_pt   done;         /* or a play is resumed */
    void                         *data;
} ngx_http_mock_redis_cmd_t;


static void ngx_http_mock_redis_connect(ngx_http_mock_redis_t *redis);
static void ngx_http_mock_redis_connected(const redisAsyncContext *ac,
    int status);
static void ngx_http_mock_redis_disconnected(const redisAsyncContext *ac,
    int status);
static void ngx_http_mock_redis_pong(redisAsyncContext *ac, void *reply,
    void *data);
static void ngx_http_mock_redis_back(ngx_http_mock_redis_t *redis);
static void ngx_http_mock_redis_connect_timeout(ngx_event_t *ev);
static void ngx_http_mock_redis_reconnect(ngx_event_t *ev);
static void ngx_http_mock_redis_close(ngx_http_mock_redis_t *redis);
static void ngx_http_mock_redis_outage(ngx_http_mock_redis_t *redis,
    const char *why, const char *detail);
static void ngx_http_mock_redis_add_read(void *data);
static void ngx_http_mock_redis_del_read(void *data);
static void ngx_http_mock_redis_add_write(void *data);
static void ngx_http_mock_redis_del_write(void *data);
static void ngx_http_mock_redis_cleanup(void *data);
static void ngx_http_mock_redis_read_handler(ngx_event_t *ev);
static void ngx_http_mock_redis_write_handler(ngx_event_t *ev);
static void ngx_http_mock_redis_reply(redisAsyncContext *ac, void *reply,
    void *data);
static ngx_int_t ngx_http_mock_redis_play(redisReply *rep);
static void ngx_http_mock_redis_timeout(ngx_event_t *ev);
static void ngx_http_mock_redis_request_cleanup(void *data);
static void ngx_http_mock_redis_resume(ngx_http_mock_redis_cmd_t *cmd,
    ngx_int_t n);
static ngx_http_mock_redis_cmd_t *ngx_http_mock_redis_command(
    ngx_http_request_t *r, ngx_http_mock_redis_t *redis);
static void ngx_http_mock_redis_wait(ngx_http_request_t *r,
    ngx_http_mock_redis_cmd_t *cmd);


/* mock_redis host:port [prefix=...] [timeout=...] [ttl=...] */

char *
ngx_http_mock_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mock_main_conf_t *mmcf = conf;

    ngx_str_t               *value, s;
    ngx_url_t                u;
    ngx_uint_t               i;
    ngx_http_mock_redis_t   *redis;

    if (mmcf->redis) {
        return "is duplicate";
    }

    value = cf->args->elts;

    redis = ngx_pcalloc(cf->pool, sizeof(ngx_http_mock_redis_t));
    if (redis == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = value[1];
    u.default_port = 6379;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid Redis address "
                           "\"%V\"%s%s", &value[1], u.err ? ": " : "",
                           u.err ? u.err : "");
        return NGX_CONF_ERROR;
    }

    redis->name = value[1];
    redis->port = ngx_inet_get_port(u.addrs[0].sockaddr);

    (void) ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen, redis->ip,
                         NGX_INET6_ADDRSTRLEN, 0);

    ngx_str_set(&redis->prefix, "mock:");
    redis->timeout = 500;
    redis->ttl = 3600;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "prefix=", 7) == 0) {
            redis->prefix.data = value[i].data + 7;
            redis->prefix.len = value[i].len - 7;
            continue;
        }

        if (ngx_strncmp(value[i].data, "timeout=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            redis->timeout = ngx_parse_time(&s, 0);
            if (redis->timeout == (ngx_msec_t) NGX_ERROR
                || redis->timeout == 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid timeout \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "ttl=", 4) == 0) {
            s.data = value[i].data + 4;
            s.len = value[i].len - 4;

            redis->ttl = ngx_parse_time(&s, 1);
            if (redis->ttl == (time_t) NGX_ERROR || redis->ttl == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid ttl \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\", expected prefix=, "
                           "timeout= or ttl=", &value[i]);
        return NGX_CONF_ERROR;
    }

    mmcf->redis = redis;

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_mock_redis_init_process(ngx_cycle_t *cycle)
{
    ngx_http_mock_redis_t      *redis;
    ngx_http_mock_main_conf_t  *mmcf;

    mmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_mock_module);

    if (mmcf == NULL || mmcf->redis == NULL || mmcf->sh == NULL) {
        return NGX_OK;
    }

    redis = mmcf->redis;

    redis->log = cycle->log;
    redis->down = &mmcf->sh->redis_down;

    redis->reconnect.handler = ngx_http_mock_redis_reconnect;
    redis->reconnect.data = redis;
    redis->reconnect.log = cycle->log;
    redis->reconnect.cancelable = 1;

    redis->connect_timer.handler = ngx_http_mock_redis_connect_timeout;
    redis->connect_timer.data = redis;
    redis->connect_timer.log = cycle->log;
    redis->connect_timer.cancelable = 1;

    ngx_http_mock_redis_connect(redis);

    return NGX_OK;
}


void
ngx_http_mock_redis_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_mock_main_conf_t  *mmcf;

    mmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_mock_module);

    if (mmcf == NULL || mmcf->redis == NULL) {
        return;
    }

    ngx_http_mock_redis_close(mmcf->redis);
}


static void
ngx_http_mock_redis_connect(ngx_http_mock_redis_t *redis)
{
    redisAsyncContext  *ac;
    ngx_connection_t   *c;

    ac = redisAsyncConnect((char *) redis->ip, (int) redis->port);

    if (ac == NULL) {
        ngx_http_mock_redis_outage(redis, "cannot connect", "out of memory");
        goto retry;
    }

    if (ac->err) {
        ngx_http_mock_redis_outage(redis, "cannot connect", ac->errstr);
        redisAsyncFree(ac);
        goto retry;
    }

    c = ngx_get_connection(ac->c.fd, redis->log);
    if (c == NULL) {
        redisAsyncFree(ac);
        goto retry;
    }

    c->data = redis;
    c->read->handler = ngx_http_mock_redis_read_handler;
    c->write->handler = ngx_http_mock_redis_write_handler;
    c->read->log = redis->log;
    c->write->log = redis->log;

    redis->ac = ac;
    redis->conn = c;
    redis->connected = 0;

    ac->data = redis;
    ac->ev.data = redis;
    ac->ev.addRead = ngx_http_mock_redis_add_read;
    ac->ev.delRead = ngx_http_mock_redis_del_read;
    ac->ev.addWrite = ngx_http_mock_redis_add_write;
    ac->ev.delWrite = ngx_http_mock_redis_del_write;
    ac->ev.cleanup = ngx_http_mock_redis_cleanup;

    (void) redisAsyncSetConnectCallback(ac, ngx_http_mock_redis_connected);
    (void) redisAsyncSetDisconnectCallback(ac,
                                           ngx_http_mock_redis_disconnected);

    /* hiredis waits for the socket to be writable to finish connecting */

    ngx_http_mock_redis_add_write(redis);

    ngx_add_timer(&redis->connect_timer, redis->timeout);

    return;

retry:

    if (!ngx_exiting && !ngx_terminate && !ngx_quit) {
        ngx_add_timer(&redis->reconnect, NGX_HTTP_MOCK_REDIS_RECONNECT);
    }
}


static void
ngx_http_mock_redis_connected(const redisAsyncContext *ac, int status)
{
    ngx_http_mock_redis_t  *redis = ac->data;

    if (redis->connect_timer.timer_set) {
        ngx_del_timer(&redis->connect_timer);
    }

    if (status != REDIS_OK) {
        /* hiredis frees the context after this callback */

        ngx_http_mock_redis_outage(redis, "cannot connect", ac->errstr);

        redis->ac = NULL;

        if (!ngx_exiting && !ngx_terminate && !ngx_quit) {
            ngx_add_timer(&redis->reconnect, NGX_HTTP_MOCK_REDIS_RECONNECT);
        }

        return;
    }

    /*
     * A stalled Redis still accepts connections: it is back only when it
     * answers a command.  The PING tells it without waiting for a request
     * to count.
     */

    redis->connected = 1;

    (void) redisAsyncCommand(redis->ac, ngx_http_mock_redis_pong, redis,
                             "PING");
}


static void
ngx_http_mock_redis_pong(redisAsyncContext *ac, void *reply, void *data)
{
    ngx_http_mock_redis_t  *redis = data;

    redisReply  *rep = reply;

    /* no reply: the connection went, and its loss is told elsewhere */

    if (rep && rep->type == REDIS_REPLY_STATUS) {
        ngx_http_mock_redis_back(redis);
    }
}


/* one notice at the end of an outage, whichever worker sees it first */

static void
ngx_http_mock_redis_back(ngx_http_mock_redis_t *redis)
{
    if (ngx_atomic_cmp_set(redis->down, 1, 0)) {
        ngx_log_error(NGX_LOG_NOTICE, redis->log, 0,
                      "mock: Redis \"%V\" is back; counting there again",
                      &redis->name);
    }
}


static void
ngx_http_mock_redis_disconnected(const redisAsyncContext *ac, int status)
{
    ngx_http_mock_redis_t  *redis = ac->data;

    /* hiredis frees the context after this callback */

    redis->ac = NULL;
    redis->connected = 0;

    if (status != REDIS_OK) {
        ngx_http_mock_redis_outage(redis, "lost the connection", ac->errstr);
    }

    if (!ngx_exiting && !ngx_terminate && !ngx_quit
        && !redis->reconnect.timer_set)
    {
        ngx_add_timer(&redis->reconnect, NGX_HTTP_MOCK_REDIS_RECONNECT);
    }
}


static void
ngx_http_mock_redis_connect_timeout(ngx_event_t *ev)
{
    ngx_http_mock_redis_t  *redis = ev->data;

    ngx_http_mock_redis_outage(redis, "cannot connect", "timed out");

    ngx_http_mock_redis_close(redis);

    if (!ngx_exiting && !ngx_terminate && !ngx_quit) {
        ngx_add_timer(&redis->reconnect, NGX_HTTP_MOCK_REDIS_RECONNECT);
    }
}


static void
ngx_http_mock_redis_reconnect(ngx_event_t *ev)
{
    ngx_http_mock_redis_t  *redis = ev->data;

    if (redis->ac == NULL) {
        ngx_http_mock_redis_connect(redis);
    }
}


/* drops the connection; commands in flight get their fallback */

static void
ngx_http_mock_redis_close(ngx_http_mock_redis_t *redis)
{
    redisAsyncContext  *ac;

    if (redis->connect_timer.timer_set) {
        ngx_del_timer(&redis->connect_timer);
    }

    if (redis->reconnect.timer_set) {
        ngx_del_timer(&redis->reconnect);
    }

    ac = redis->ac;

    if (ac) {
        redis->ac = NULL;
        redis->connected = 0;

        /* no disconnect callback for a connection closed here */
        ac->onDisconnect = NULL;

        redisAsyncFree(ac);
    }
}


/* one warning for an outage, whichever worker sees it first */

static void
ngx_http_mock_redis_outage(ngx_http_mock_redis_t *redis, const char *why,
    const char *detail)
{
    if (ngx_atomic_cmp_set(redis->down, 0, 1)) {
        ngx_log_error(NGX_LOG_WARN, redis->log, 0,
                      "mock: Redis \"%V\" %s (%s): counting sequences in "
                      "the shared zone until it is back",
                      &redis->name, why, detail ? detail : "");
    }
}


/* the event hooks hiredis calls */

static void
ngx_http_mock_redis_add_read(void *data)
{
    ngx_http_mock_redis_t  *redis = data;

    if (redis->conn && !redis->conn->read->active) {
        (void) ngx_add_event(redis->conn->read, NGX_READ_EVENT,
                             NGX_LEVEL_EVENT);
    }
}


static void
ngx_http_mock_redis_del_read(void *data)
{
    ngx_http_mock_redis_t  *redis = data;

    if (redis->conn && redis->conn->read->active) {
        (void) ngx_del_event(redis->conn->read, NGX_READ_EVENT, 0);
    }
}


static void
ngx_http_mock_redis_add_write(void *data)
{
    ngx_http_mock_redis_t  *redis = data;

    if (redis->conn && !redis->conn->write->active) {
        (void) ngx_add_event(redis->conn->write, NGX_WRITE_EVENT,
                             NGX_LEVEL_EVENT);
    }
}


static void
ngx_http_mock_redis_del_write(void *data)
{
    ngx_http_mock_redis_t  *redis = data;

    if (redis->conn && redis->conn->write->active) {
        (void) ngx_del_event(redis->conn->write, NGX_WRITE_EVENT, 0);
    }
}


/*
 * hiredis closes the socket itself right after this: the events go, and
 * the nginx connection is given back without closing the descriptor.
 */

static void
ngx_http_mock_redis_cleanup(void *data)
{
    ngx_http_mock_redis_t  *redis = data;

    ngx_connection_t  *c;

    c = redis->conn;

    if (c == NULL) {
        return;
    }

    redis->conn = NULL;

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    c->fd = (ngx_socket_t) -1;
    ngx_free_connection(c);
}


static void
ngx_http_mock_redis_read_handler(ngx_event_t *ev)
{
    ngx_connection_t       *c = ev->data;
    ngx_http_mock_redis_t  *redis = c->data;

    if (redis->ac) {
        redisAsyncHandleRead(redis->ac);
    }
}


static void
ngx_http_mock_redis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t       *c = ev->data;
    ngx_http_mock_redis_t  *redis = c->data;

    if (redis->ac) {
        redisAsyncHandleWrite(redis->ac);
    }
}


ngx_int_t
ngx_http_mock_redis_enabled(ngx_http_request_t *r)
{
    ngx_http_mock_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mock_module);

    return mmcf->redis != NULL;
}


/*
 * Asks Redis for the request's play in the group's sequence and answers
 * when it replies.  NGX_DECLINED: Redis is out of reach, count locally.
 */

ngx_int_t
ngx_http_mock_redis_next(ngx_http_request_t *r, ngx_http_mock_store_t *store,
    ngx_http_mock_group_t *g)
{
    int                         rc;
    u_char                     *p;
    size_t                      len;
    ngx_http_mock_ctx_t        *ctx;
    ngx_http_mock_redis_t      *redis;
    ngx_http_mock_redis_cmd_t  *cmd;
    ngx_http_mock_main_conf_t  *mmcf;
    u_char                      ttl[NGX_INT_T_LEN + 1];

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mock_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    redis = mmcf->redis;

    if (redis->ac == NULL || !redis->connected) {
        return NGX_DECLINED;
    }

    /*
     * The key names the group the same way on every instance: the store
     * (cassette path and matchers), the session, the group's key hash
     * and its first interaction.
     */

    len = redis->prefix.len + ctx->session.len + 3 * NGX_INT_T_LEN + 8;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    len = ngx_sprintf(p, "%V%08xD:%V:%08xD:%ui", &redis->prefix,
                      store->id, &ctx->session, g->hash, g->first->index)
          - p;

    cmd = ngx_http_mock_redis_command(r, redis);
    if (cmd == NULL) {
        return NGX_ERROR;
    }

    cmd->store = store;
    cmd->group = g;

    /*
     * INCR, with the expiry renewed in the same write, gives the play;
     * a HEAD request reads the counter and plays nothing.
     */

    (void) ngx_sprintf(ttl, "%T%Z", redis->ttl * 1000);

    if (ctx->head) {
        rc = redisAsyncCommand(redis->ac, ngx_http_mock_redis_reply, cmd,
                               "GET %b", p, len);

    } else {
        rc = redisAsyncCommand(redis->ac, ngx_http_mock_redis_reply, cmd,
                               "INCR %b", p, len);

        if (rc == REDIS_OK) {
            (void) redisAsyncCommand(redis->ac, NULL, NULL, "PEXPIRE %b %s",
                                     p, len, ttl);
        }
    }

    if (rc != REDIS_OK) {
        ngx_free(cmd);
        return NGX_DECLINED;
    }

    ngx_http_mock_redis_wait(r, cmd);

    return NGX_DONE;
}


static void
ngx_http_mock_redis_reply(redisAsyncContext *ac, void *reply, void *data)
{
    ngx_http_mock_redis_cmd_t  *cmd = data;

    redisReply             *rep = reply;
    ngx_int_t               n;
    ngx_http_mock_redis_t  *redis;

    redis = cmd->redis;

    if (cmd->timer.timer_set) {
        ngx_del_timer(&cmd->timer);
    }

    if (cmd->r == NULL) {
        /* the request went away, or gave up waiting */

    } else if (cmd->done) {
        ngx_http_mock_redis_resume(cmd, (rep && rep->type
                                         == REDIS_REPLY_INTEGER)
                                        ? (ngx_int_t) rep->integer : -1);

    } else if (rep == NULL) {
        ngx_http_mock_redis_resume(cmd, -1);

    } else if ((n = ngx_http_mock_redis_play(rep)) < 0) {
        ngx_http_mock_redis_outage(redis, "answered with an error",
                                   rep->type == REDIS_REPLY_ERROR ? rep->str
                                   : "not a counter");
        ngx_http_mock_redis_resume(cmd, -1);

    } else {
        ngx_http_mock_redis_back(redis);
        ngx_http_mock_redis_resume(cmd, n);
    }

    ngx_free(cmd);
}


/* a command for the request, freed by its callback */

static ngx_http_mock_redis_cmd_t *
ngx_http_mock_redis_command(ngx_http_request_t *r,
    ngx_http_mock_redis_t *redis)
{
    ngx_http_cleanup_t         *cln;
    ngx_http_mock_redis_cmd_t  *cmd;

    cln = ngx_http_cleanup_add(r, 0);
    if (cln == NULL) {
        return NULL;
    }

    cmd = ngx_alloc(sizeof(ngx_http_mock_redis_cmd_t), r->connection->log);
    if (cmd == NULL) {
        return NULL;
    }

    ngx_memzero(cmd, sizeof(ngx_http_mock_redis_cmd_t));

    cmd->r = r;
    cmd->redis = redis;
    cmd->cln = cln;

    return cmd;
}


/* the request waits for the command's reply, at most the timeout */

static void
ngx_http_mock_redis_wait(ngx_http_request_t *r, ngx_http_mock_redis_cmd_t *cmd)
{
    cmd->cln->handler = ngx_http_mock_redis_request_cleanup;
    cmd->cln->data = cmd;

    cmd->timer.handler = ngx_http_mock_redis_timeout;
    cmd->timer.data = cmd;
    cmd->timer.log = r->connection->log;

    ngx_add_timer(&cmd->timer, cmd->redis->timeout);

    r->main->count++;
}


/*
 * The admin reset: the counters of a session, or all, go from Redis too.
 * NGX_DECLINED: Redis is out of reach.
 */

ngx_int_t
ngx_http_mock_redis_reset(ngx_http_request_t *r, ngx_str_t *session,
    ngx_http_mock_redis_done_pt done, void *data)
{
    u_char                     *p;
    size_t                      len;
    ngx_http_mock_redis_t      *redis;
    ngx_http_mock_redis_cmd_t  *cmd;
    ngx_http_mock_main_conf_t  *mmcf;

    static char  script[] =
        "local n = 0 "
        "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do "
        "  n = n + redis.call('DEL', k) "
        "end "
        "return n";

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mock_module);
    redis = mmcf->redis;

    if (redis == NULL || redis->ac == NULL || !redis->connected) {
        return NGX_DECLINED;
    }

    /* session names hold no glob characters: they are %XX-escaped */

    len = redis->prefix.len + (session ? session->len : 0) + 8;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    len = (session ? ngx_sprintf(p, "%V*:%V:*", &redis->prefix, session)
                   : ngx_sprintf(p, "%V*", &redis->prefix))
          - p;

    cmd = ngx_http_mock_redis_command(r, redis);
    if (cmd == NULL) {
        return NGX_ERROR;
    }

    cmd->done = done;
    cmd->data = data;

    if (redisAsyncCommand(redis->ac, ngx_http_mock_redis_reply, cmd,
                          "EVAL %s 0 %b", script, p, len)
        != REDIS_OK)
    {
        ngx_free(cmd);
        return NGX_DECLINED;
    }

    ngx_http_mock_redis_wait(r, cmd);

    return NGX_DONE;
}


/*
 * The plays before this request: INCR's value less one, or for HEAD the
 * counter as it is (none yet: 0).  -1: not a counter.
 */

static ngx_int_t
ngx_http_mock_redis_play(redisReply *rep)
{
    ngx_int_t  n;

    switch (rep->type) {

    case REDIS_REPLY_INTEGER:
        return (rep->integer >= 1) ? (ngx_int_t) rep->integer - 1 : -1;

    case REDIS_REPLY_NIL:
        return 0;

    case REDIS_REPLY_STRING:
        n = ngx_atoi((u_char *) rep->str, rep->len);
        return (n == NGX_ERROR) ? -1 : n;

    default:
        return -1;
    }
}


/* slower than the timeout: this request is counted locally */

static void
ngx_http_mock_redis_timeout(ngx_event_t *ev)
{
    ngx_http_mock_redis_cmd_t  *cmd = ev->data;

    ngx_http_mock_redis_t  *redis;

    redis = cmd->redis;

    ngx_http_mock_redis_outage(redis, "did not answer in time", "timed out");

    /* the callback, called when the connection goes, frees the command */

    ngx_http_mock_redis_resume(cmd, -1);

    /*
     * A Redis that is this slow is treated as down: the connection is
     * dropped and made again, rather than every request waiting.
     */

    ngx_http_mock_redis_close(redis);

    if (!ngx_exiting && !ngx_terminate && !ngx_quit) {
        ngx_add_timer(&redis->reconnect, NGX_HTTP_MOCK_REDIS_RECONNECT);
    }
}


static void
ngx_http_mock_redis_request_cleanup(void *data)
{
    ngx_http_mock_redis_cmd_t  *cmd = data;

    if (cmd->timer.timer_set) {
        ngx_del_timer(&cmd->timer);
    }

    /* hiredis still holds the command: its reply frees it */
    cmd->r = NULL;
}


/*
 * The request's play: n from Redis, or -1 to count it in the zone.  The
 * command is detached from the request; a pending reply frees it.
 */

static void
ngx_http_mock_redis_resume(ngx_http_mock_redis_cmd_t *cmd, ngx_int_t n)
{
    ngx_int_t                  rc;
    ngx_uint_t                 play;
    ngx_connection_t          *c;
    ngx_http_request_t        *r;
    ngx_http_mock_ctx_t       *ctx;
    ngx_http_mock_store_t     *store;
    ngx_http_mock_group_t     *g;

    r = cmd->r;
    c = r->connection;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    store = cmd->store;
    g = cmd->group;

    /* the request's cleanup must not touch the command any more */

    cmd->r = NULL;
    cmd->cln->handler = NULL;

    if (cmd->done) {
        rc = cmd->done(r, cmd->data, n);

        ngx_http_finalize_request(r, rc);
        ngx_http_run_posted_requests(c);
        return;
    }

    if (n >= 0) {
        play = (ngx_uint_t) n;

    } else {

        if (ctx->session.len || store->writer || store->sessions) {
            ngx_shmtx_lock(&store->shpool->mutex);

            play = ctx->session.len
                   ? ngx_http_mock_session_next(store, &ctx->session, g,
                                                ctx->head)
                   : (ctx->head ? g->played
                                : ngx_atomic_fetch_add(&g->played, 1));

            ngx_shmtx_unlock(&store->shpool->mutex);

        } else {
            play = ctx->head ? g->played : ngx_atomic_fetch_add(&g->played, 1);
        }
    }

    rc = ngx_http_mock_replay_play(r, play, 0);

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}
