
/*
 * The worker's connection to Redis (mock_redis) and the commands sent on
 * it.  Each worker keeps one connection, made in the worker, driven by
 * hiredis's async API on the nginx event loop: level-triggered events,
 * timeouts from nginx timers (hiredis 0.14 has no timer hook).  A request
 * waits for its reply without blocking the worker.
 *
 * When Redis cannot answer (down, killed, slower than the timeout, a
 * wrong password, or answering with an error), the caller is told so and
 * uses the instance's own state; a warning is logged once per outage, and
 * the worker connects again by itself; a notice tells when Redis answers
 * again, with or without requests.
 */


#include "ngx_http_mock_module.h"

#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <openssl/sha.h>


#define NGX_HTTP_MOCK_REDIS_RECONNECT  1000

/* commands that wait for the replies in flight, at most, before a write */
#define NGX_HTTP_MOCK_REDIS_HOLD       64

/* a reply, or its NULL, has come for one more command of the connection */
#define ngx_http_mock_redis_answered(ac)                                     \
    ((ngx_http_mock_redis_t *) (ac)->data)->answered++


/* the PING that tells Redis is ready, or frees a failed pipeline's command */
static const char  *ngx_http_mock_redis_ping = "PING";
static size_t       ngx_http_mock_redis_ping_len = 4;


/*
 * A command in flight.  hiredis calls its callback exactly once, with the
 * reply or, when the connection goes, with none: the callback frees it.
 * A request may go before that, or stop waiting; then it is detached.
 */
typedef struct {
    ngx_http_request_t           *r;            /* NULL when detached */
    ngx_http_cleanup_t           *cln;
    ngx_event_t                   timer;
    ngx_http_mock_redis_t        *redis;
    ngx_http_mock_redis_reply_pt  reply;        /* for a request */
    ngx_http_mock_redis_event_pt  event;        /* for the worker */
    void                         *data;
    ngx_uint_t                    waiting;      /* unsigned  waiting:1; */
    ngx_http_mock_redis_value_t  *values;       /* of a pipeline */
    ngx_uint_t                    nvalues;
    ngx_uint_t                    failed;       /* one of it failed */
} ngx_http_mock_redis_cmd_t;


/* a command of a pipeline before its last: its reply is copied */
typedef struct {
    ngx_http_mock_redis_cmd_t    *cmd;
    ngx_uint_t                    n;
} ngx_http_mock_redis_part_t;


static void ngx_http_mock_redis_connect(ngx_http_mock_redis_t *redis);
static void ngx_http_mock_redis_connected(const redisAsyncContext *ac,
    int status);
static void ngx_http_mock_redis_authed(redisAsyncContext *ac, void *reply,
    void *data);
static void ngx_http_mock_redis_ready(ngx_http_mock_redis_t *redis);
static void ngx_http_mock_redis_disconnected(const redisAsyncContext *ac,
    int status);
static void ngx_http_mock_redis_ignored(redisAsyncContext *ac, void *reply,
    void *data);
static void ngx_http_mock_redis_pong(redisAsyncContext *ac, void *reply,
    void *data);
static void ngx_http_mock_redis_connect_timeout(ngx_event_t *ev);
static void ngx_http_mock_redis_reconnect(ngx_event_t *ev);
static void ngx_http_mock_redis_close(ngx_http_mock_redis_t *redis);
static void ngx_http_mock_redis_retry(ngx_http_mock_redis_t *redis);
static void ngx_http_mock_redis_add_read(void *data);
static void ngx_http_mock_redis_del_read(void *data);
static void ngx_http_mock_redis_add_write(void *data);
static void ngx_http_mock_redis_flush(ngx_event_t *ev);
static void ngx_http_mock_redis_write(ngx_http_mock_redis_t *redis);
static void ngx_http_mock_redis_del_write(void *data);
static void ngx_http_mock_redis_cleanup(void *data);
static void ngx_http_mock_redis_read_handler(ngx_event_t *ev);
static void ngx_http_mock_redis_write_handler(ngx_event_t *ev);
static void ngx_http_mock_redis_callback(redisAsyncContext *ac, void *reply,
    void *data);
static void ngx_http_mock_redis_part(redisAsyncContext *ac, void *reply,
    void *data);
static ngx_int_t ngx_http_mock_redis_value(ngx_pool_t *pool,
    redisReply *rep, ngx_http_mock_redis_value_t *v);
static void ngx_http_mock_redis_answer(ngx_http_mock_redis_cmd_t *cmd,
    redisReply *rep);
static void ngx_http_mock_redis_timeout(ngx_event_t *ev);
static void ngx_http_mock_redis_request_cleanup(void *data);
static ngx_http_mock_redis_cmd_t *ngx_http_mock_redis_cmd(
    ngx_http_mock_redis_t *redis, ngx_log_t *log, size_t more);
static int ngx_http_mock_redis_command(ngx_http_mock_redis_t *redis,
    redisCallbackFn *fn, void *data, int argc, const char **argv,
    const size_t *argvlen);
static ngx_int_t ngx_http_mock_redis_issue(ngx_http_mock_redis_t *redis,
    ngx_http_mock_redis_cmd_t *cmd, int argc, const char **argv,
    const size_t *argvlen);


/*
 * mock_redis host:port | unix:path [prefix=...] [timeout=...] [ttl=...]
 *     [password=file] [instance=name]
 */

char *
ngx_http_mock_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mock_main_conf_t *mmcf = conf;

    u_char                  *p;
    uint32_t                 crc;
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

    redis->name = value[1];

    if (value[1].len > 5 && ngx_strncmp(value[1].data, "unix:", 5) == 0) {
        redis->path.data = value[1].data + 5;
        redis->path.len = value[1].len - 5;

        if (ngx_conf_full_name(cf->cycle, &redis->path, 0) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

    } else {
        ngx_memzero(&u, sizeof(ngx_url_t));

        u.url = value[1];
        u.default_port = 6379;

        if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid Redis address "
                               "\"%V\"%s%s", &value[1], u.err ? ": " : "",
                               u.err ? u.err : "");
            return NGX_CONF_ERROR;
        }

        redis->port = ngx_inet_get_port(u.addrs[0].sockaddr);

        (void) ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen,
                             redis->ip, NGX_INET6_ADDRSTRLEN, 0);
    }

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

        if (ngx_strncmp(value[i].data, "password=", 9) == 0) {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;

            if (s.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "password= needs the file that holds "
                                   "the password");
                return NGX_CONF_ERROR;
            }

            if (ngx_http_mock_secret_read(cf, &s, "Redis password file",
                                          &redis->password)
                != NGX_CONF_OK)
            {
                return NGX_CONF_ERROR;
            }

            if (redis->password.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "mock: Redis password file \"%V\" is "
                                   "empty", &s);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "instance=", 9) == 0) {
            redis->instance.data = value[i].data + 9;
            redis->instance.len = value[i].len - 9;

            for (p = redis->instance.data;
                 p < redis->instance.data + redis->instance.len;
                 p++)
            {
                if (*p <= ' ' || *p >= 0x7f || *p == '"' || *p == '\\') {
                    break;
                }
            }

            if (redis->instance.len == 0 || redis->instance.len > 64
                || p < redis->instance.data + redis->instance.len)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid instance \"%V\": 1 to 64 "
                                   "printable characters, no spaces, "
                                   "quotes or backslashes", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\", expected prefix=, "
                           "timeout=, ttl=, password= or instance=",
                           &value[i]);
        return NGX_CONF_ERROR;
    }

    if (redis->instance.len == 0) {

        /* the host, and the prefix for instances that share one host */

        crc = ngx_crc32_long(cf->cycle->prefix.data, cf->cycle->prefix.len);

        redis->instance.data = ngx_pnalloc(cf->pool,
                                           cf->cycle->hostname.len + 10);
        if (redis->instance.data == NULL) {
            return NGX_CONF_ERROR;
        }

        redis->instance.len = ngx_sprintf(redis->instance.data, "%V-%08xD",
                                          &cf->cycle->hostname, crc)
                              - redis->instance.data;
    }

    if (ngx_array_init(&redis->scripts, cf->pool, 4,
                       sizeof(ngx_http_mock_redis_script_t))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    mmcf->redis = redis;

    return NGX_CONF_OK;
}


/*
 * A Lua script the fleet runs with EVALSHA: loaded on every connection
 * before any command, so its digest is known to Redis when it is used.
 */

ngx_http_mock_redis_script_t *
ngx_http_mock_redis_script(ngx_conf_t *cf, ngx_http_mock_redis_t *redis,
    const char *text)
{
    u_char                         md[SHA_DIGEST_LENGTH];
    ngx_http_mock_redis_script_t  *s;

    s = ngx_array_push(&redis->scripts);
    if (s == NULL) {
        return NULL;
    }

    s->text.data = (u_char *) text;
    s->text.len = ngx_strlen(text);

    (void) SHA1(s->text.data, s->text.len, md);
    (void) ngx_hex_dump(s->sha, md, SHA_DIGEST_LENGTH);
    s->sha[2 * SHA_DIGEST_LENGTH] = '\0';

    return s;
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

    redis->flush.handler = ngx_http_mock_redis_flush;
    redis->flush.data = redis;
    redis->flush.log = cycle->log;

    ngx_http_mock_redis_connect(redis);

    return NGX_OK;
}


void
ngx_http_mock_redis_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_mock_redis_t      *redis;
    ngx_http_mock_main_conf_t  *mmcf;

    mmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_mock_module);

    if (mmcf == NULL || mmcf->redis == NULL) {
        return;
    }

    redis = mmcf->redis;

    /* what still waits, a journal's entry among it, goes before the close */

    if (redis->ac && redis->connected) {
        ngx_http_mock_redis_write(redis);
    }

    ngx_http_mock_redis_close(redis);
}


static void
ngx_http_mock_redis_connect(ngx_http_mock_redis_t *redis)
{
    redisAsyncContext  *ac;
    ngx_connection_t   *c;

    if (redis->path.len) {
        ac = redisAsyncConnectUnix((char *) redis->path.data);

    } else {
        ac = redisAsyncConnect((char *) redis->ip, (int) redis->port);
    }

    if (ac == NULL) {
        ngx_http_mock_redis_outage(redis, "cannot connect", "out of memory");
        ngx_http_mock_redis_retry(redis);
        return;
    }

    if (ac->err) {
        ngx_http_mock_redis_outage(redis, "cannot connect", ac->errstr);
        redisAsyncFree(ac);
        ngx_http_mock_redis_retry(redis);
        return;
    }

    c = ngx_get_connection(ac->c.fd, redis->log);
    if (c == NULL) {
        redisAsyncFree(ac);
        ngx_http_mock_redis_retry(redis);
        return;
    }

    c->data = redis;
    c->read->handler = ngx_http_mock_redis_read_handler;
    c->write->handler = ngx_http_mock_redis_write_handler;
    c->read->log = redis->log;
    c->write->log = redis->log;

    redis->ac = ac;
    redis->conn = c;
    redis->connected = 0;
    redis->held = 0;
    redis->issued = 0;
    redis->answered = 0;
    redis->sent = 0;

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
}


static void
ngx_http_mock_redis_retry(ngx_http_mock_redis_t *redis)
{
    if (!ngx_exiting && !ngx_terminate && !ngx_quit
        && !redis->reconnect.timer_set)
    {
        ngx_add_timer(&redis->reconnect, NGX_HTTP_MOCK_REDIS_RECONNECT);
    }
}


static void
ngx_http_mock_redis_connected(const redisAsyncContext *ac, int status)
{
    ngx_http_mock_redis_t  *redis = ac->data;

    size_t       argvlen[2];
    const char  *argv[2];

    if (status != REDIS_OK) {
        /* hiredis frees the context after this callback */

        if (redis->connect_timer.timer_set) {
            ngx_del_timer(&redis->connect_timer);
        }

        ngx_http_mock_redis_outage(redis, "cannot connect", ac->errstr);

        redis->ac = NULL;
        ngx_http_mock_redis_retry(redis);

        return;
    }

    if (redis->password.len == 0) {
        ngx_http_mock_redis_ready(redis);
        return;
    }

    /* the connect timer goes on until Redis has taken the password */

    argv[0] = "AUTH";
    argvlen[0] = 4;
    argv[1] = (char *) redis->password.data;
    argvlen[1] = redis->password.len;

    if (ngx_http_mock_redis_command(redis, ngx_http_mock_redis_authed, redis,
                                    2, argv, argvlen)
        != REDIS_OK)
    {
        ngx_http_mock_redis_outage(redis, "cannot connect",
                                   "AUTH could not be sent");
        ngx_http_mock_redis_close(redis);
        ngx_http_mock_redis_retry(redis);
    }
}


static void
ngx_http_mock_redis_authed(redisAsyncContext *ac, void *reply, void *data)
{
    ngx_http_mock_redis_t  *redis = data;

    redisReply  *rep = reply;

    ngx_http_mock_redis_answered(ac);

    if (rep == NULL) {
        /* the connection went: told elsewhere */
        return;
    }

    if (rep->type != REDIS_REPLY_STATUS) {

        /* Redis's own words, which never repeat the password */

        ngx_http_mock_redis_outage(redis, "refused the password (AUTH)",
                                   rep->type == REDIS_REPLY_ERROR
                                   ? rep->str : "no status");

        /* closed once hiredis is done with this reply */

        if (redis->connect_timer.timer_set) {
            ngx_del_timer(&redis->connect_timer);
        }

        ngx_add_timer(&redis->connect_timer, 1);
        return;
    }

    ngx_http_mock_redis_ready(redis);
}


/*
 * The connection takes commands: the fleet's scripts are loaded first,
 * in the same pipeline, so that every EVALSHA after them finds its
 * script.  A stalled Redis still accepts connections: it is back only
 * when it answers, and the PING tells it without waiting for a request.
 */

static void
ngx_http_mock_redis_ready(ngx_http_mock_redis_t *redis)
{
    size_t                         argvlen[3];
    ngx_uint_t                     i;
    const char                    *argv[3];
    ngx_http_mock_redis_script_t  *s;

    if (redis->connect_timer.timer_set) {
        ngx_del_timer(&redis->connect_timer);
    }

    redis->connected = 1;

    s = redis->scripts.elts;

    argv[0] = "SCRIPT";
    argvlen[0] = 6;
    argv[1] = "LOAD";
    argvlen[1] = 4;

    for (i = 0; i < redis->scripts.nelts; i++) {
        argv[2] = (char *) s[i].text.data;
        argvlen[2] = s[i].text.len;

        (void) ngx_http_mock_redis_command(redis, NULL, NULL, 3, argv,
                                           argvlen);
    }

    (void) ngx_http_mock_redis_command(redis, ngx_http_mock_redis_pong, redis,
                                       1, &ngx_http_mock_redis_ping,
                                       &ngx_http_mock_redis_ping_len);
}


static void
ngx_http_mock_redis_ignored(redisAsyncContext *ac, void *reply, void *data)
{
    ngx_http_mock_redis_answered(ac);
}


static void
ngx_http_mock_redis_pong(redisAsyncContext *ac, void *reply, void *data)
{
    ngx_http_mock_redis_t  *redis = data;

    redisReply  *rep = reply;

    ngx_http_mock_redis_answered(ac);

    /* no reply: the connection went, and its loss is told elsewhere */

    if (rep && rep->type == REDIS_REPLY_STATUS) {
        ngx_http_mock_redis_back(redis);
    }
}


/* one notice at the end of an outage, whichever worker sees it first */

void
ngx_http_mock_redis_back(ngx_http_mock_redis_t *redis)
{
    if (ngx_atomic_cmp_set(redis->down, 1, 0)) {
        ngx_log_error(NGX_LOG_NOTICE, redis->log, 0,
                      "mock: Redis \"%V\" is back; the fleet's state is "
                      "kept there again", &redis->name);
    }
}


static void
ngx_http_mock_redis_disconnected(const redisAsyncContext *ac, int status)
{
    ngx_http_mock_redis_t  *redis = ac->data;

    /* hiredis frees the context after this callback */

    redis->ac = NULL;
    redis->connected = 0;

    if (redis->connect_timer.timer_set) {
        ngx_del_timer(&redis->connect_timer);
    }

    if (status != REDIS_OK) {
        ngx_http_mock_redis_outage(redis, "lost the connection", ac->errstr);
    }

    ngx_http_mock_redis_retry(redis);
}


/* not connected in time, or a refused password: dropped, tried again */

static void
ngx_http_mock_redis_connect_timeout(ngx_event_t *ev)
{
    ngx_http_mock_redis_t  *redis = ev->data;

    if (!redis->connected) {
        ngx_http_mock_redis_outage(redis, "cannot connect", "timed out");
    }

    ngx_http_mock_redis_close(redis);
    ngx_http_mock_redis_retry(redis);
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

void
ngx_http_mock_redis_outage(ngx_http_mock_redis_t *redis, const char *why,
    const char *detail)
{
    if (ngx_atomic_cmp_set(redis->down, 0, 1)) {
        ngx_log_error(NGX_LOG_WARN, redis->log, 0,
                      "mock: Redis \"%V\" %s (%s): this instance keeps "
                      "counters, forced answers, session values and its "
                      "journal in its own zone until it is back",
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


/*
 * The commands of a turn of the event loop go in one write at its end
 * (a posted event), rather than on the next turn's write event: a
 * request waits a turn less.  Connecting, and a write that the socket
 * did not take whole, wait for the write event.
 *
 * While the replies to an earlier write are still to come, the commands
 * wait for them (up to NGX_HTTP_MOCK_REDIS_HOLD of them): they go
 * together when the last reply is read.  Under load a write then carries
 * what came in during a round trip, not what one turn brought, and Redis
 * and the worker wake once per round trip; a command waits at most for
 * the replies already on their way.
 */

static void
ngx_http_mock_redis_add_write(void *data)
{
    ngx_http_mock_redis_t  *redis = data;

    if (redis->connected && !redis->flushing && redis->conn) {
        if (!redis->flush.posted) {
            ngx_post_event(&redis->flush, &ngx_posted_events);
        }

        return;
    }

    if (redis->conn && !redis->conn->write->active) {
        (void) ngx_add_event(redis->conn->write, NGX_WRITE_EVENT,
                             NGX_LEVEL_EVENT);
    }
}


static void
ngx_http_mock_redis_flush(ngx_event_t *ev)
{
    ngx_http_mock_redis_t  *redis = ev->data;

    if (redis->ac == NULL) {
        return;
    }

    if (redis->answered < redis->sent
        && redis->issued - redis->sent < NGX_HTTP_MOCK_REDIS_HOLD)
    {
        redis->held = 1;
        return;
    }

    ngx_http_mock_redis_write(redis);
}


/*
 * All that waits goes now; a write that the socket does not take whole
 * goes on with the write event, not held behind its own replies.
 */

static void
ngx_http_mock_redis_write(ngx_http_mock_redis_t *redis)
{
    redis->held = 0;
    redis->sent = redis->issued;

    redis->flushing = 1;
    redisAsyncHandleWrite(redis->ac);
    redis->flushing = 0;
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

    if (redis->flush.posted) {
        ngx_delete_posted_event(&redis->flush);
    }

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

    /* the replies in flight are in: the commands held go */

    if (redis->held && redis->ac && redis->answered >= redis->sent
        && !redis->flush.posted)
    {
        ngx_post_event(&redis->flush, &ngx_posted_events);
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


ngx_http_mock_redis_t *
ngx_http_mock_redis_get(ngx_http_request_t *r)
{
    ngx_http_mock_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mock_module);

    return mmcf->redis;
}


/* the connection takes commands now */

ngx_int_t
ngx_http_mock_redis_up(ngx_http_mock_redis_t *redis)
{
    return redis && redis->ac && redis->connected;
}


static ngx_http_mock_redis_cmd_t *
ngx_http_mock_redis_cmd(ngx_http_mock_redis_t *redis, ngx_log_t *log,
    size_t more)
{
    ngx_http_mock_redis_cmd_t  *cmd;

    cmd = ngx_alloc(sizeof(ngx_http_mock_redis_cmd_t) + more, log);
    if (cmd == NULL) {
        return NULL;
    }

    ngx_memzero(cmd, sizeof(ngx_http_mock_redis_cmd_t) + more);

    cmd->redis = redis;

    cmd->timer.handler = ngx_http_mock_redis_timeout;
    cmd->timer.data = cmd;
    cmd->timer.log = log;

    return cmd;
}


/*
 * A command in Redis's protocol, made here: hiredis's own formatting
 * allocates for every argument.  REDIS_OK, or REDIS_ERR.
 */

static int
ngx_http_mock_redis_command(ngx_http_mock_redis_t *redis,
    redisCallbackFn *fn, void *data, int argc, const char **argv,
    const size_t *argvlen)
{
    u_char  *p, *last;
    int      i, rc;
    u_char   buf[2048];

    /* every reply is counted, also of a command nobody waits for */

    if (fn == NULL) {
        fn = ngx_http_mock_redis_ignored;
    }

    buf[0] = '*';
    p = ngx_http_mock_decimal(buf + 1, (uint64_t) argc);
    *p++ = '\r';
    *p++ = '\n';
    last = buf + sizeof(buf);

    for (i = 0; i < argc; i++) {
        if ((size_t) (last - p) < argvlen[i] + NGX_SIZE_T_LEN + 6) {

            /* a long one: as hiredis makes it */

            rc = redisAsyncCommandArgv(redis->ac, fn, data, argc, argv,
                                       argvlen);
            goto issued;
        }

        *p++ = '$';
        p = ngx_http_mock_decimal(p, argvlen[i]);
        *p++ = '\r';
        *p++ = '\n';
        p = ngx_http_mock_cpymem(p, argv[i], argvlen[i]);
        *p++ = '\r';
        *p++ = '\n';
    }

    /*
     * hiredis looks at the byte after a command's first argument: for a
     * command of one, such as PING, it is after the command (the loop
     * above leaves room for it)
     */

    *p = '\0';

    rc = redisAsyncFormattedCommand(redis->ac, fn, data, (char *) buf,
                                    p - buf);

issued:

    if (rc == REDIS_OK) {
        redis->issued++;
    }

    return rc;
}


/* NGX_OK: sent, its callback will come; the command is freed otherwise */

static ngx_int_t
ngx_http_mock_redis_issue(ngx_http_mock_redis_t *redis,
    ngx_http_mock_redis_cmd_t *cmd, int argc, const char **argv,
    const size_t *argvlen)
{
    if (ngx_http_mock_redis_command(redis, ngx_http_mock_redis_callback, cmd,
                                    argc, argv, argvlen)
        != REDIS_OK)
    {
        ngx_free(cmd);
        return NGX_DECLINED;
    }

    cmd->waiting = 1;
    ngx_add_timer(&cmd->timer, redis->timeout);

    return NGX_OK;
}


/*
 * Sends a command for the request, which waits for its reply: the
 * handler gets it (NULL when Redis could not answer in time), and what
 * it returns finalizes the request.  NGX_DONE: the request waits;
 * NGX_DECLINED: Redis is out of reach.
 */

ngx_int_t
ngx_http_mock_redis_call(ngx_http_request_t *r,
    ngx_http_mock_redis_reply_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen)
{
    ngx_http_cleanup_t         *cln;
    ngx_http_mock_redis_t      *redis;
    ngx_http_mock_redis_cmd_t  *cmd;

    redis = ngx_http_mock_redis_get(r);

    if (!ngx_http_mock_redis_up(redis)) {
        return NGX_DECLINED;
    }

    cln = ngx_http_cleanup_add(r, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cmd = ngx_http_mock_redis_cmd(redis, r->connection->log, 0);
    if (cmd == NULL) {
        return NGX_ERROR;
    }

    cmd->r = r;
    cmd->cln = cln;
    cmd->reply = handler;
    cmd->data = data;

    if (ngx_http_mock_redis_issue(redis, cmd, argc, argv, argvlen) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    cln->handler = ngx_http_mock_redis_request_cleanup;
    cln->data = cmd;

    r->main->count++;

    return NGX_DONE;
}


/*
 * Sends n commands for the request in one write, which waits for all
 * their replies: values[i] gets the reply of command i (each a number, a
 * string or nil; the last may be an array, which the handler gets as it
 * is), then the handler is called, with NULL when Redis could not
 * answer one of them.  NGX_DONE: the request waits; NGX_DECLINED: Redis
 * is out of reach.
 */

ngx_int_t
ngx_http_mock_redis_pipeline(ngx_http_request_t *r,
    ngx_http_mock_redis_reply_pt handler, void *data, ngx_uint_t n,
    ngx_http_mock_redis_command_t *cmds, ngx_http_mock_redis_value_t *values)
{
    ngx_uint_t                   i;
    ngx_http_cleanup_t          *cln;
    ngx_http_mock_redis_t       *redis;
    ngx_http_mock_redis_cmd_t   *cmd;
    ngx_http_mock_redis_part_t  *parts;

    redis = ngx_http_mock_redis_get(r);

    if (!ngx_http_mock_redis_up(redis) || n == 0) {
        return NGX_DECLINED;
    }

    cln = ngx_http_cleanup_add(r, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cmd = ngx_http_mock_redis_cmd(redis, r->connection->log,
                                  (n - 1) * sizeof(ngx_http_mock_redis_part_t));
    if (cmd == NULL) {
        return NGX_ERROR;
    }

    cmd->r = r;
    cmd->cln = cln;
    cmd->reply = handler;
    cmd->data = data;
    cmd->values = values;
    cmd->nvalues = n;

    parts = (ngx_http_mock_redis_part_t *) (cmd + 1);

    /*
     * hiredis calls the callbacks in order, each exactly once: the last
     * one, which frees the command, comes after the others.
     */

    for (i = 0; i + 1 < n; i++) {
        parts[i].cmd = cmd;
        parts[i].n = i;

        if (ngx_http_mock_redis_command(redis, ngx_http_mock_redis_part,
                                        &parts[i], cmds[i].argc,
                                        cmds[i].argv, cmds[i].argvlen)
            != REDIS_OK)
        {
            /* the connection is going: the parts sent get their NULL */
            cmd->failed = 1;
            break;
        }
    }

    if (i + 1 < n) {
        cmd->r = NULL;

        if (i == 0) {
            ngx_free(cmd);
            return NGX_DECLINED;
        }

        /* a last command that frees the command once the parts are done */

        (void) ngx_http_mock_redis_command(redis,
                                           ngx_http_mock_redis_callback, cmd,
                                           1, &ngx_http_mock_redis_ping,
                                           &ngx_http_mock_redis_ping_len);

        return NGX_DECLINED;
    }

    if (ngx_http_mock_redis_issue(redis, cmd, cmds[i].argc, cmds[i].argv,
                                  cmds[i].argvlen)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    cln->handler = ngx_http_mock_redis_request_cleanup;
    cln->data = cmd;

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_mock_redis_part(redisAsyncContext *ac, void *reply, void *data)
{
    ngx_http_mock_redis_part_t  *part = data;

    redisReply                 *rep = reply;
    ngx_http_mock_redis_cmd_t  *cmd;

    ngx_http_mock_redis_answered(ac);

    cmd = part->cmd;

    if (rep && rep->type == REDIS_REPLY_ERROR) {
        ngx_http_mock_redis_outage(cmd->redis, "answered with an error",
                                   rep->str);
        cmd->failed = 1;
    }

    /* the request went, or gave up waiting: its pool may be gone */

    if (cmd->r == NULL || cmd->failed) {
        return;
    }

    if (reply == NULL
        || ngx_http_mock_redis_value(cmd->r->pool, reply,
                                     &cmd->values[part->n])
           != NGX_OK)
    {
        cmd->failed = 1;
    }
}


/* a scalar reply, copied; an error is NGX_ERROR (and an outage) */

static ngx_int_t
ngx_http_mock_redis_value(ngx_pool_t *pool, redisReply *rep,
    ngx_http_mock_redis_value_t *v)
{
    ngx_memzero(v, sizeof(ngx_http_mock_redis_value_t));

    switch (rep->type) {

    case REDIS_REPLY_INTEGER:
        v->type = NGX_HTTP_MOCK_REDIS_INTEGER;
        v->integer = rep->integer;
        return NGX_OK;

    case REDIS_REPLY_NIL:
        v->type = NGX_HTTP_MOCK_REDIS_NIL;
        return NGX_OK;

    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
        v->type = NGX_HTTP_MOCK_REDIS_STRING;
        v->str.len = rep->len;
        v->str.data = ngx_pnalloc(pool, rep->len + 1);

        if (v->str.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(v->str.data, rep->str, rep->len);
        v->str.data[rep->len] = '\0';

        return NGX_OK;

    case REDIS_REPLY_ARRAY:
        v->type = NGX_HTTP_MOCK_REDIS_ARRAY;
        return NGX_OK;

    default:
        return NGX_ERROR;
    }
}


/*
 * A command of the worker's own (following a stream): the handler gets
 * the reply, or NULL.  NGX_DECLINED: Redis is out of reach.
 */

ngx_int_t
ngx_http_mock_redis_poll(ngx_http_mock_redis_t *redis,
    ngx_http_mock_redis_event_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen)
{
    ngx_http_mock_redis_cmd_t  *cmd;

    if (!ngx_http_mock_redis_up(redis)) {
        return NGX_DECLINED;
    }

    cmd = ngx_http_mock_redis_cmd(redis, redis->log, 0);
    if (cmd == NULL) {
        return NGX_ERROR;
    }

    cmd->event = handler;
    cmd->data = data;

    return ngx_http_mock_redis_issue(redis, cmd, argc, argv, argvlen);
}


/*
 * A command nothing waits for (a write), sent at once: it is on its way
 * to Redis before the answer that made it goes to the client, so a
 * request that the client sends next, to any instance, comes after it.
 * A command queued instead goes with the next write of the connection,
 * together with the others of the same turn of the event loop.
 */

ngx_int_t
ngx_http_mock_redis_queue(ngx_http_mock_redis_t *redis, int argc,
    const char **argv, const size_t *argvlen)
{
    if (!ngx_http_mock_redis_up(redis)) {
        return NGX_DECLINED;
    }

    if (ngx_http_mock_redis_command(redis, NULL, NULL, argc, argv, argvlen)
        != REDIS_OK)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_mock_redis_send(ngx_http_mock_redis_t *redis, int argc,
    const char **argv, const size_t *argvlen)
{
    if (ngx_http_mock_redis_queue(redis, argc, argv, argvlen) != NGX_OK) {
        return NGX_DECLINED;
    }

    ngx_http_mock_redis_write(redis);

    return NGX_OK;
}


static void
ngx_http_mock_redis_callback(redisAsyncContext *ac, void *reply, void *data)
{
    ngx_http_mock_redis_cmd_t  *cmd = data;

    redisReply             *rep = reply;
    ngx_http_mock_redis_t  *redis;

    ngx_http_mock_redis_answered(ac);

    redis = cmd->redis;

    if (cmd->timer.timer_set) {
        ngx_del_timer(&cmd->timer);
    }

    if (rep && rep->type == REDIS_REPLY_ERROR) {
        ngx_http_mock_redis_outage(redis, "answered with an error", rep->str);

        if (ngx_strncmp(rep->str, "NOSCRIPT", 8) == 0 && redis->ac) {

            /* flushed scripts (SCRIPT FLUSH, a restart): loaded again */

            ngx_http_mock_redis_ready(redis);
        }

        rep = NULL;

    } else if (rep && !cmd->failed) {
        ngx_http_mock_redis_back(redis);
    }

    if (cmd->waiting) {
        ngx_http_mock_redis_answer(cmd, rep);
    }

    ngx_free(cmd);
}


/*
 * The reply (NULL: none) goes to whoever waits for the command: the
 * worker's handler, or the request's, whose result finalizes it.
 */

static void
ngx_http_mock_redis_answer(ngx_http_mock_redis_cmd_t *cmd, redisReply *rep)
{
    ngx_int_t            rc;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    cmd->waiting = 0;

    if (cmd->event) {
        cmd->event(cmd->data, rep);
        return;
    }

    if (cmd->r == NULL) {
        return;
    }

    r = cmd->r;
    c = r->connection;

    /* the last reply of a pipeline is one of its values too */

    if (cmd->values && rep
        && (cmd->failed
            || ngx_http_mock_redis_value(r->pool, rep,
                                         &cmd->values[cmd->nvalues - 1])
               != NGX_OK))
    {
        rep = NULL;
    }

    /* the request's cleanup must not touch the command any more */

    cmd->r = NULL;
    cmd->cln->handler = NULL;

    rc = cmd->reply(r, cmd->data, rep);

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


/*
 * Slower than the timeout: the caller gets no reply, and a Redis this
 * slow is treated as down: the connection is dropped and made again,
 * rather than every request waiting.  The callback, called when the
 * connection goes, frees the command.
 */

static void
ngx_http_mock_redis_timeout(ngx_event_t *ev)
{
    ngx_http_mock_redis_cmd_t  *cmd = ev->data;

    ngx_http_mock_redis_t  *redis;

    redis = cmd->redis;

    ngx_http_mock_redis_outage(redis, "did not answer in time", "timed out");

    ngx_http_mock_redis_answer(cmd, NULL);

    ngx_http_mock_redis_close(redis);
    ngx_http_mock_redis_retry(redis);
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
    cmd->waiting = 0;
}
