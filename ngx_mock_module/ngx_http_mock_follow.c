
/*
 * Recordings shared by a fleet of instances through Redis streams: what
 * one instance records is published to the stream of its cassette, and
 * worker 0 of every instance appends what the others recorded to its own
 * cassette file and zone.
 *
 * The stream of a cassette is "<prefix>rec:<id>", the id of the first
 * store that plays the cassette, computed from the path as configured:
 * the same on every instance that runs the same configuration, each with
 * its own file.  Its entries are "origin" (the instance) and "entry" (the
 * interaction as the recording instance wrote it).  The follower polls
 * every 10 ms, 64 entries at most, all streams in one XREAD, and again
 * at once while more come.  An interaction it appends gets the entry's
 * id as "x_mock.stream", so after a restart it goes on from the largest
 * id in the file; the zone keeps the last id applied to each file, so a
 * worker 0 started in place of one that died applies none twice.
 *
 * A reload builds a new zone, and for a moment the old worker 0 and the
 * new one both run.  The master, once the new configuration is taken,
 * stops the old follower first (a flag in the old zone, set under the
 * lock the follower holds while it applies), then reads what the old one
 * appended since the files were read into the new zone; the new worker
 * 0 goes on from there.
 */


#include "ngx_http_mock_module.h"

#include <hiredis/hiredis.h>


#define NGX_HTTP_MOCK_FOLLOW_INTERVAL   10
#define NGX_HTTP_MOCK_FOLLOW_COUNT      64
#define NGX_HTTP_MOCK_FOLLOW_MAXLEN     "10000"
#define NGX_HTTP_MOCK_FOLLOW_MAX_ENTRY  (1024 * 1024)

#define NGX_HTTP_MOCK_STREAM_ID_LEN     (2 * NGX_INT64_LEN + 1)


typedef struct {
    ngx_http_mock_writer_t       *writer;
    ngx_str_t                     key;
    ngx_http_mock_stream_id_t     cursor;       /* the last entry read */
    u_char                        id[NGX_HTTP_MOCK_STREAM_ID_LEN];
} ngx_http_mock_follow_stream_t;


typedef struct {
    ngx_event_t                   timer;
    ngx_http_mock_redis_t        *redis;
    ngx_slab_pool_t              *shpool;
    ngx_http_mock_shctx_t        *sh;
    ngx_http_mock_follow_stream_t *streams;
    ngx_uint_t                    nstreams;
    const char                  **argv;
    size_t                       *argvlen;
    ngx_log_t                    *log;
    ngx_uint_t                    polling;      /* unsigned  polling:1; */
} ngx_http_mock_follow_t;


static ngx_int_t ngx_http_mock_follow_key(ngx_pool_t *pool,
    ngx_http_mock_redis_t *redis, ngx_http_mock_writer_t *writer,
    ngx_str_t *key);
static void ngx_http_mock_follow_tick(ngx_event_t *ev);
static void ngx_http_mock_follow_poll(ngx_http_mock_follow_t *f);
static void ngx_http_mock_follow_reply(void *data, void *reply);
static ngx_http_mock_follow_stream_t *ngx_http_mock_follow_stream(
    ngx_http_mock_follow_t *f, redisReply *key);
static void ngx_http_mock_follow_entry(ngx_http_mock_follow_t *f,
    ngx_http_mock_follow_stream_t *s, redisReply *e);
static ngx_int_t ngx_http_mock_follow_apply(ngx_http_mock_follow_t *f,
    ngx_http_mock_follow_stream_t *s, ngx_http_mock_stream_id_t *sid,
    ngx_str_t *id, ngx_str_t *text);
static void ngx_http_mock_follow_take_over(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_mock_follow_tail(ngx_http_mock_writer_t *writer,
    ngx_log_t *log);
static void ngx_http_mock_follow_lock(ngx_atomic_t *lock);
static void ngx_http_mock_follow_unlock(ngx_atomic_t *lock);


/*
 * Right after a recording went into the file and the zone: its entry, as
 * written, goes to the fleet.  Nothing is sent while Redis is out of
 * reach: that recording stays on this instance.
 */

void
ngx_http_mock_follow_publish(ngx_http_request_t *r,
    ngx_http_mock_writer_t *writer, ngx_str_t *entry)
{
    ngx_str_t               key;
    ngx_http_mock_redis_t  *redis;
    const char             *argv[10];
    size_t                  argvlen[10];

    redis = ngx_http_mock_redis_get(r);

    if (!ngx_http_mock_redis_up(redis)) {
        return;
    }

    if (entry->len > NGX_HTTP_MOCK_FOLLOW_MAX_ENTRY) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "mock: \"%V %V\" recorded into \"%V\" takes %uz "
                      "bytes, more than the 1048576 the fleet shares: it "
                      "stays on this instance", &r->method_name,
                      &r->unparsed_uri, &writer->name, entry->len);
        return;
    }

    if (ngx_http_mock_follow_key(r->pool, redis, writer, &key) != NGX_OK) {
        return;
    }

    argv[0] = "XADD";
    argv[1] = (char *) key.data;
    argv[2] = "MAXLEN";
    argv[3] = "~";
    argv[4] = NGX_HTTP_MOCK_FOLLOW_MAXLEN;
    argv[5] = "*";
    argv[6] = "origin";
    argv[7] = (char *) redis->instance.data;
    argv[8] = "entry";
    argv[9] = (char *) entry->data;

    argvlen[0] = 4;
    argvlen[1] = key.len;
    argvlen[2] = 6;
    argvlen[3] = 1;
    argvlen[4] = sizeof(NGX_HTTP_MOCK_FOLLOW_MAXLEN) - 1;
    argvlen[5] = 1;
    argvlen[6] = 6;
    argvlen[7] = redis->instance.len;
    argvlen[8] = 5;
    argvlen[9] = entry->len;

    (void) ngx_http_mock_redis_send(redis, 10, argv, argvlen);
}


/* "<prefix>rec:<id of the cassette's first store>" */

static ngx_int_t
ngx_http_mock_follow_key(ngx_pool_t *pool, ngx_http_mock_redis_t *redis,
    ngx_http_mock_writer_t *writer, ngx_str_t *key)
{
    u_char                  *p;
    ngx_http_mock_store_t  **stores;

    stores = writer->stores.elts;

    key->data = ngx_pnalloc(pool, redis->prefix.len + sizeof("rec:") - 1
                                  + 8);
    if (key->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_http_mock_cpymem(key->data, redis->prefix.data,
                             redis->prefix.len);
    p = ngx_sprintf(p, "rec:%08xD", stores[0]->id);

    key->len = p - key->data;

    return NGX_OK;
}


/*
 * In the master, once a configuration is taken: the follower of the one
 * it replaces stops, and what it appended since the files were read gets
 * into the new zone.
 */

ngx_int_t
ngx_http_mock_follow_init_module(ngx_cycle_t *cycle)
{
    ngx_uint_t                  i;
    ngx_http_mock_writer_t    **writers;
    ngx_http_mock_main_conf_t  *mmcf;

    if (ngx_test_config) {
        return NGX_OK;
    }

    /* whether the new configuration follows or not */

    ngx_http_mock_follow_take_over(cycle);

    mmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_mock_module);

    if (mmcf == NULL || mmcf->redis == NULL || mmcf->sh == NULL) {
        return NGX_OK;
    }

    writers = mmcf->writers.elts;

    for (i = 0; i < mmcf->writers.nelts; i++) {
        if (ngx_http_mock_follow_tail(writers[i], cycle->log) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static void
ngx_http_mock_follow_take_over(ngx_cycle_t *cycle)
{
    ngx_cycle_t                *old;
    ngx_http_mock_main_conf_t  *omcf;

    old = cycle->old_cycle;

    if (old == NULL || ngx_is_init_cycle(old)) {
        return;
    }

    omcf = ngx_http_cycle_get_module_main_conf(old, ngx_http_mock_module);

    if (omcf == NULL || omcf->sh == NULL) {
        return;
    }

    /* an entry the old follower applies now, it applies whole */

    ngx_http_mock_follow_lock(&omcf->sh->follow_lock);
    omcf->sh->followed = 1;
    ngx_http_mock_follow_unlock(&omcf->sh->follow_lock);
}


/*
 * The interactions appended after the file was read for the zone: by the
 * follower of the configuration replaced, or by its workers.
 */

static ngx_int_t
ngx_http_mock_follow_tail(ngx_http_mock_writer_t *writer, ngx_log_t *log)
{
    off_t                  end;
    size_t                 used;
    ngx_uint_t             n;
    ngx_http_mock_file_t  *file;

    file = writer->file;

    if (writer->fd == NGX_INVALID_FILE) {
        return NGX_OK;
    }

    end = lseek(writer->fd, 0, SEEK_END);

    if (end <= writer->loaded) {
        return NGX_OK;
    }

    if (ngx_http_mock_store_tail(writer, writer->loaded,
                                 end - writer->loaded, file->count, &n,
                                 &used, log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    file->count += n;

    if (file->end < writer->loaded + (off_t) used) {
        file->end = writer->loaded + used;
    }

    writer->loaded += used;

    if (n) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "mock: %ui interactions appended to \"%V\" while the "
                      "configuration was read are in the zone too",
                      n, &writer->name);
    }

    return NGX_OK;
}


/*
 * Worker 0 follows, one process an instance; helper processes (the cache
 * manager) do not.
 */

ngx_int_t
ngx_http_mock_follow_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                      i, n;
    ngx_http_mock_follow_t         *f;
    ngx_http_mock_writer_t        **writers;
    ngx_http_mock_main_conf_t      *mmcf;
    ngx_http_mock_follow_stream_t  *s;

    mmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_mock_module);

    if (mmcf == NULL || mmcf->redis == NULL || mmcf->sh == NULL
        || mmcf->writers.nelts == 0
        || (ngx_process != NGX_PROCESS_WORKER
            && ngx_process != NGX_PROCESS_SINGLE)
        || ngx_worker != 0)
    {
        return NGX_OK;
    }

    n = mmcf->writers.nelts;

    f = ngx_pcalloc(cycle->pool, sizeof(ngx_http_mock_follow_t));
    if (f == NULL) {
        return NGX_ERROR;
    }

    f->streams = ngx_pcalloc(cycle->pool,
                             n * sizeof(ngx_http_mock_follow_stream_t));
    f->argv = ngx_palloc(cycle->pool, (4 + 2 * n) * sizeof(char *));
    f->argvlen = ngx_palloc(cycle->pool, (4 + 2 * n) * sizeof(size_t));

    if (f->streams == NULL || f->argv == NULL || f->argvlen == NULL) {
        return NGX_ERROR;
    }

    f->nstreams = n;
    f->redis = mmcf->redis;
    f->shpool = mmcf->shpool;
    f->sh = mmcf->sh;
    f->log = cycle->log;

    writers = mmcf->writers.elts;

    for (i = 0; i < n; i++) {
        s = &f->streams[i];
        s->writer = writers[i];

        if (ngx_http_mock_follow_key(cycle->pool, f->redis, writers[i],
                                     &s->key)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        /* from the last one applied: read from the file, or since then */

        ngx_shmtx_lock(&f->shpool->mutex);
        s->cursor = writers[i]->file->applied;
        ngx_shmtx_unlock(&f->shpool->mutex);
    }

    f->timer.handler = ngx_http_mock_follow_tick;
    f->timer.data = f;
    f->timer.log = cycle->log;
    f->timer.cancelable = 1;

    ngx_add_timer(&f->timer, NGX_HTTP_MOCK_FOLLOW_INTERVAL);

    mmcf->follow = f;

    return NGX_OK;
}


void
ngx_http_mock_follow_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_mock_follow_t     *f;
    ngx_http_mock_main_conf_t  *mmcf;

    mmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_mock_module);

    if (mmcf == NULL || mmcf->follow == NULL) {
        return;
    }

    f = mmcf->follow;

    if (f->timer.timer_set) {
        ngx_del_timer(&f->timer);
    }
}


static void
ngx_http_mock_follow_tick(ngx_event_t *ev)
{
    ngx_http_mock_follow_t  *f = ev->data;

    /* a worker that shuts down, or that a reload replaces, stops here */

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    if (f->sh->followed) {
        ngx_log_error(NGX_LOG_NOTICE, f->log, 0,
                      "mock: the fleet's recordings are followed by the "
                      "workers of the new configuration from here on");
        return;
    }

    if (!f->polling) {
        ngx_http_mock_follow_poll(f);
    }

    ngx_add_timer(ev, NGX_HTTP_MOCK_FOLLOW_INTERVAL);
}


/* XREAD COUNT 64 STREAMS key... id... */

static void
ngx_http_mock_follow_poll(ngx_http_mock_follow_t *f)
{
    u_char                         *p;
    ngx_uint_t                      i, n;
    ngx_http_mock_follow_stream_t  *s;

    n = f->nstreams;

    f->argv[0] = "XREAD";
    f->argv[1] = "COUNT";
    f->argv[2] = ngx_value(NGX_HTTP_MOCK_FOLLOW_COUNT);
    f->argv[3] = "STREAMS";

    f->argvlen[0] = 5;
    f->argvlen[1] = 5;
    f->argvlen[2] = sizeof(ngx_value(NGX_HTTP_MOCK_FOLLOW_COUNT)) - 1;
    f->argvlen[3] = 7;

    for (i = 0; i < n; i++) {
        s = &f->streams[i];

        p = ngx_sprintf(s->id, "%uL-%uL", s->cursor.ms, s->cursor.seq);

        f->argv[4 + i] = (char *) s->key.data;
        f->argvlen[4 + i] = s->key.len;
        f->argv[4 + n + i] = (char *) s->id;
        f->argvlen[4 + n + i] = p - s->id;
    }

    if (ngx_http_mock_redis_poll(f->redis, ngx_http_mock_follow_reply, f,
                                 (int) (4 + 2 * n), f->argv, f->argvlen)
        == NGX_OK)
    {
        f->polling = 1;
    }
}


/* [[key, [[id, [field, value, ...]], ...]], ...], or nil: nothing new */

static void
ngx_http_mock_follow_reply(void *data, void *reply)
{
    ngx_http_mock_follow_t  *f = data;

    redisReply                     *rep = reply, *k;
    ngx_uint_t                      i, j, more;
    ngx_http_mock_follow_stream_t  *s;

    f->polling = 0;

    if (rep == NULL || rep->type != REDIS_REPLY_ARRAY
        || ngx_exiting || ngx_quit || ngx_terminate)
    {
        return;
    }

    ngx_http_mock_follow_lock(&f->sh->follow_lock);

    if (f->sh->followed) {
        ngx_http_mock_follow_unlock(&f->sh->follow_lock);
        return;
    }

    more = 0;

    for (i = 0; i < rep->elements; i++) {
        k = rep->element[i];

        if (k->type != REDIS_REPLY_ARRAY || k->elements != 2
            || k->element[1]->type != REDIS_REPLY_ARRAY)
        {
            continue;
        }

        s = ngx_http_mock_follow_stream(f, k->element[0]);
        if (s == NULL) {
            continue;
        }

        for (j = 0; j < k->element[1]->elements; j++) {
            ngx_http_mock_follow_entry(f, s, k->element[1]->element[j]);
        }

        if (k->element[1]->elements >= NGX_HTTP_MOCK_FOLLOW_COUNT) {
            more = 1;
        }
    }

    ngx_http_mock_follow_unlock(&f->sh->follow_lock);

    /* a full batch: there may be more already */

    if (more) {
        ngx_http_mock_follow_poll(f);
    }
}


static ngx_http_mock_follow_stream_t *
ngx_http_mock_follow_stream(ngx_http_mock_follow_t *f, redisReply *key)
{
    ngx_uint_t                      i;
    ngx_http_mock_follow_stream_t  *s;

    if (key->type != REDIS_REPLY_STRING) {
        return NULL;
    }

    for (i = 0; i < f->nstreams; i++) {
        s = &f->streams[i];

        if (s->key.len == key->len
            && ngx_strncmp(s->key.data, key->str, key->len) == 0)
        {
            return s;
        }
    }

    return NULL;
}


/* [id, [field, value, ...]]: this instance's own are in its file already */

static void
ngx_http_mock_follow_entry(ngx_http_mock_follow_t *f,
    ngx_http_mock_follow_stream_t *s, redisReply *e)
{
    ngx_str_t                   id, field, origin, text;
    ngx_uint_t                  i;
    redisReply                 *fields;
    ngx_http_mock_stream_id_t   sid;

    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2
        || e->element[0]->type != REDIS_REPLY_STRING
        || e->element[1]->type != REDIS_REPLY_ARRAY)
    {
        return;
    }

    id.data = (u_char *) e->element[0]->str;
    id.len = e->element[0]->len;

    if (ngx_http_mock_stream_id(&id, &sid) != NGX_OK
        || ngx_http_mock_stream_cmp(&sid, &s->cursor) <= 0)
    {
        return;
    }

    s->cursor = sid;

    fields = e->element[1];

    ngx_str_null(&origin);
    ngx_str_null(&text);

    for (i = 0; i + 1 < fields->elements; i += 2) {
        if (fields->element[i]->type != REDIS_REPLY_STRING
            || fields->element[i + 1]->type != REDIS_REPLY_STRING)
        {
            continue;
        }

        field.data = (u_char *) fields->element[i]->str;
        field.len = fields->element[i]->len;

        if (field.len == 6 && ngx_strncmp(field.data, "origin", 6) == 0) {
            origin.data = (u_char *) fields->element[i + 1]->str;
            origin.len = fields->element[i + 1]->len;

        } else if (field.len == 5 && ngx_strncmp(field.data, "entry", 5) == 0)
        {
            text.data = (u_char *) fields->element[i + 1]->str;
            text.len = fields->element[i + 1]->len;
        }
    }

    if (text.len == 0
        || (origin.len == f->redis->instance.len
            && ngx_strncmp(origin.data, f->redis->instance.data, origin.len)
               == 0))
    {
        return;
    }

    (void) ngx_http_mock_follow_apply(f, s, &sid, &id, &text);
}


/*
 * Another instance's recording: appended to this instance's file with
 * the entry's id, and added to every store that plays the file.  The
 * zone's last applied id is taken first, under its mutex, so that no two
 * processes apply one entry.
 */

static ngx_int_t
ngx_http_mock_follow_apply(ngx_http_mock_follow_t *f,
    ngx_http_mock_follow_stream_t *s, ngx_http_mock_stream_id_t *sid,
    ngx_str_t *id, ngx_str_t *text)
{
    char                    *err;
    ngx_int_t                rc;
    ngx_str_t                entry, name;
    ngx_uint_t               i;
    ngx_pool_t              *pool;
    ngx_array_t             *records;
    ngx_http_mock_file_t    *file;
    ngx_http_mock_store_t  **stores;
    ngx_http_mock_writer_t  *writer;
    ngx_http_mock_record_t  *rec;

    writer = s->writer;
    file = writer->file;

    ngx_shmtx_lock(&f->shpool->mutex);

    if (ngx_http_mock_stream_cmp(sid, &file->applied) <= 0) {
        ngx_shmtx_unlock(&f->shpool->mutex);
        return NGX_DECLINED;
    }

    file->applied = *sid;

    ngx_shmtx_unlock(&f->shpool->mutex);

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, f->log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    rc = NGX_ERROR;

    /* what is wrong with it is told as of "<stream> entry <id>" */

    name.len = s->key.len + sizeof(" entry ") - 1 + id->len;
    name.data = ngx_pnalloc(pool, name.len);
    if (name.data == NULL) {
        goto done;
    }

    (void) ngx_sprintf(name.data, "%V entry %V", &s->key, id);

    records = ngx_http_mock_cassette_entries(pool, f->log, &name, text,
                                             NULL);
    if (records == NULL) {
        goto done;
    }

    if (records->nelts != 1) {
        ngx_log_error(NGX_LOG_ERR, f->log, 0,
                      "mock: \"%V\" holds %ui interactions, not one: it is "
                      "not added to \"%V\"", &name, records->nelts,
                      &writer->name);
        goto done;
    }

    rec = records->elts;

    /* what the file gets must load at the next start */

    err = ngx_http_mock_check_record(rec);
    if (err) {
        ngx_log_error(NGX_LOG_ERR, f->log, 0,
                      "mock: \"%V\" is not added to \"%V\": %s", &name,
                      &writer->name, err);
        goto done;
    }

    rec->checked = 1;

    rec->stream.data = ngx_pnalloc(pool, id->len);
    if (rec->stream.data == NULL) {
        goto done;
    }

    rec->stream.len = id->len;
    ngx_memcpy(rec->stream.data, id->data, id->len);

    if (ngx_http_mock_yaml_entry(pool, rec, &entry) != NGX_OK) {
        goto done;
    }

    if (ngx_http_mock_store_lock_file(writer, f->log) != NGX_OK) {
        goto done;
    }

    rc = ngx_http_mock_writer_append_entry(writer, &entry, rec, f->log);

    ngx_http_mock_writer_unlock_file(writer);

    if (rc != NGX_OK) {
        goto done;
    }

    stores = writer->stores.elts;

    for (i = 0; i < writer->stores.nelts; i++) {
        (void) ngx_http_mock_store_add(stores[i], NULL, rec,
                                       writer->shm_name, NULL, f->log);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, f->log, 0,
                   "mock followed entry %V into \"%V\"", id, &writer->name);

done:

    ngx_destroy_pool(pool);

    return rc;
}


/* held by one process at a time; taken over from one that died */

static void
ngx_http_mock_follow_lock(ngx_atomic_t *lock)
{
    ngx_uint_t         i;
    ngx_atomic_uint_t  holder;

    for ( ;; ) {

        for (i = 0; i < 2048; i++) {
            if (*lock == 0 && ngx_atomic_cmp_set(lock, 0, ngx_pid)) {
                return;
            }

            ngx_cpu_pause();
        }

        holder = *lock;

        if (holder
            && kill((ngx_pid_t) holder, 0) == -1 && ngx_errno == NGX_ESRCH
            && ngx_atomic_cmp_set(lock, holder, ngx_pid))
        {
            return;
        }

        ngx_sched_yield();
    }
}


static void
ngx_http_mock_follow_unlock(ngx_atomic_t *lock)
{
    (void) ngx_atomic_cmp_set(lock, ngx_pid, 0);
}
