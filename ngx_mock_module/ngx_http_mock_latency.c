
/*
 * Latency on replay: the syntax of mock_latency (and of x_mock latency and
 * a session's), the delay it gives an answer, and the wait itself, on a
 * timer of the request's own.  "recorded" replays the upstream's own
 * times, scaled.
 */


#include <math.h>

#include "ngx_http_mock_module.h"


typedef struct {
    ngx_event_t                   ev;
    ngx_http_request_t           *r;
    ngx_http_mock_resume_pt       resume;
} ngx_http_mock_wait_t;


static char *ngx_http_mock_latency_duration(ngx_str_t *s, uint32_t *ms);
static char *ngx_http_mock_latency_recorded(ngx_str_t *args, ngx_uint_t n,
    ngx_http_mock_latency_t *lat);
static ngx_msec_t ngx_http_mock_latency_pick(ngx_http_request_t *r,
    ngx_http_mock_latency_t *lat, ngx_http_mock_interaction_t *it);
static double ngx_http_mock_latency_uniform(ngx_http_request_t *r,
    ngx_http_mock_latency_t *lat, ngx_http_mock_interaction_t *it,
    ngx_uint_t k);
static void ngx_http_mock_latency_timer(ngx_event_t *ev);
static void ngx_http_mock_latency_cleanup(void *data);


char *
ngx_http_mock_latency(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mock_loc_conf_t *mlcf = conf;

    char       *err;
    ngx_str_t  *value;

    if (mlcf->latency.type != NGX_HTTP_MOCK_LATENCY_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    err = ngx_http_mock_latency_parse(&value[1], cf->args->nelts - 1,
                                      &mlcf->latency);
    if (err) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"mock_latency\": %s",
                           err);
        return NGX_CONF_ERROR;
    }

    mlcf->latency_file = cf->conf_file->file.name.data;
    mlcf->latency_line = cf->conf_file->line;

    return NGX_CONF_OK;
}


/*
 * "off", "200ms", "50ms..400ms", "lognormal median=120ms sigma=0.4", the
 * random ones with "seed=N", "recorded" and "recorded x0.5".  Returns
 * NULL, or what is wrong.
 */

char *
ngx_http_mock_latency_parse(ngx_str_t *args, ngx_uint_t n,
    ngx_http_mock_latency_t *lat)
{
    char        *err;
    u_char      *p;
    ngx_int_t    v;
    ngx_str_t    s, a;
    ngx_uint_t   i, median;

    ngx_memzero(lat, sizeof(ngx_http_mock_latency_t));

    if (n == 0) {
        return "a latency is needed";
    }

    s = args[0];

    if (s.len == 3 && ngx_strncmp(s.data, "off", 3) == 0) {
        if (n > 1) {
            return "\"off\" takes nothing after it";
        }

        lat->type = NGX_HTTP_MOCK_LATENCY_OFF;
        return NULL;
    }

    if (s.len == 8 && ngx_strncmp(s.data, "recorded", 8) == 0) {
        return ngx_http_mock_latency_recorded(args, n, lat);
    }

    median = 0;

    if (s.len == 9 && ngx_strncmp(s.data, "lognormal", 9) == 0) {
        lat->type = NGX_HTTP_MOCK_LATENCY_LOGNORMAL;

    } else {
        p = ngx_strlchr(s.data, s.data + s.len, '.');

        if (p && p + 1 < s.data + s.len && p[1] == '.') {
            a.data = s.data;
            a.len = p - s.data;

            err = ngx_http_mock_latency_duration(&a, &lat->min);
            if (err) {
                return err;
            }

            a.data = p + 2;
            a.len = s.data + s.len - a.data;

            err = ngx_http_mock_latency_duration(&a, &lat->max);
            if (err) {
                return err;
            }

            if (lat->min > lat->max) {
                return "the range is empty: its minimum is above its "
                       "maximum";
            }

            lat->type = NGX_HTTP_MOCK_LATENCY_UNIFORM;

        } else {
            err = ngx_http_mock_latency_duration(&s, &lat->min);
            if (err) {
                return err;
            }

            lat->max = lat->min;
            lat->type = NGX_HTTP_MOCK_LATENCY_FIXED;
        }
    }

    for (i = 1; i < n; i++) {
        s = args[i];

        if (s.len > 5 && ngx_strncmp(s.data, "seed=", 5) == 0) {
            v = ngx_atoi(s.data + 5, s.len - 5);

            if (v == NGX_ERROR || v > 0xffffffff) {
                return "\"seed=\" takes a number from 0 to 4294967295";
            }

            lat->seed = (uint32_t) v;
            lat->seeded = 1;
            continue;
        }

        if (lat->type != NGX_HTTP_MOCK_LATENCY_LOGNORMAL) {
            return "unknown parameter: only \"seed=\" follows a latency";
        }

        if (s.len > 7 && ngx_strncmp(s.data, "median=", 7) == 0) {
            a.data = s.data + 7;
            a.len = s.len - 7;

            err = ngx_http_mock_latency_duration(&a, &lat->min);
            if (err) {
                return err;
            }

            median = 1;
            continue;
        }

        if (s.len > 6 && ngx_strncmp(s.data, "sigma=", 6) == 0) {
            v = ngx_atofp(s.data + 6, s.len - 6, 3);

            if (v == NGX_ERROR || v == 0 || v > 10000) {
                return "\"sigma=\" takes a number above 0 and at most 10, "
                       "with up to 3 decimals";
            }

            lat->sigma = (float) v / 1000;
            continue;
        }

        return "unknown parameter of \"lognormal\": it takes \"median=\", "
               "\"sigma=\" and \"seed=\"";
    }

    if (lat->type == NGX_HTTP_MOCK_LATENCY_LOGNORMAL
        && (!median || lat->sigma <= 0))
    {
        return "\"lognormal\" needs \"median=\" and \"sigma=\" above 0";
    }

    return NULL;
}


/* "recorded", "recorded x0.5": the recorded times, scaled */

static char *
ngx_http_mock_latency_recorded(ngx_str_t *args, ngx_uint_t n,
    ngx_http_mock_latency_t *lat)
{
    ngx_int_t   v;
    ngx_str_t  *s;

    lat->type = NGX_HTTP_MOCK_LATENCY_RECORDED;
    lat->scale = NGX_HTTP_MOCK_SCALE_ONE;

    if (n == 1) {
        return NULL;
    }

    if (n > 2) {
        return "\"recorded\" takes at most a scale after it, such as "
               "\"x0.5\"";
    }

    s = &args[1];

    v = (s->len > 1 && s->data[0] == 'x')
        ? ngx_atofp(s->data + 1, s->len - 1, 3) : NGX_ERROR;

    if (v == NGX_ERROR || v == 0 || v > NGX_HTTP_MOCK_SCALE_MAX) {
        return "the scale of \"recorded\" is \"x\" and a number above 0 "
               "and at most 100, with up to 3 decimals, such as \"x0.5\"";
    }

    lat->scale = (uint32_t) v;

    return NULL;
}


/* a recorded time, scaled, at most 24h */

ngx_msec_t
ngx_http_mock_latency_scaled(ngx_msec_t ms, ngx_uint_t scale)
{
    uint64_t  v;

    v = (uint64_t) ms * scale / NGX_HTTP_MOCK_SCALE_ONE;

    return (v > 86400000) ? 86400000 : (ngx_msec_t) v;
}


static char *
ngx_http_mock_latency_duration(ngx_str_t *s, uint32_t *ms)
{
    ngx_int_t  v;

    v = (s->len == 0) ? NGX_ERROR : ngx_parse_time(s, 0);

    if (v == NGX_ERROR || v > 24 * 60 * 60 * 1000) {
        return "a duration is a time such as \"200ms\" or \"1s\", "
               "at most 24h";
    }

    *ms = (uint32_t) v;

    return NULL;
}


/* a delay longer than send_timeout is refused, with where it was set */

char *
ngx_http_mock_latency_check(ngx_conf_t *cf, ngx_http_mock_loc_conf_t *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    if (conf->latency.type == NGX_HTTP_MOCK_LATENCY_UNSET
        || conf->latency.type == NGX_HTTP_MOCK_LATENCY_OFF)
    {
        return NGX_CONF_OK;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (conf->latency.max > clcf->send_timeout
        || conf->latency.min > clcf->send_timeout)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"mock_latency\" of up to %uDms is longer than "
                      "send_timeout (%Mms) in %s:%ui",
                      ngx_max(conf->latency.max, conf->latency.min),
                      clcf->send_timeout, conf->latency_file,
                      conf->latency_line);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* a latency as the admin API takes it */

u_char *
ngx_http_mock_latency_print(u_char *p, ngx_http_mock_latency_t *lat)
{
    switch (lat->type) {

    case NGX_HTTP_MOCK_LATENCY_FIXED:
        p = ngx_sprintf(p, "%uDms", lat->min);
        break;

    case NGX_HTTP_MOCK_LATENCY_UNIFORM:
        p = ngx_sprintf(p, "%uDms..%uDms", lat->min, lat->max);
        break;

    case NGX_HTTP_MOCK_LATENCY_LOGNORMAL:
        p = ngx_sprintf(p, "lognormal median=%uDms sigma=%.3f", lat->min,
                        (double) lat->sigma);
        break;

    case NGX_HTTP_MOCK_LATENCY_RECORDED:
        p = ngx_cpymem(p, "recorded", 8);

        if (lat->scale != NGX_HTTP_MOCK_SCALE_ONE) {
            p = ngx_sprintf(p, " x%uD.%03uD", lat->scale / 1000,
                            lat->scale % 1000);
        }

        return p;

    default:
        return ngx_cpymem(p, "off", 3);
    }

    if (lat->seeded) {
        p = ngx_sprintf(p, " seed=%uD", lat->seed);
    }

    return p;
}


/*
 * How long the answer with this interaction waits: the session's latency
 * (lat, or NULL) comes first, then the interaction's, then the location's.
 * With "recorded" the request's context has the scale of the body's
 * times too.
 */

ngx_msec_t
ngx_http_mock_latency_delay(ngx_http_request_t *r,
    ngx_http_mock_interaction_t *it, ngx_http_mock_latency_t *lat)
{
    ngx_msec_t                 delay;
    ngx_http_mock_ctx_t       *ctx;
    ngx_http_core_loc_conf_t  *clcf;
    ngx_http_mock_loc_conf_t  *mlcf;

    if (lat == NULL) {
        mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mock_module);

        lat = (it && it->latency.type != NGX_HTTP_MOCK_LATENCY_UNSET)
              ? &it->latency : &mlcf->latency;
    }

    if (lat->type == NGX_HTTP_MOCK_LATENCY_RECORDED) {
        ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);
        ctx->scale = lat->scale;
    }

    delay = ngx_http_mock_latency_pick(r, lat, it);

    /* the longest wait: what send_timeout allows */

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (delay > clcf->send_timeout) {
        delay = clcf->send_timeout;
    }

    return delay;
}


static ngx_msec_t
ngx_http_mock_latency_pick(ngx_http_request_t *r, ngx_http_mock_latency_t *lat,
    ngx_http_mock_interaction_t *it)
{
    double  u1, u2, z;

    switch (lat->type) {

    case NGX_HTTP_MOCK_LATENCY_FIXED:
        return lat->min;

    case NGX_HTTP_MOCK_LATENCY_RECORDED:
        return (it && it->timing.timed)
               ? ngx_http_mock_latency_scaled(it->timing.header, lat->scale)
               : 0;

    case NGX_HTTP_MOCK_LATENCY_UNIFORM:
        u1 = ngx_http_mock_latency_uniform(r, lat, it, 0);
        return lat->min + (ngx_msec_t) (u1 * (lat->max - lat->min + 1));

    case NGX_HTTP_MOCK_LATENCY_LOGNORMAL:

        /* Box-Muller: a normal variate from two uniform ones */

        u1 = ngx_http_mock_latency_uniform(r, lat, it, 0);
        u2 = ngx_http_mock_latency_uniform(r, lat, it, 1);

        z = sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * M_PI * u2);
        z = lat->min * exp(lat->sigma * z);

        return (z > 86400000.0) ? 86400000 : (ngx_msec_t) z;

    default:
        return 0;
    }
}


/*
 * A number in [0, 1): seeded, from the seed, the session, the play and
 * the interaction, so that a session's delays repeat run after run.
 */

static double
ngx_http_mock_latency_uniform(ngx_http_request_t *r,
    ngx_http_mock_latency_t *lat, ngx_http_mock_interaction_t *it,
    ngx_uint_t k)
{
    uint32_t              x;
    ngx_http_mock_ctx_t  *ctx;

    if (!lat->seeded) {
        x = (uint32_t) ngx_random();

    } else {
        ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);
        x = ngx_http_mock_random(lat->seed, &ctx->session, ctx->seq,
                                 (it ? it->index : 0) * 2 + k);
    }

    return (double) x / 4294967296.0;
}


/* a hash of the seed, the session and two numbers, well mixed */

uint32_t
ngx_http_mock_random(uint32_t seed, ngx_str_t *session, ngx_uint_t n,
    ngx_uint_t salt)
{
    uint32_t  h, w[3];

    w[0] = seed;
    w[1] = (uint32_t) n;
    w[2] = (uint32_t) salt;

    ngx_crc32_init(h);
    ngx_crc32_update(&h, (u_char *) w, sizeof(w));

    if (session->len) {
        ngx_crc32_update(&h, session->data, session->len);
    }

    ngx_crc32_final(h);

    /* murmur3's finalizer */

    h ^= h >> 16;
    h *= 0x85ebca6b;
    h ^= h >> 13;
    h *= 0xc2b2ae35;
    h ^= h >> 16;

    return h;
}


/*
 * Waits "delay" on a timer of the request's own, holding no worker, then
 * finalizes the request with what "resume" returns.  A client that leaves
 * meanwhile ends the request, and its cleanup the timer.
 */

ngx_int_t
ngx_http_mock_latency_wait(ngx_http_request_t *r, ngx_msec_t delay,
    ngx_http_mock_resume_pt resume)
{
    ngx_http_cleanup_t    *cln;
    ngx_http_mock_ctx_t   *ctx;
    ngx_http_mock_wait_t  *w;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    w = ngx_pcalloc(r->pool, sizeof(ngx_http_mock_wait_t));
    if (w == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_http_cleanup_add(r, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_mock_latency_cleanup;
    cln->data = w;

    w->r = r;
    w->resume = resume;
    w->ev.handler = ngx_http_mock_latency_timer;
    w->ev.data = w;
    w->ev.log = r->connection->log;

    ctx->timer = &w->ev;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mock latency: %Mms", delay);

    r->main->count++;

    /* a body still being discarded keeps its own read handler */

    if (!r->discard_body) {
        r->read_event_handler = ngx_http_test_reading;
    }

    r->write_event_handler = ngx_http_request_empty_handler;

    ngx_add_timer(&w->ev, delay);

    return NGX_DONE;
}


static void
ngx_http_mock_latency_timer(ngx_event_t *ev)
{
    ngx_int_t              rc;
    ngx_connection_t      *c;
    ngx_http_request_t    *r;
    ngx_http_mock_ctx_t   *ctx;
    ngx_http_mock_wait_t  *w;

    w = ev->data;
    r = w->r;
    c = r->connection;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);
    ctx->timer = NULL;

    if (!r->discard_body) {
        r->read_event_handler = ngx_http_block_reading;
    }

    rc = c->error ? NGX_HTTP_CLIENT_CLOSED_REQUEST : w->resume(r);

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_mock_latency_cleanup(void *data)
{
    ngx_http_mock_wait_t  *w = data;

    if (w->ev.timer_set) {
        ngx_del_timer(&w->ev);
    }
}
