
/*
 * The shared zone.  Each store's loaded interactions are copied into one
 * block of the slab, and two open-addressing tables index them: identical
 * requests (a group, played in file order) and recorded paths (for 405
 * answers and near-miss reports).  Lookups cost the same for 1 or 100,000
 * interactions.  Recording adds interactions one slab block each and grows
 * the tables, under the zone's mutex.
 */


#include "ngx_http_mock_module.h"


typedef struct {
    u_char                       *pos;
    u_char                       *last;
} ngx_http_mock_arena_t;


static size_t ngx_http_mock_record_size(ngx_http_mock_store_t *store,
    ngx_http_mock_record_t *rec);
static ngx_pool_t *ngx_http_mock_store_compile(ngx_http_mock_store_t *store,
    ngx_http_mock_record_t *rec, ngx_str_t *cassette, ngx_log_t *log);
static void ngx_http_mock_store_uncompile(ngx_http_mock_record_t *rec,
    ngx_pool_t *pool);
static ngx_int_t ngx_http_mock_store_insert(ngx_http_mock_store_t *store,
    ngx_http_mock_index_t *index, ngx_http_mock_record_t *rec,
    ngx_str_t *cassette, ngx_str_t *consumed, ngx_log_t *log);
static ngx_int_t ngx_http_mock_store_put(ngx_http_mock_store_t *store,
    ngx_http_mock_index_t *index, ngx_str_t *path, ngx_uint_t n,
    ngx_http_mock_record_t *rec, ngx_str_t *cassette, ngx_log_t *log);
static size_t ngx_http_mock_cassettes_size(ngx_http_mock_store_t *store,
    ngx_http_mock_cassette_t **cassettes, ngx_uint_t ncassettes);
static ngx_int_t ngx_http_mock_store_load(ngx_http_mock_store_t *store,
    ngx_http_mock_cassette_t **cassettes, ngx_uint_t ncassettes,
    ngx_http_mock_index_t **indexp, ngx_str_t *name, ngx_uint_t locked,
    ngx_log_t *log);
static size_t ngx_http_mock_lists_size(ngx_http_mock_store_t *store,
    ngx_array_t *list);
static void ngx_http_mock_store_free(ngx_slab_pool_t *shpool,
    ngx_http_mock_index_t *index);
static void ngx_http_mock_store_release(void *data);
static ngx_atomic_t *ngx_http_mock_store_refs(ngx_http_mock_store_t *store,
    ngx_uint_t worker, ngx_uint_t n);
static ngx_uint_t ngx_http_mock_store_held(ngx_http_mock_store_t *store,
    ngx_uint_t n);
static size_t ngx_http_mock_store_collect(ngx_http_mock_store_t *store);
static ngx_int_t ngx_http_mock_store_generation(ngx_http_mock_store_t *store);
static void ngx_http_mock_store_retire_index(ngx_http_mock_store_t *store,
    ngx_http_mock_index_t *index);
static void ngx_http_mock_store_free_room(ngx_slab_pool_t *shpool,
    ngx_http_mock_room_t *room);
static ngx_str_t *ngx_http_mock_session_of(ngx_http_mock_store_t *store,
    ngx_str_t *name, ngx_str_t *session);
static ngx_int_t ngx_http_mock_store_build(ngx_http_mock_store_t *store,
    ngx_http_mock_index_t *index, ngx_http_mock_arena_t *a,
    ngx_http_mock_cassette_t **cassettes, ngx_uint_t ncassettes);
static ngx_int_t ngx_http_mock_store_copy(ngx_http_mock_store_t *store,
    ngx_http_mock_interaction_t *it, ngx_str_t *cassette,
    ngx_http_mock_record_t *rec, ngx_http_mock_arena_t *a);
static u_char *ngx_http_mock_store_room(ngx_http_mock_store_t *store,
    ngx_http_mock_index_t *index, size_t size);
static void ngx_http_mock_store_populate(u_char *p, size_t size);
static ngx_http_mock_carve_t *ngx_http_mock_store_carve(
    ngx_http_mock_store_t *store, ngx_http_mock_index_t *index);
static void ngx_http_mock_store_unused(ngx_http_mock_store_t *store,
    ngx_http_mock_index_t *index, u_char *pos, u_char *end);
static ngx_int_t ngx_http_mock_store_tables(ngx_slab_pool_t *shpool,
    ngx_http_mock_index_t *index, ngx_uint_t n);
static ngx_int_t ngx_http_mock_store_grow(ngx_slab_pool_t *shpool,
    ngx_http_mock_index_t *index);
static ngx_http_mock_group_t **ngx_http_mock_group_slot(
    ngx_http_mock_index_t *index, uint32_t hash, ngx_http_mock_key_t *key,
    ngx_http_mock_match_t *match);
static ngx_http_mock_path_t *ngx_http_mock_path_find(
    ngx_http_mock_index_t *index, ngx_str_t *path, uint32_t hash);
static ngx_http_mock_path_t *ngx_http_mock_path_slot(
    ngx_http_mock_index_t *index, ngx_str_t *path);
static void ngx_http_mock_path_append(ngx_http_mock_index_t *index,
    ngx_http_mock_interaction_t *it);
static ngx_uint_t ngx_http_mock_store_lowcase(u_char *dst, u_char *src,
    size_t n);
static ngx_uint_t ngx_http_mock_store_header_type(u_char *lowcase,
    size_t len);
static ngx_uint_t ngx_http_mock_table_size(ngx_uint_t n);
static ngx_int_t ngx_http_mock_store_key(ngx_http_mock_store_t *store,
    ngx_http_mock_record_t *rec, ngx_pool_t *pool, ngx_http_mock_key_t *key);
static ngx_int_t ngx_http_mock_store_same(ngx_http_mock_interaction_t *it,
    ngx_http_mock_record_t *rec);
static ngx_int_t ngx_http_mock_store_swap(ngx_http_mock_store_t *store,
    ngx_http_mock_index_t *index, ngx_http_mock_interaction_t *old,
    ngx_http_mock_interaction_t *prev, ngx_http_mock_interaction_t *it);
static ngx_int_t ngx_http_mock_group_push(ngx_slab_pool_t *shpool,
    ngx_http_mock_index_t *index, ngx_http_mock_group_t **gp, uint32_t hash,
    ngx_http_mock_interaction_t *it);
static ngx_int_t ngx_http_mock_group_room(ngx_slab_pool_t *shpool,
    ngx_http_mock_group_t *g);
static ngx_uint_t ngx_http_mock_group_find(ngx_http_mock_group_t *g,
    ngx_http_mock_interaction_t *it);
static void ngx_http_mock_group_drop(ngx_http_mock_index_t *index,
    ngx_http_mock_group_t *g, ngx_http_mock_interaction_t *it);
static void ngx_http_mock_path_drop(ngx_http_mock_index_t *index,
    ngx_http_mock_interaction_t *it, ngx_http_mock_interaction_t *prev);
static ngx_uint_t ngx_http_mock_table_between(ngx_uint_t i, ngx_uint_t k,
    ngx_uint_t j);
static void ngx_http_mock_store_retire(ngx_http_mock_shctx_t *sh,
    ngx_http_mock_interaction_t *it);
static void ngx_http_mock_store_reclaim(ngx_http_mock_shctx_t *sh,
    ngx_slab_pool_t *shpool);
static ngx_int_t ngx_http_mock_cassette_is(ngx_str_t *name,
    ngx_str_t *cassette);
static ngx_int_t ngx_http_mock_str_eq(ngx_str_t *a, ngx_str_t *b);
static void *ngx_http_mock_arena_alloc(ngx_http_mock_arena_t *a, size_t size);
static ngx_int_t ngx_http_mock_arena_str(ngx_http_mock_arena_t *a,
    ngx_str_t *dst, ngx_str_t *src);


#define ngx_http_mock_aligned(size)  ngx_align(size, sizeof(void *))

#define NGX_HTTP_MOCK_CHUNK          (256 * 1024)
#define NGX_HTTP_MOCK_CHUNK_FIRST    (16 * 1024)
#define NGX_HTTP_MOCK_AHEAD          8

/*
 * A hint, which never faults: tables read without the mutex may be gone.
 * Tables grow with what is fetched NGX_HTTP_MOCK_AHEAD slots ahead.
 */
#if (__GNUC__)
#define ngx_http_mock_prefetch(p)    __builtin_prefetch(p)
#else
#define ngx_http_mock_prefetch(p)
#endif

/*
 * How long a replaced interaction is kept, in milliseconds, before it may
 * be freed: a worker that found it in the index just before and has not
 * pinned it yet is between two statements, never this long.
 */
#define NGX_HTTP_MOCK_RETIRE_GRACE   1000


size_t
ngx_http_mock_store_size(ngx_http_mock_store_t *store)
{
    return ngx_http_mock_lists_size(store, store->cassettes);
}


/* what cassettes need in the zone; a session directory's, each indexed */

static size_t
ngx_http_mock_lists_size(ngx_http_mock_store_t *store, ngx_array_t *list)
{
    size_t                      size;
    ngx_uint_t                  i;
    ngx_http_mock_cassette_t  **cassettes;

    cassettes = list->elts;

    if (!store->sessions) {
        return ngx_http_mock_cassettes_size(store, cassettes, list->nelts);
    }

    size = 0;

    for (i = 0; i < list->nelts; i++) {
        size += ngx_http_mock_cassettes_size(store, &cassettes[i], 1);
    }

    return size;
}


static size_t
ngx_http_mock_cassettes_size(ngx_http_mock_store_t *store,
    ngx_http_mock_cassette_t **cassettes, ngx_uint_t ncassettes)
{
    size_t                   size;
    ngx_uint_t               i, j, n;
    ngx_http_mock_record_t  *rec;

    size = ngx_http_mock_aligned(sizeof(ngx_http_mock_index_t));
    n = 0;

    for (i = 0; i < ncassettes; i++) {
        size += ngx_http_mock_aligned(sizeof(ngx_str_t))
                + 2 * ngx_http_mock_aligned(cassettes[i]->name.len);

        rec = cassettes[i]->records.elts;

        for (j = 0; j < cassettes[i]->records.nelts; j++) {
            size += ngx_http_mock_record_size(store, &rec[j]);
        }

        n += cassettes[i]->records.nelts;
    }

    /* groups with their item lists */

    return size + n * (ngx_http_mock_aligned(sizeof(ngx_http_mock_group_t))
                       + 2 * sizeof(void *));
}


/* an upper bound of what ngx_http_mock_store_copy() takes */

static size_t
ngx_http_mock_record_size(ngx_http_mock_store_t *store,
    ngx_http_mock_record_t *rec)
{
    size_t                  size;
    ngx_uint_t              n, nh;
    ngx_table_elt_t        *h;
    ngx_http_mock_match_t  *match;

    match = store->match;
    nh = match->headers ? match->headers->nelts : 0;

    size = ngx_http_mock_aligned(sizeof(ngx_http_mock_interaction_t))
           + rec->key.method.len + rec->key.scheme.len
           + rec->key.host.len + rec->key.path.len
           + rec->key.query.len + rec->key.body.len
           + rec->uri.len + sizeof("200 ") - 1 + rec->reason.len
           + rec->body.len
           + ngx_http_mock_aligned(nh * sizeof(ngx_str_t))
           + ngx_http_mock_aligned(rec->headers.nelts
                                   * sizeof(ngx_http_mock_header_t))
           + rec->timing.nchunks * sizeof(ngx_http_mock_chunk_t)
           + 9 * sizeof(void *);

    if (nh) {
        h = rec->req_headers.elts;

        for (n = 0; n < rec->req_headers.nelts; n++) {
            size += h[n].value.len + 2;
        }
    }

    if (match->ignore) {
        size += ngx_http_mock_ignore_room(match->ignore, &rec->key)
                + sizeof(void *);
    }

    h = rec->headers.elts;

    for (n = 0; n < rec->headers.nelts; n++) {
        size += 2 * h[n].key.len + h[n].value.len;
    }

    /* compiled templates, each aligned */

    if (rec->compiled
        && ngx_http_mock_template_applies(store->template, rec))
    {
        size += ngx_http_mock_template_size(rec)
                + (rec->headers.nelts + 1) * sizeof(void *);
    }

    return size;
}


/*
 * A recording made where its templates apply is compiled into a pool of
 * its own, which the caller destroys once they are copied into the zone;
 * one that does not compile is replayed as recorded.
 */

static ngx_pool_t *
ngx_http_mock_store_compile(ngx_http_mock_store_t *store,
    ngx_http_mock_record_t *rec, ngx_str_t *cassette, ngx_log_t *log)
{
    ngx_str_t    err;
    ngx_pool_t  *pool;

    if (rec->compiled
        || !ngx_http_mock_template_applies(store->template, rec))
    {
        return NULL;
    }

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, log);
    if (pool == NULL) {
        return NULL;
    }

    if (ngx_http_mock_template_record(pool, rec, &err) != NGX_OK) {
        ngx_log_error(NGX_LOG_WARN, log, 0, "mock: a recorded interaction "
                      "of \"%V\" is replayed without its templates: %V",
                      cassette, &err);
        ngx_http_mock_store_uncompile(rec, pool);
        return NULL;
    }

    return pool;
}


static void
ngx_http_mock_store_uncompile(ngx_http_mock_record_t *rec, ngx_pool_t *pool)
{
    if (pool == NULL) {
        return;
    }

    rec->body_tpl = NULL;
    rec->header_tpls = NULL;
    rec->compiled = 0;

    ngx_destroy_pool(pool);
}


ngx_int_t
ngx_http_mock_store_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_mock_main_conf_t *mmcf = shm_zone->data;

    off_t                       end;
    size_t                      len;
    ngx_int_t                   rc;
    ngx_core_conf_t            *ccf;
    ngx_str_t                   name, session;
    ngx_file_info_t             fi;
    ngx_uint_t                  i, j, n;
    ngx_slab_pool_t            *shpool;
    ngx_http_mock_shctx_t      *sh;
    ngx_http_mock_index_t      *index;
    ngx_http_mock_store_t     **stores;
    ngx_http_mock_writer_t    **writers;
    ngx_http_mock_cassette_t   *cassette, **cassettes;

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;
    mmcf->shpool = shpool;

    len = sizeof(" in mock zone \"\"") + shm_zone->shm.name.len;

    shpool->log_ctx = ngx_slab_alloc(shpool, len);
    if (shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(shpool->log_ctx, " in mock zone \"%V\"%Z",
                &shm_zone->shm.name);

    shpool->log_nomem = 0;

    sh = ngx_slab_calloc(shpool, sizeof(ngx_http_mock_shctx_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    sh->shpool = shpool;
    ngx_rbtree_init(&sh->rbtree, &sh->sentinel, ngx_http_mock_state_insert);

    mmcf->sh = sh;

    stores = mmcf->stores.elts;

    for (i = 0; i < mmcf->stores.nelts; i++) {

        stores[i]->shpool = shpool;
        stores[i]->sh = sh;

        stores[i]->shared = ngx_slab_calloc(shpool,
                                            sizeof(ngx_http_mock_shared_t));
        if (stores[i]->shared == NULL) {
            goto too_small;
        }

        cassettes = stores[i]->cassettes->elts;
        n = stores[i]->cassettes->nelts;

        if (!stores[i]->sessions) {
            rc = ngx_http_mock_store_load(stores[i], cassettes, n, &index,
                                          NULL, 0, shm_zone->shm.log);
            if (rc != NGX_OK) {
                goto failed;
            }

            stores[i]->shared->generations[0].index = index;

            ngx_log_error(NGX_LOG_NOTICE, shm_zone->shm.log, 0,
                          "mock: \"%V\": %ui interactions in %uz bytes of "
                          "zone \"%V\"", &stores[i]->path,
                          index->ninteractions, index->size,
                          &shm_zone->shm.name);
            continue;
        }

        /* a session directory: each cassette is a session's */

        ngx_shmtx_lock(&shpool->mutex);
        index = ngx_http_mock_store_index_create(shpool);
        ngx_shmtx_unlock(&shpool->mutex);

        if (index == NULL) {
            goto too_small;
        }

        stores[i]->shared->generations[0].index = index;

        for (j = 0; j < n; j++) {
            rc = ngx_http_mock_store_load(stores[i], &cassettes[j], 1, &index,
                                          &name, 0, shm_zone->shm.log);
            if (rc != NGX_OK) {
                goto failed;
            }

            /* a file made appendable may have been rewritten: its end now */

            end = cassettes[j]->valid;

            if (stores[i]->records && !ngx_test_config) {
                if (ngx_http_mock_writer_prepare(cassettes[j],
                                                 shm_zone->shm.log)
                    != NGX_OK)
                {
                    return NGX_ERROR;
                }

                if (ngx_file_info(cassettes[j]->name.data, &fi)
                    != NGX_FILE_ERROR)
                {
                    end = ngx_file_size(&fi);
                }
            }

            ngx_shmtx_lock(&shpool->mutex);

            rc = ngx_http_mock_session_register(stores[i],
                                   ngx_http_mock_session_of(stores[i], &name,
                                                            &session),
                                   index, &name, cassettes[j]->records.nelts,
                                   end);

            ngx_shmtx_unlock(&shpool->mutex);

            if (rc != NGX_OK) {
                goto too_small;
            }
        }

        /* workers create and append to session cassettes themselves */

        if (stores[i]->records
            && ngx_http_mock_writer_writable(mmcf->cycle, &stores[i]->path,
                                             NGX_LOG_EMERG,
                                             "sessions record into",
                                             shm_zone->shm.log)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        ngx_log_error(NGX_LOG_NOTICE, shm_zone->shm.log, 0,
                      "mock: \"%V\": %ui session cassettes in zone \"%V\"",
                      &stores[i]->path, n, &shm_zone->shm.name);
    }

    writers = mmcf->writers.elts;

    for (i = 0; i < mmcf->writers.nelts; i++) {
        if (ngx_http_mock_writer_open(writers[i], mmcf->cycle,
                                      shm_zone->shm.log)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        writers[i]->file = ngx_slab_calloc(shpool,
                                           sizeof(ngx_http_mock_file_t));
        if (writers[i]->file == NULL) {
            return NGX_ERROR;
        }

        writers[i]->file->end = (writers[i]->fd == NGX_INVALID_FILE)
                                ? 0 : lseek(writers[i]->fd, 0, SEEK_END);
        writers[i]->file->count = writers[i]->cassette->records.nelts;
        writers[i]->file->applied = writers[i]->cassette->stream;

        /*
         * More may have been appended since the file was read, by the
         * workers of the configuration this one replaces: the zone
         * knows the file up to what was read, and the first writer
         * reads the rest into it.
         */

        cassette = writers[i]->cassette;

        if (!cassette->missing && cassette->size && cassette->appendable) {
            writers[i]->file->end = cassette->valid;
        }

        writers[i]->loaded = writers[i]->file->end;

        writers[i]->shm_name = ngx_slab_alloc(shpool, sizeof(ngx_str_t)
                                              + writers[i]->name.len);
        if (writers[i]->shm_name == NULL) {
            return NGX_ERROR;
        }


        writers[i]->shm_name->len = writers[i]->name.len;
        writers[i]->shm_name->data = (u_char *) (writers[i]->shm_name + 1);
        ngx_memcpy(writers[i]->shm_name->data, writers[i]->name.data,
                   writers[i]->name.len);

        writers[i]->cassette = NULL;
    }

    /* each worker counts in a row of its own: no cache line is shared */

    ccf = (ngx_core_conf_t *) ngx_get_conf(mmcf->cycle->conf_ctx,
                                           ngx_core_module);

    sh->nworkers = ngx_max(ccf->worker_processes, 1);
    sh->nslots = mmcf->slots.nelts + 1;

    sh->metrics = ngx_slab_calloc(shpool, sh->nworkers * sh->nslots
                                          * NGX_HTTP_MOCK_NRESULTS
                                          * sizeof(ngx_atomic_uint_t));
    if (sh->metrics == NULL) {
        return NGX_ERROR;
    }

    /* a worker's counts of a store's generations fill one cache line */

    for (i = 0; i < mmcf->stores.nelts; i++) {
        stores[i]->shared->refs = ngx_slab_calloc(shpool,
                                      sh->nworkers * NGX_HTTP_MOCK_GENERATIONS
                                      * sizeof(ngx_atomic_t));
        if (stores[i]->shared->refs == NULL) {
            return NGX_ERROR;
        }
    }

    if (mmcf->journal_size) {
        sh->journal = ngx_slab_calloc(shpool, mmcf->journal_size
                                      * sizeof(ngx_http_mock_journal_entry_t));
        if (sh->journal == NULL) {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "mock: zone \"%V\" of %uz bytes is too small for "
                          "a journal of %ui requests (mock_journal)",
                          &shm_zone->shm.name, shm_zone->shm.size,
                          mmcf->journal_size);
            return NGX_ERROR;
        }

        sh->journal_size = mmcf->journal_size;

        /* the reports of the last misses, when there is room for them */

        sh->reports = ngx_slab_calloc(shpool, NGX_HTTP_MOCK_REPORTS
                                      * sizeof(ngx_http_mock_report_t));
    }

    /* the parsed cassettes are not needed any more */

    for (i = 0; i < mmcf->stores.nelts; i++) {
        stores[i]->cassettes = NULL;
    }

    if (mmcf->parse_pool) {
        ngx_destroy_pool(mmcf->parse_pool);
        mmcf->parse_pool = NULL;
    }

    return NGX_OK;

failed:

    if (rc != NGX_DECLINED) {
        return NGX_ERROR;
    }

too_small:

    ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                  "mock: zone \"%V\" of %uz bytes is too small for "
                  "the cassettes in \"%V\", which need %uz bytes "
                  "(all cassettes: %uz bytes)",
                  &shm_zone->shm.name, shm_zone->shm.size, &stores[i]->path,
                  ngx_http_mock_store_size(stores[i]), mmcf->size);

    return NGX_ERROR;
}


/*
 * Copies cassettes into one block of the slab, with their index.
 * NGX_DECLINED: the zone is too small.
 */

static ngx_int_t
ngx_http_mock_store_load(ngx_http_mock_store_t *store,
    ngx_http_mock_cassette_t **cassettes, ngx_uint_t ncassettes,
    ngx_http_mock_index_t **indexp, ngx_str_t *name, ngx_uint_t locked,
    ngx_log_t *log)
{
    u_char                 *p;
    size_t                  size;
    ngx_uint_t              i, n;
    ngx_http_mock_arena_t   a;
    ngx_http_mock_index_t  *index;

    size = ngx_http_mock_cassettes_size(store, cassettes, ncassettes);

    p = locked ? ngx_slab_alloc_locked(store->shpool, size)
               : ngx_slab_alloc(store->shpool, size);
    if (p == NULL) {
        return NGX_DECLINED;
    }

    a.pos = p;
    a.last = p + size;

    index = ngx_http_mock_arena_alloc(&a, sizeof(ngx_http_mock_index_t));
    if (index == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(index, sizeof(ngx_http_mock_index_t));

    n = 0;

    for (i = 0; i < ncassettes; i++) {
        n += cassettes[i]->records.nelts;
    }

    if (!locked) {
        ngx_shmtx_lock(&store->shpool->mutex);
    }

    i = ngx_http_mock_store_tables(store->shpool, index, n);

    if (!locked) {
        ngx_shmtx_unlock(&store->shpool->mutex);
    }

    if (i != NGX_OK) {
        ngx_http_mock_store_free(store->shpool, index);
        return NGX_DECLINED;
    }

    if (name) {
        if (ngx_http_mock_arena_str(&a, name, &cassettes[0]->name) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (ngx_http_mock_store_build(store, index, &a, cassettes, ncassettes)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "mock: cassettes in \"%V\" do not fit the %uz bytes "
                      "reserved for them", &store->path, size);
        return NGX_ERROR;
    }

    index->size = a.pos - p;
    *indexp = index;

    return NGX_OK;
}


/* the session of a cassette in a session directory: its file name */

static ngx_str_t *
ngx_http_mock_session_of(ngx_http_mock_store_t *store, ngx_str_t *name,
    ngx_str_t *session)
{
    session->data = name->data + store->path.len + 1;
    session->len = name->len - store->path.len - 1;
    session->len -= (session->len > 5
                     && ngx_strncmp(session->data + session->len - 5, ".yaml",
                                    5) == 0) ? 5 : 4;

    return session;
}


/*
 * Frees an index with all it holds: its block (the loaded interactions,
 * their groups and item lists), the tables, and what recordings added to
 * it: chunks, groups, grown item lists, and the interactions that replaced
 * others, each in a block of its own.  Locked.
 */

static void
ngx_http_mock_store_free(ngx_slab_pool_t *shpool, ngx_http_mock_index_t *index)
{
    u_char                       *chunk, *next;
    ngx_uint_t                    i;
    ngx_http_mock_group_t        *g;
    ngx_http_mock_interaction_t  *it, *next_it;

    if (index->groups) {
        for (i = 0; i <= index->group_mask; i++) {
            g = index->groups[i];

            if (g == NULL) {
                continue;
            }

            if (g->cap) {
                ngx_slab_free_locked(shpool, g->items);
            }

            if (g->own) {
                ngx_slab_free_locked(shpool, g);
            }
        }

        ngx_slab_free_locked(shpool, index->groups);
    }

    if (index->paths) {
        for (i = 0; i <= index->path_mask; i++) {
            for (it = index->paths[i].head; it; it = next_it) {
                next_it = it->next_path;

                if (it->freeable) {
                    ngx_slab_free_locked(shpool, it);
                }
            }
        }

        ngx_slab_free_locked(shpool, index->paths);
    }

    for (chunk = index->chunk; chunk; chunk = next) {
        next = *(u_char **) chunk;
        ngx_slab_free_locked(shpool, chunk);
    }

    if (index->carves) {
        ngx_slab_free_locked(shpool, index->carves);
    }

    /* the index starts its block */
    ngx_slab_free_locked(shpool, index);
}


/*
 * The store's current index for a request, held until the request ends.
 * The request counts itself in the generation first and then checks that
 * the generation is still current: a reload that made another one current
 * in between either sees the count, or the request sees the change and
 * tries again.  It never reads an index a reload may have freed.  No lock.
 */

ngx_http_mock_index_t *
ngx_http_mock_store_current(ngx_http_request_t *r,
    ngx_http_mock_store_t *store)
{
    ngx_atomic_t            *refs;
    ngx_atomic_uint_t        n;
    ngx_pool_cleanup_t      *cln;
    ngx_http_mock_shared_t  *shared;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    shared = store->shared;

    for ( ;; ) {
        n = shared->current;
        refs = ngx_http_mock_store_refs(store, ngx_worker, n);

        (void) ngx_atomic_fetch_add(refs, 1);

        if (shared->current == n) {
            break;
        }

        (void) ngx_atomic_fetch_add(refs, (ngx_atomic_int_t) -1);
    }

    cln->handler = ngx_http_mock_store_release;
    cln->data = (void *) refs;

    return shared->generations[n].index;
}


/*
 * Holds a session's index until the request ends.  Locked: a reload,
 * which holds the lock too, frees a replaced index only when no request
 * holds it.
 */

ngx_int_t
ngx_http_mock_store_hold(ngx_http_request_t *r, ngx_http_mock_index_t *index)
{
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_atomic_fetch_add(&index->refs, 1);

    cln->handler = ngx_http_mock_store_release;
    cln->data = (void *) &index->refs;

    return NGX_OK;
}


static void
ngx_http_mock_store_release(void *data)
{
    ngx_atomic_t  *refs = data;

    (void) ngx_atomic_fetch_add(refs, (ngx_atomic_int_t) -1);
}


/*
 * Frees the indexes that reloads replaced and that no request holds any
 * more; returns the bytes still held by requests.  Locked.
 */

static size_t
ngx_http_mock_store_collect(ngx_http_mock_store_t *store)
{
    size_t                        held;
    ngx_uint_t                    i;
    ngx_http_mock_index_t        *index, **prev;
    ngx_http_mock_shared_t       *shared;
    ngx_http_mock_generation_t   *gen;

    shared = store->shared;
    held = 0;

    for (i = 0; i < NGX_HTTP_MOCK_GENERATIONS; i++) {
        gen = &shared->generations[i];

        if (i == shared->current || gen->index == NULL) {
            continue;
        }

        if (ngx_http_mock_store_held(store, i)) {
            held += gen->index->size;
            continue;
        }

        ngx_http_mock_store_free(store->shpool, gen->index);
        gen->index = NULL;
    }

    prev = &shared->retired;

    for (index = shared->retired; index; index = *prev) {
        if (index->refs) {
            held += index->size;
            prev = &index->retired_next;
            continue;
        }

        *prev = index->retired_next;
        ngx_http_mock_store_free(store->shpool, index);
    }

    return held;
}


/* the free pages of the slab, and the longest run of them; locked */

static void
ngx_http_mock_store_free_room(ngx_slab_pool_t *shpool,
    ngx_http_mock_room_t *room)
{
    ngx_slab_page_t  *page;

    room->free = (size_t) shpool->pfree << ngx_pagesize_shift;

    for (page = shpool->free.next; page != &shpool->free; page = page->next) {
        room->free_piece = ngx_max(room->free_piece,
                                   (size_t) page->slab << ngx_pagesize_shift);
    }
}


/* a worker's count of the requests that hold generation n */

static ngx_atomic_t *
ngx_http_mock_store_refs(ngx_http_mock_store_t *store, ngx_uint_t worker,
    ngx_uint_t n)
{
    if (worker >= store->sh->nworkers) {
        worker = 0;
    }

    return &store->shared->refs[worker * NGX_HTTP_MOCK_GENERATIONS + n];
}


static ngx_uint_t
ngx_http_mock_store_held(ngx_http_mock_store_t *store, ngx_uint_t n)
{
    ngx_uint_t  w;

    for (w = 0; w < store->sh->nworkers; w++) {
        if (*ngx_http_mock_store_refs(store, w, n)) {
            return 1;
        }
    }

    return 0;
}


/*
 * A worker starts: what a worker with its number held was held by one
 * that has died (the zone is new for every cycle), and is let go.
 */

void
ngx_http_mock_store_init_process(ngx_http_mock_main_conf_t *mmcf)
{
    ngx_uint_t               i, n;
    ngx_http_mock_store_t  **stores;

    /* the cache manager and loader answer no requests */

    if (mmcf->sh == NULL
        || (ngx_process != NGX_PROCESS_WORKER
            && ngx_process != NGX_PROCESS_SINGLE))
    {
        return;
    }

    stores = mmcf->stores.elts;

    for (i = 0; i < mmcf->stores.nelts; i++) {
        for (n = 0; n < NGX_HTTP_MOCK_GENERATIONS; n++) {
            *ngx_http_mock_store_refs(stores[i], ngx_worker, n) = 0;
        }
    }
}


/* the generation a reload builds into: one that holds no index; locked */

static ngx_int_t
ngx_http_mock_store_generation(ngx_http_mock_store_t *store)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_MOCK_GENERATIONS; i++) {
        if (i != store->shared->current
            && store->shared->generations[i].index == NULL)
        {
            return i;
        }
    }

    return NGX_ERROR;
}


/* a session's index replaced by a reload: freed, or kept while held */

static void
ngx_http_mock_store_retire_index(ngx_http_mock_store_t *store,
    ngx_http_mock_index_t *index)
{
    if (index->refs == 0) {
        ngx_http_mock_store_free(store->shpool, index);
        return;
    }

    index->retired_next = store->shared->retired;
    store->shared->retired = index;
}


/*
 * The admin reload: every store gets new indexes built from cassettes
 * parsed again (lists[i] for store i).  What earlier reloads replaced and
 * no request holds any more is freed first, so the zone needs room for
 * the cassettes twice, and more only while responses are still being
 * sent from older ones.  All indexes are built before any is swapped in,
 * so a zone too small changes nothing (NGX_DECLINED, with what the
 * cassettes need and what the zone has in "room"); NGX_BUSY: requests still hold every
 * generation of a store.  A replaced index is freed at once when no
 * request holds it.  Counters, plays and forced answers refer to the old
 * interactions and are dropped, as "nginx -s reload" drops them.  Locked.
 */

ngx_int_t
ngx_http_mock_store_reload(ngx_http_mock_main_conf_t *mmcf,
    ngx_array_t *lists, ngx_http_mock_room_t *room, ngx_log_t *log)
{
    size_t                      held, size;
    ngx_int_t                   rc, gen;
    ngx_str_t                   session;
    ngx_uint_t                  i, j, k, n, old;
    ngx_pool_t                 *pool;
    ngx_array_t                 built;
    ngx_http_mock_index_t      *index;
    ngx_http_mock_store_t     **stores;
    ngx_http_mock_writer_t    **writers;
    ngx_http_mock_cassette_t  **cassettes;
    ngx_http_mock_generation_t *gens;

    typedef struct {
        ngx_http_mock_index_t  *index;
        ngx_str_t               name;
        ngx_uint_t              count;
        off_t                   end;
    } built_t;

    built_t                    *b;

    stores = mmcf->stores.elts;
    held = 0;

    for (i = 0; i < mmcf->stores.nelts; i++) {
        held += ngx_http_mock_store_collect(stores[i]);

        if (!stores[i]->sessions
            && ngx_http_mock_store_generation(stores[i]) == NGX_ERROR)
        {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "mock: \"%V\" cannot be reloaded: responses are "
                          "still being sent from %d earlier loads of it",
                          &stores[i]->path, NGX_HTTP_MOCK_GENERATIONS - 1);
            return NGX_BUSY;
        }
    }

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    if (ngx_array_init(&built, pool, 8, sizeof(built_t)) != NGX_OK) {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    rc = NGX_OK;

    for (i = 0; rc == NGX_OK && i < mmcf->stores.nelts; i++) {
        cassettes = lists[i].elts;
        n = stores[i]->sessions ? lists[i].nelts : 1;

        for (j = 0; j < n; j++) {
            b = ngx_array_push(&built);
            if (b == NULL) {
                rc = NGX_ERROR;
                break;
            }

            ngx_memzero(b, sizeof(built_t));

            if (stores[i]->sessions) {
                rc = ngx_http_mock_store_load(stores[i], &cassettes[j], 1,
                                              &b->index, &b->name, 1, log);
                b->count = cassettes[j]->records.nelts;
                b->end = cassettes[j]->valid;

            } else {
                rc = ngx_http_mock_store_load(stores[i], cassettes,
                                              lists[i].nelts, &b->index,
                                              NULL, 1, log);
            }

            if (rc != NGX_OK) {
                built.nelts--;
                break;
            }
        }
    }

    b = built.elts;

    if (rc != NGX_OK) {
        for (k = 0; k < built.nelts; k++) {
            ngx_http_mock_store_free(mmcf->shpool, b[k].index);
        }

        if (rc == NGX_DECLINED) {
            ngx_memzero(room, sizeof(ngx_http_mock_room_t));

            for (i = 0; i < mmcf->stores.nelts; i++) {
                cassettes = lists[i].elts;
                n = stores[i]->sessions ? lists[i].nelts : 1;

                for (j = 0; j < n; j++) {
                    size = stores[i]->sessions
                           ? ngx_http_mock_cassettes_size(stores[i],
                                                          &cassettes[j], 1)
                           : ngx_http_mock_cassettes_size(stores[i], cassettes,
                                                          lists[i].nelts);
                    room->needed += size;
                    room->piece = ngx_max(room->piece, size);
                }
            }

            ngx_http_mock_store_free_room(mmcf->shpool, room);
            room->held = held;

            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "mock: zone is too small to reload the cassettes: "
                          "they need %uz bytes, the largest piece %uz; %uz "
                          "bytes are free, the largest piece %uz; responses "
                          "still being sent hold %uz bytes of earlier ones",
                          room->needed, room->piece, room->free,
                          room->free_piece, room->held);
        }

        ngx_destroy_pool(pool);
        return rc;
    }

    (void) ngx_http_mock_session_reset(mmcf->sh, NULL,
                                       NGX_HTTP_MOCK_STATE_COUNTER);
    (void) ngx_http_mock_session_reset(mmcf->sh, NULL,
                                       NGX_HTTP_MOCK_STATE_PLAYS);
    (void) ngx_http_mock_session_reset(mmcf->sh, NULL,
                                       NGX_HTTP_MOCK_STATE_FORCE);

    for (i = 0, k = 0; i < mmcf->stores.nelts; i++) {

        if (!stores[i]->sessions) {

            /*
             * The new index goes into a free generation and is made
             * current with a locked instruction, which orders it before
             * the replaced generation's count is read: a request either
             * is counted there, or sees the change and does not use it.
             */

            gens = stores[i]->shared->generations;
            gen = ngx_http_mock_store_generation(stores[i]);
            old = stores[i]->shared->current;

            gens[gen].index = b[k++].index;

            (void) ngx_atomic_cmp_set(&stores[i]->shared->current, old, gen);

            if (!ngx_http_mock_store_held(stores[i], old)) {
                ngx_http_mock_store_free(mmcf->shpool, gens[old].index);
                gens[old].index = NULL;
            }

            continue;
        }

        for (j = 0; j < lists[i].nelts; j++, k++) {
            (void) ngx_http_mock_session_of(stores[i], &b[k].name, &session);

            index = ngx_http_mock_session_index(stores[i], &session, 0, NULL,
                                                NULL);
            if (index) {
                rc = ngx_http_mock_session_update(stores[i], &session,
                                                  b[k].index, &b[k].name,
                                                  b[k].count, b[k].end);
                if (rc == NGX_OK) {
                    ngx_http_mock_store_retire_index(stores[i], index);
                }

            } else {
                rc = ngx_http_mock_session_register(stores[i], &session,
                                                    b[k].index, &b[k].name,
                                                    b[k].count, b[k].end);
            }

            if (rc != NGX_OK) {
                ngx_http_mock_store_free(mmcf->shpool, b[k].index);

                ngx_log_error(NGX_LOG_ERR, log, 0,
                              "mock: zone is full: session \"%V\" keeps "
                              "its cassette as it was", &session);
            }
        }
    }

    /* what the files hold now: the next recording's number */

    writers = mmcf->writers.elts;

    for (i = 0; i < mmcf->writers.nelts; i++) {
        for (j = 0; j < mmcf->stores.nelts; j++) {
            cassettes = lists[j].elts;

            for (k = 0; k < lists[j].nelts; k++) {
                if (cassettes[k]->name.len == writers[i]->name.len
                    && ngx_strncmp(cassettes[k]->name.data,
                                   writers[i]->name.data,
                                   writers[i]->name.len) == 0)
                {
                    writers[i]->file->count = cassettes[k]->records.nelts;
                }
            }
        }
    }

    ngx_destroy_pool(pool);

    return NGX_OK;
}


static ngx_int_t
ngx_http_mock_store_build(ngx_http_mock_store_t *store,
    ngx_http_mock_index_t *index, ngx_http_mock_arena_t *a,
    ngx_http_mock_cassette_t **cassettes, ngx_uint_t ncassettes)
{
    uint32_t                      hash;
    ngx_uint_t                    i, j, n;
    ngx_str_t                    *name;
    ngx_http_mock_group_t        *g, *room, **gp;
    ngx_http_mock_record_t       *rec;
    ngx_http_mock_interaction_t  *it;

    n = 0;

    for (i = 0; i < ncassettes; i++) {
        n += cassettes[i]->records.nelts;
    }

    if (n == 0) {
        return NGX_OK;
    }

    index->interactions = ngx_http_mock_arena_alloc(a, n * sizeof(void *));
    if (index->interactions == NULL) {
        return NGX_ERROR;
    }

    n = 0;

    for (i = 0; i < ncassettes; i++) {

        name = ngx_http_mock_arena_alloc(a, sizeof(ngx_str_t));
        if (name == NULL
            || ngx_http_mock_arena_str(a, name, &cassettes[i]->name)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        rec = cassettes[i]->records.elts;

        for (j = 0; j < cassettes[i]->records.nelts; j++) {

            /*
             * The room for the group that the interaction may start, the
             * interaction, and its strings and body, one after another: a
             * replay reads the group, the key it compares and the answer
             * it sends from one stretch of the zone.
             */

            room = ngx_http_mock_arena_alloc(a,
                                             sizeof(ngx_http_mock_group_t));
            it = ngx_http_mock_arena_alloc(a,
                                       sizeof(ngx_http_mock_interaction_t));
            if (room == NULL
                || it == NULL
                || ngx_http_mock_store_copy(store, it, name, &rec[j], a)
                   != NGX_OK)
            {
                return NGX_ERROR;
            }

            index->interactions[n++] = it;

            if (it->recorded == 0) {
                it->recorded = cassettes[i]->mtime;
            }

            index->body_templates |=
                          (it->templated & NGX_HTTP_MOCK_TEMPLATED_BODY);
            index->var_templates |=
                          (it->templated & NGX_HTTP_MOCK_TEMPLATED_VARS);

            /* its group counts it */

            hash = ngx_http_mock_key_hash(&it->key, store->match);

            gp = ngx_http_mock_group_slot(index, hash, &it->key, store->match);
            g = *gp;

            if (g == NULL) {
                g = room;
                ngx_memzero(g, sizeof(ngx_http_mock_group_t));
                g->hash = hash;
                g->first = it;

                *gp = g;
                index->ngroups++;
            }

            g->n++;
        }
    }

    index->nloaded = n;
    index->ninteractions = n;

    for (i = 0; i <= index->group_mask; i++) {
        g = index->groups[i];

        if (g == NULL) {
            continue;
        }

        /*
         * A request recorded once, the most common, is its group's first:
         * a replay of it reads no array elsewhere in the zone.
         */

        g->items = (g->n == 1)
                   ? &g->first
                   : ngx_http_mock_arena_alloc(a, g->n * sizeof(void *));
        if (g->items == NULL) {
            return NGX_ERROR;
        }

        g->n = 0;
    }

    /* the groups' items in file order */

    for (i = 0; i < n; i++) {
        it = index->interactions[i];
        hash = ngx_http_mock_key_hash(&it->key, store->match);

        g = *ngx_http_mock_group_slot(index, hash, &it->key, store->match);
        g->items[g->n++] = it;
    }

    for (i = 0; i < n; i++) {
        ngx_http_mock_path_append(index, index->interactions[i]);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mock_store_copy(ngx_http_mock_store_t *store,
    ngx_http_mock_interaction_t *it, ngx_str_t *cassette,
    ngx_http_mock_record_t *rec, ngx_http_mock_arena_t *a)
{
    u_char                  *p;
    ngx_int_t                rc;
    ngx_str_t               *names, *v;
    ngx_uint_t               i, j, nh, tpls;
    ngx_pool_t              *pool;
    ngx_table_elt_t         *h;
    ngx_http_mock_header_t  *hh;

    ngx_memzero(it, sizeof(ngx_http_mock_interaction_t));

    it->cassette = cassette;
    it->index = rec->index;
    it->status = rec->status;
    it->recorded = rec->recorded;
    it->latency = rec->latency;
    it->stale = rec->stale;
    it->timing = rec->timing;

    if (rec->timing.nchunks) {
        it->timing.chunks = ngx_http_mock_arena_alloc(a,
                                             rec->timing.nchunks
                                             * sizeof(ngx_http_mock_chunk_t));
        if (it->timing.chunks == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(it->timing.chunks, rec->timing.chunks,
                   rec->timing.nchunks * sizeof(ngx_http_mock_chunk_t));
    }

    tpls = rec->compiled
           && ngx_http_mock_template_applies(store->template, rec);

    if (ngx_http_mock_arena_str(a, &it->key.method, &rec->key.method)
           != NGX_OK
        || ngx_http_mock_arena_str(a, &it->key.scheme, &rec->key.scheme)
           != NGX_OK
        || ngx_http_mock_arena_str(a, &it->key.host, &rec->key.host)
           != NGX_OK
        || ngx_http_mock_arena_str(a, &it->key.path, &rec->key.path)
           != NGX_OK
        || ngx_http_mock_arena_str(a, &it->key.query, &rec->key.query)
           != NGX_OK
        || ngx_http_mock_arena_str(a, &it->key.body, &rec->key.body)
           != NGX_OK
        || ngx_http_mock_arena_str(a, &it->uri, &rec->uri) != NGX_OK
        || ngx_http_mock_arena_str(a, &it->body, &rec->body) != NGX_OK)
    {
        return NGX_ERROR;
    }

    it->key.port = rec->key.port;

    if (tpls && rec->body_tpl) {
        it->tpl = ngx_http_mock_template_copy(&a->pos, a->last, rec->body_tpl,
                                              rec->body.data, it->body.data);
        if (it->tpl == NULL) {
            return NGX_ERROR;
        }

        it->templated = NGX_HTTP_MOCK_TEMPLATED;

        if (it->tpl->body) {
            it->templated |= NGX_HTTP_MOCK_TEMPLATED_BODY;
        }

        if (it->tpl->vars) {
            it->templated |= NGX_HTTP_MOCK_TEMPLATED_VARS;
        }
    }

    /* the request headers that the matchers compare, values joined */

    nh = store->match->headers ? store->match->headers->nelts : 0;

    if (nh) {
        it->key.headers = ngx_http_mock_arena_alloc(a, nh * sizeof(ngx_str_t));
        if (it->key.headers == NULL) {
            return NGX_ERROR;
        }

        names = store->match->headers->elts;

        for (i = 0; i < nh; i++) {
            v = &it->key.headers[i];
            v->data = a->pos;
            p = a->pos;

            h = rec->req_headers.elts;

            for (j = 0; j < rec->req_headers.nelts; j++) {
                if (h[j].key.len != names[i].len
                    || ngx_strncasecmp(h[j].key.data, names[i].data,
                                       names[i].len) != 0)
                {
                    continue;
                }

                if ((size_t) (a->last - p) < h[j].value.len + 2) {
                    return NGX_ERROR;
                }

                if (p != v->data) {
                    *p++ = ','; *p++ = ' ';
                }

                p = ngx_http_mock_cpymem(p, h[j].value.data, h[j].value.len);
            }

            v->len = p - v->data;
            a->pos = p;
        }
    }

    /* what mock_ignore names takes no part in the key it is indexed by */

    if (store->match->ignore) {
        p = ngx_http_mock_arena_alloc(a,
                            ngx_http_mock_ignore_room(store->match->ignore,
                                                      &it->key));
        if (p == NULL) {
            return NGX_ERROR;
        }

        pool = NULL;

        if (store->match->ignore->body.nelts && it->key.body.len) {
            pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, ngx_cycle->log);
            if (pool == NULL) {
                return NGX_ERROR;
            }
        }

        rc = ngx_http_mock_ignore_key(store->match->ignore,
                                      ngx_http_mock_content_type(
                                                         &rec->req_headers),
                                      &it->key, p, NULL, pool, NULL, 1);

        if (pool) {
            ngx_destroy_pool(pool);
        }

        if (rc != NGX_OK) {
            return NGX_ERROR;
        }
    }

    it->status_line.len = sizeof("200 ") - 1 + rec->reason.len;
    it->status_line.data = ngx_http_mock_arena_alloc(a, it->status_line.len);
    if (it->status_line.data == NULL) {
        return NGX_ERROR;
    }

    /* "%03ui %V": records are checked to have a status of 200 to 999 */

    p = it->status_line.data;
    p[0] = (u_char) ('0' + rec->status / 100 % 10);
    p[1] = (u_char) ('0' + rec->status / 10 % 10);
    p[2] = (u_char) ('0' + rec->status % 10);
    p[3] = ' ';
    ngx_http_mock_cpymem(p + 4, rec->reason.data, rec->reason.len);

    if (rec->reason.len == 0) {
        /* nginx's own reason phrase, where it knows one */
        ngx_str_null(&it->status_line);
    }

    it->nheaders = rec->headers.nelts;

    if (it->nheaders == 0) {
        return NGX_OK;
    }

    it->headers = ngx_http_mock_arena_alloc(a,
                              it->nheaders * sizeof(ngx_http_mock_header_t));
    if (it->headers == NULL) {
        return NGX_ERROR;
    }

    h = rec->headers.elts;

    for (i = 0; i < it->nheaders; i++) {
        hh = &it->headers[i];

        if (ngx_http_mock_arena_str(a, &hh->name, &h[i].key) != NGX_OK
            || ngx_http_mock_arena_str(a, &hh->value, &h[i].value) != NGX_OK)
        {
            return NGX_ERROR;
        }

        if ((size_t) (a->last - a->pos) < hh->name.len) {
            return NGX_ERROR;
        }

        hh->lowcase = a->pos;
        a->pos += hh->name.len;

        hh->hash = ngx_http_mock_store_lowcase(hh->lowcase, hh->name.data,
                                               hh->name.len);
        hh->type = ngx_http_mock_store_header_type(hh->lowcase,
                                                   hh->name.len);

        if (tpls && rec->header_tpls && rec->header_tpls[i]) {
            hh->tpl = ngx_http_mock_template_copy(&a->pos, a->last,
                                                  rec->header_tpls[i],
                                                  h[i].value.data,
                                                  hh->value.data);
            if (hh->tpl == NULL) {
                return NGX_ERROR;
            }

            it->templated |= NGX_HTTP_MOCK_TEMPLATED;

            if (hh->tpl->body) {
                it->templated |= NGX_HTTP_MOCK_TEMPLATED_BODY;
            }

            if (hh->tpl->vars) {
                it->templated |= NGX_HTTP_MOCK_TEMPLATED_VARS;
            }
        }
    }

    return NGX_OK;
}


/* an upper-case letter of 8 bytes as 0x80 in its place */
#define ngx_http_mock_upper8(x)                                              \
    (((((x) & 0x7f7f7f7f7f7f7f7fULL) + 0x3f3f3f3f3f3f3f3fULL)              \
      ^ (((x) & 0x7f7f7f7f7f7f7f7fULL) + 0x2525252525252525ULL))           \
     & ~(x) & 0x8080808080808080ULL)


/*
 * The name in lower case and its hash, as ngx_hash_strlow() makes them:
 * eight bytes are lowered at a time (the last eight may overlap the
 * others), and the hash takes four bytes a step, as four steps of
 * ngx_hash() would.
 */

static ngx_uint_t
ngx_http_mock_store_lowcase(u_char *dst, u_char *src, size_t n)
{
    size_t      i;
    uint64_t    x;
    ngx_uint_t  hash;

    if (n < 8) {
        for (i = 0; i < n; i++) {
            dst[i] = ngx_tolower(src[i]);
        }

    } else {
        for (i = 0; i + 8 <= n; i += 8) {
            ngx_memcpy(&x, src + i, 8);
            x |= ngx_http_mock_upper8(x) >> 2;
            ngx_memcpy(dst + i, &x, 8);
        }

        if (i < n) {
            ngx_memcpy(&x, src + n - 8, 8);
            x |= ngx_http_mock_upper8(x) >> 2;
            ngx_memcpy(dst + n - 8, &x, 8);
        }
    }

    hash = 0;

    for (i = 0; i + 4 <= n; i += 4) {
        hash = hash * (31 * 31 * 31 * 31)
               + dst[i] * (31 * 31 * 31) + dst[i + 1] * (31 * 31)
               + dst[i + 2] * 31 + dst[i + 3];
    }

    for ( /* void */ ; i < n; i++) {
        hash = ngx_hash(hash, dst[i]);
    }

    return hash;
}


/* the name in lower case: most names are told apart by length alone */

#define ngx_http_mock_store_name_is(s, name)                                 \
    (ngx_memcmp(s, name, sizeof(name) - 1) == 0)

static ngx_uint_t
ngx_http_mock_store_header_type(u_char *lowcase, size_t len)
{
    /* skipped: framing and hop-by-hop headers belong to this connection */

    switch (len) {

    case 2:
        if (ngx_http_mock_store_name_is(lowcase, "te")) {
            return NGX_HTTP_MOCK_HEADER_SKIP;
        }
        break;

    case 4:
        if (ngx_http_mock_store_name_is(lowcase, "date")) {
            return NGX_HTTP_MOCK_HEADER_DATE;
        }
        break;

    case 6:
        if (ngx_http_mock_store_name_is(lowcase, "server")) {
            return NGX_HTTP_MOCK_HEADER_SERVER;
        }
        break;

    case 7:
        if (ngx_http_mock_store_name_is(lowcase, "expires")) {
            return NGX_HTTP_MOCK_HEADER_EXPIRES;
        }

        if (ngx_http_mock_store_name_is(lowcase, "trailer")
            || ngx_http_mock_store_name_is(lowcase, "upgrade"))
        {
            return NGX_HTTP_MOCK_HEADER_SKIP;
        }
        break;

    case 10:
        if (ngx_http_mock_store_name_is(lowcase, "set-cookie")) {
            return NGX_HTTP_MOCK_HEADER_SET_COOKIE;
        }

        if (ngx_http_mock_store_name_is(lowcase, "connection")
            || ngx_http_mock_store_name_is(lowcase, "keep-alive"))
        {
            return NGX_HTTP_MOCK_HEADER_SKIP;
        }
        break;

    case 12:
        if (ngx_http_mock_store_name_is(lowcase, "content-type")) {
            return NGX_HTTP_MOCK_HEADER_CONTENT_TYPE;
        }
        break;

    case 13:
        if (ngx_http_mock_store_name_is(lowcase, "last-modified")) {
            return NGX_HTTP_MOCK_HEADER_LAST_MODIFIED;
        }
        break;

    case 14:
        if (ngx_http_mock_store_name_is(lowcase, "content-length")) {
            return NGX_HTTP_MOCK_HEADER_SKIP;
        }
        break;

    case 16:
        if (ngx_http_mock_store_name_is(lowcase, "content-encoding")) {
            return NGX_HTTP_MOCK_HEADER_CONTENT_ENCODING;
        }

        if (ngx_http_mock_store_name_is(lowcase, "proxy-connection")) {
            return NGX_HTTP_MOCK_HEADER_SKIP;
        }
        break;

    case 17:
        if (ngx_http_mock_store_name_is(lowcase, "transfer-encoding")) {
            return NGX_HTTP_MOCK_HEADER_SKIP;
        }
        break;

    case 18:
        if (ngx_http_mock_store_name_is(lowcase, "proxy-authenticate")) {
            return NGX_HTTP_MOCK_HEADER_SKIP;
        }
        break;
    }

    return NGX_HTTP_MOCK_HEADER_PLAIN;
}


/*
 * In a worker: one more interaction at the end of the file, written as
 * "entry" tells, under the file's lock.
 */

ngx_int_t
ngx_http_mock_store_append(ngx_http_mock_writer_t *writer,
    ngx_http_mock_record_t *rec, ngx_pool_t *pool, ngx_log_t *log,
    ngx_str_t *entry)
{
    if (ngx_http_mock_yaml_entry(pool, rec, entry) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_mock_store_append_n(writer, entry, 1, &rec->index, log);
}


/* n entries appended with one take of the file's lock */

ngx_int_t
ngx_http_mock_store_append_n(ngx_http_mock_writer_t *writer,
    ngx_str_t *entries, ngx_uint_t n, ngx_uint_t *index, ngx_log_t *log)
{
    ngx_int_t  rc;

    if (ngx_http_mock_store_lock_file(writer, log) != NGX_OK) {
        return NGX_ERROR;
    }

    rc = ngx_http_mock_writer_append(writer, entries, n, index, log);

    ngx_http_mock_writer_unlock_file(writer);

    return rc;
}


/*
 * Takes the lock of a file that stores record into.  What the workers of
 * another configuration (the one a reload replaced, finishing its
 * requests) appended to it since this zone last wrote is read into the
 * zone first: a request they recorded is not recorded again.
 */

ngx_int_t
ngx_http_mock_store_lock_file(ngx_http_mock_writer_t *writer, ngx_log_t *log)
{
    size_t                 used;
    ngx_uint_t             n;
    ngx_http_mock_file_t  *file;

    if (ngx_http_mock_writer_lock_file(writer, log) != NGX_OK) {
        return NGX_ERROR;
    }

    file = writer->file;

    if (file->foreign == 0) {
        return NGX_OK;
    }

    /* the writer counted them already */

    if (ngx_http_mock_store_tail(writer, file->foreign,
                                 file->end - file->foreign,
                                 file->foreign_index, &n, &used, log)
           == NGX_OK
        && n)
    {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "mock: %ui interactions that the workers of another "
                      "configuration recorded into \"%V\" are in the zone too",
                      n, &writer->name);
    }

    file->foreign = 0;

    return NGX_OK;
}


/*
 * The complete interactions of len bytes of the file from "from" into
 * the zone, numbered from "index" on; n gets how many, used how many
 * bytes they take (what follows is a write still going on).  A file that
 * cannot be read back is told, and nothing is taken.
 */

ngx_int_t
ngx_http_mock_store_tail(ngx_http_mock_writer_t *writer, off_t from,
    size_t len, ngx_uint_t index, ngx_uint_t *n, size_t *used,
    ngx_log_t *log)
{
    ssize_t                     got;
    ngx_str_t                   text;
    ngx_uint_t                  i, j;
    ngx_pool_t                 *pool;
    ngx_array_t                *records;
    ngx_http_mock_file_t       *file;
    ngx_http_mock_store_t     **stores;
    ngx_http_mock_record_t     *rec;
    ngx_http_mock_stream_id_t   id;

    *n = 0;
    *used = 0;

    file = writer->file;

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    text.len = len;
    text.data = ngx_pnalloc(pool, len);
    if (text.data == NULL) {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    got = pread(writer->fd, text.data, len, from);

    if (got != (ssize_t) len) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      "mock: cassette \"%V\" cannot be read back",
                      &writer->name);
        ngx_destroy_pool(pool);
        return NGX_OK;
    }

    records = ngx_http_mock_cassette_entries(pool, log, &writer->name, &text,
                                             used);
    if (records == NULL) {
        ngx_destroy_pool(pool);
        return NGX_OK;
    }

    rec = records->elts;
    stores = writer->stores.elts;

    for (i = 0; i < records->nelts; i++) {
        rec[i].index = index + i;

        /* what the fleet's follower appended goes on from there */

        if (rec[i].stream.len
            && ngx_http_mock_stream_id(&rec[i].stream, &id) == NGX_OK
            && ngx_http_mock_stream_cmp(&id, &file->applied) > 0)
        {
            file->applied = id;
        }

        for (j = 0; j < writer->stores.nelts; j++) {
            (void) ngx_http_mock_store_add(stores[j], NULL, &rec[i],
                                           writer->shm_name, NULL, log);
        }
    }

    *n = records->nelts;

    ngx_destroy_pool(pool);

    return NGX_OK;
}


/*
 * Adds a recorded interaction to an index of the store, or with a NULL
 * index to the store's current one.  With "consumed"
 * (the session, maybe empty), a group it starts counts it as played by
 * the request that recorded it; in a group that existed, that request's
 * play was already counted when it missed.  An interaction that cannot
 * be sent as HTTP is refused.
 */

ngx_int_t
ngx_http_mock_store_add(ngx_http_mock_store_t *store,
    ngx_http_mock_index_t *index, ngx_http_mock_record_t *rec,
    ngx_str_t *cassette, ngx_str_t *consumed, ngx_log_t *log)
{
    ngx_int_t    rc;
    ngx_pool_t  *pool;

    pool = ngx_http_mock_store_compile(store, rec, cassette, log);
    rc = ngx_http_mock_store_insert(store, index, rec, cassette, consumed,
                                    log);

    ngx_http_mock_store_uncompile(rec, pool);
    return rc;
}


/*
 * The room for the recording is taken from the worker's chunk, the
 * recording is copied into it, and only then is the zone's mutex taken,
 * to change the index's tables: no other worker waits while the bytes
 * are copied.  Until then the room is the request's alone, and the index
 * is held as requests hold it; should a reload have replaced the current
 * index in between, the recording goes to the new one, copied again.
 */

static ngx_int_t
ngx_http_mock_store_insert(ngx_http_mock_store_t *store,
    ngx_http_mock_index_t *index, ngx_http_mock_record_t *rec,
    ngx_str_t *cassette, ngx_str_t *consumed, ngx_log_t *log)
{
    char                         *err;
    size_t                        size;
    u_char                       *p, *end;
    uint32_t                      hash;
    ngx_uint_t                    current, keyed;
    ngx_atomic_t                 *refs;
    ngx_slab_pool_t              *shpool;
    ngx_http_mock_arena_t         a;
    ngx_http_mock_index_t        *held;
    ngx_http_mock_group_t        *g, *ng, **gp;
    ngx_http_mock_interaction_t  *it;

    err = rec->checked ? NULL : ngx_http_mock_check_record(rec);
    if (err) {
        ngx_log_error(NGX_LOG_WARN, log, 0, "mock: an interaction is not "
                      "added to \"%V\": %s", cassette, err);
        return NGX_DECLINED;
    }

    shpool = store->shpool;

    /* the interaction, and the group it may start, with its first item */

    size = ngx_http_mock_aligned(ngx_http_mock_record_size(store, rec)
                                 + ngx_http_mock_aligned(
                                       sizeof(ngx_http_mock_group_t))
                                 + sizeof(void *));

    held = index;

again:

    refs = NULL;
    index = held;

    if (index == NULL) {
        /* as ngx_http_mock_store_current() holds it */

        for ( ;; ) {
            current = store->shared->current;
            refs = ngx_http_mock_store_refs(store, ngx_worker, current);

            (void) ngx_atomic_fetch_add(refs, 1);

            if (store->shared->current == current) {
                break;
            }

            (void) ngx_atomic_fetch_add(refs, (ngx_atomic_int_t) -1);
        }

        index = store->shared->generations[current].index;
    }

    p = ngx_http_mock_store_room(store, index, size);

    if (p == NULL) {
        goto nomem;
    }

    end = p + size;

    /*
     * A key copied as it is hashes as the recording's: the slots of its
     * group and of its path are fetched into the cache while the
     * recording is copied.
     */

    keyed = (store->match->ignore == NULL && store->match->headers == NULL);

    if (keyed) {
        hash = ngx_http_mock_key_hash(&rec->key, store->match);
        ngx_http_mock_prefetch(&index->groups[hash & index->group_mask]);
        ngx_http_mock_prefetch(
            &index->paths[ngx_http_mock_path_hash(&rec->key.path)
                          & index->path_mask]);
    }

    a.pos = p;
    a.last = end;

    it = ngx_http_mock_arena_alloc(&a, sizeof(ngx_http_mock_interaction_t));

    if (it == NULL
        || ngx_http_mock_store_copy(store, it, cassette, rec, &a) != NGX_OK)
    {
        a.pos = p;
        ngx_shmtx_lock(&shpool->mutex);
        goto failed;
    }

    ng = ngx_http_mock_arena_alloc(&a, sizeof(ngx_http_mock_group_t)
                                       + sizeof(void *));

    if (!keyed) {
        hash = ngx_http_mock_key_hash(&it->key, store->match);
    }

    if (it->recorded == 0) {
        it->recorded = ngx_time();
    }

    ngx_shmtx_lock(&shpool->mutex);

    if (refs && index != ngx_http_mock_current(store->shared)) {
        ngx_shmtx_unlock(&shpool->mutex);
        (void) ngx_atomic_fetch_add(refs, (ngx_atomic_int_t) -1);
        goto again;
    }

    if (ngx_http_mock_store_grow(shpool, index) != NGX_OK) {
        a.pos = p;
        goto nomem_locked;
    }

    gp = ngx_http_mock_group_slot(index, hash, &it->key, store->match);
    g = *gp;

    if (g == NULL && ng) {
        g = ng;
        ngx_memzero(g, sizeof(ngx_http_mock_group_t));

        /* cap 0: the first item is the chunk's */
        g->items = (ngx_http_mock_interaction_t **) (g + 1);
        g->hash = hash;
        g->first = it;

        *gp = g;
        index->ngroups++;

        if (consumed) {
            /* the recording request has played the group's first */

            if (consumed->len) {
                (void) ngx_http_mock_session_next(store, consumed, g, 0);

            } else {
                g->played = 1;
            }
        }

    } else {
        /* the room for a group is given back */

        if (ng) {
            a.pos = (u_char *) ng;
        }

        if (g == NULL) {
            a.pos = p;
            goto failed;
        }

        if (ngx_http_mock_group_room(shpool, g) != NGX_OK) {
            a.pos = p;
            goto nomem_locked;
        }
    }

    ngx_http_mock_store_unused(store, index, a.pos, end);

    index->body_templates |= (it->templated
                              & NGX_HTTP_MOCK_TEMPLATED_BODY);
    index->var_templates |= (it->templated & NGX_HTTP_MOCK_TEMPLATED_VARS);

    g->items[g->n++] = it;

    ngx_http_mock_path_append(index, it);

    index->ninteractions++;

    ngx_shmtx_unlock(&shpool->mutex);

    if (refs) {
        (void) ngx_atomic_fetch_add(refs, (ngx_atomic_int_t) -1);
    }

    return NGX_OK;

failed:

    ngx_http_mock_store_unused(store, index, a.pos, end);

    ngx_shmtx_unlock(&shpool->mutex);

    if (refs) {
        (void) ngx_atomic_fetch_add(refs, (ngx_atomic_int_t) -1);
    }

    ngx_log_error(NGX_LOG_ALERT, log, 0,
                  "mock: a recorded interaction does not fit the %uz "
                  "bytes reserved for it", size);
    return NGX_ERROR;

nomem_locked:

    ngx_http_mock_store_unused(store, index, a.pos, end);

    ngx_shmtx_unlock(&shpool->mutex);

nomem:

    if (refs) {
        (void) ngx_atomic_fetch_add(refs, (ngx_atomic_int_t) -1);
    }

    ngx_log_error(NGX_LOG_ERR, log, 0,
                  "mock: zone is full: the recorded interaction is in the "
                  "cassette file but is replayed only after a reload");

    return NGX_ERROR;
}


/*
 * Recordings are carved from chunks of the slab, as loaded cassettes
 * are: one slab page or more for each would waste most of it.  The
 * chunks are the index's, freed with it, and so are the groups and
 * first items carved from them.  Each worker carves from a chunk of its
 * own, so that no two write to one page: each page is given to one
 * process, and its cache lines stay there.  A worker's chunks grow from
 * NGX_HTTP_MOCK_CHUNK_FIRST to NGX_HTTP_MOCK_CHUNK, as an index that
 * records little takes little.  Size is aligned.
 */

static u_char *
ngx_http_mock_store_room(ngx_http_mock_store_t *store,
    ngx_http_mock_index_t *index, size_t size)
{
    u_char                 *p, *chunk;
    size_t                  n;
    ngx_http_mock_carve_t  *c, *carves;

    /* a worker's chunk is its alone: the mutex is taken for a new one */

    c = ngx_http_mock_store_carve(store, index);

    if (c && ngx_worker < store->sh->nworkers
        && (size_t) (c->last - c->pos) >= size)
    {
        p = c->pos;
        c->pos += size;
        return p;
    }

    ngx_shmtx_lock(&store->shpool->mutex);

    if (index->carves == NULL) {
        carves = ngx_slab_calloc_locked(store->shpool,
                                        (store->sh->nworkers + 1)
                                        * sizeof(ngx_http_mock_carve_t));
        if (carves == NULL) {
            ngx_shmtx_unlock(&store->shpool->mutex);
            return NULL;
        }

        /* zeroed before other workers, without the mutex, see it */
        ngx_memory_barrier();
        index->carves = carves;
    }

    c = ngx_http_mock_store_carve(store, index);
    chunk = NULL;
    n = 0;

    if ((size_t) (c->last - c->pos) < size) {
        if (c->next == 0) {
            c->next = NGX_HTTP_MOCK_CHUNK_FIRST;
        }

        n = ngx_max(size + sizeof(u_char *), c->next);

        chunk = ngx_slab_alloc_locked(store->shpool, n);
        if (chunk == NULL) {
            ngx_shmtx_unlock(&store->shpool->mutex);
            return NULL;
        }

        *(u_char **) chunk = index->chunk;
        index->chunk = chunk;

        c->pos = chunk + sizeof(u_char *);
        c->last = chunk + n;

        if (c->next < NGX_HTTP_MOCK_CHUNK) {
            c->next *= 2;
        }
    }

    p = c->pos;
    c->pos += size;

    ngx_shmtx_unlock(&store->shpool->mutex);

    if (chunk) {
        ngx_http_mock_store_populate(chunk, n);
    }

    return p;
}


/*
 * The pages of a new chunk are mapped in one call, not one fault each
 * as recordings are copied into them (a fifth less time for each page
 * that the zone maps for the first time).  Kernels before Linux 5.14
 * refuse it: their pages fault in as before.
 */

static void
ngx_http_mock_store_populate(u_char *p, size_t size)
{
#if (NGX_LINUX && defined MADV_POPULATE_WRITE)
    u_char  *start, *end;

    start = ngx_align_ptr(p, ngx_pagesize);
    end = (u_char *) ((uintptr_t) (p + size)
                      & ~((uintptr_t) ngx_pagesize - 1));

    if (end > start) {
        (void) madvise(start, end - start, MADV_POPULATE_WRITE);
    }
#endif
}


/*
 * This worker's; NULL before it is made.  A process whose number the
 * zone did not count for carves from one that all such share, under the
 * mutex.
 */

static ngx_http_mock_carve_t *
ngx_http_mock_store_carve(ngx_http_mock_store_t *store,
    ngx_http_mock_index_t *index)
{
    ngx_uint_t  w;

    w = ngx_min(ngx_worker, store->sh->nworkers);

    return index->carves ? &index->carves[w] : NULL;
}


/* locked: the room from pos to end is given back, unless taken since */

static void
ngx_http_mock_store_unused(ngx_http_mock_store_t *store,
    ngx_http_mock_index_t *index, u_char *pos, u_char *end)
{
    ngx_http_mock_carve_t  *c;

    c = ngx_http_mock_store_carve(store, index);

    if (c && c->pos == end) {
        c->pos = ngx_align_ptr(pos, sizeof(void *));
    }
}


static ngx_int_t
ngx_http_mock_store_tables(ngx_slab_pool_t *shpool,
    ngx_http_mock_index_t *index, ngx_uint_t n)
{
    ngx_uint_t  size;

    size = ngx_http_mock_table_size(n);

    index->groups = ngx_slab_calloc_locked(shpool, size * sizeof(void *));
    if (index->groups == NULL) {
        return NGX_ERROR;
    }

    index->paths = ngx_slab_calloc_locked(shpool,
                                          size * sizeof(ngx_http_mock_path_t));
    if (index->paths == NULL) {
        return NGX_ERROR;
    }

    index->group_mask = size - 1;
    index->path_mask = size - 1;

    return NGX_OK;
}


/* an empty index that recording fills; locked */

ngx_http_mock_index_t *
ngx_http_mock_store_index_create(ngx_slab_pool_t *shpool)
{
    ngx_http_mock_index_t  *index;

    index = ngx_slab_calloc_locked(shpool, sizeof(ngx_http_mock_index_t));
    if (index == NULL) {
        return NULL;
    }

    if (ngx_http_mock_store_tables(shpool, index, 0) != NGX_OK) {
        return NULL;
    }

    return index;
}


/* keeps both tables at most half full, with room for one more; locked */

static ngx_int_t
ngx_http_mock_store_grow(ngx_slab_pool_t *shpool,
    ngx_http_mock_index_t *index)
{
    ngx_uint_t               i, k, size;
    ngx_http_mock_path_t    *paths;
    ngx_http_mock_group_t  **groups;

    if (2 * (index->ngroups + 1) > index->group_mask + 1) {
        size = 2 * (index->group_mask + 1);

        groups = ngx_slab_calloc_locked(shpool, size * sizeof(void *));
        if (groups == NULL) {
            return NGX_ERROR;
        }

        for (i = 0; i <= index->group_mask; i++) {

            /* the hashes of the groups ahead are fetched meanwhile */

            if (i + NGX_HTTP_MOCK_AHEAD <= index->group_mask
                && index->groups[i + NGX_HTTP_MOCK_AHEAD])
            {
                ngx_http_mock_prefetch(index->groups[i + NGX_HTTP_MOCK_AHEAD]);
            }

            if (index->groups[i] == NULL) {
                continue;
            }

            for (k = index->groups[i]->hash & (size - 1);
                 groups[k];
                 k = (k + 1) & (size - 1))
            {
                /* void */
            }

            groups[k] = index->groups[i];
        }

        ngx_slab_free_locked(shpool, index->groups);

        index->groups = groups;
        index->group_mask = size - 1;
    }

    if (2 * (index->npaths + 1) > index->path_mask + 1) {
        size = 2 * (index->path_mask + 1);

        paths = ngx_slab_calloc_locked(shpool,
                                       size * sizeof(ngx_http_mock_path_t));
        if (paths == NULL) {
            return NGX_ERROR;
        }

        for (i = 0; i <= index->path_mask; i++) {

            if (index->paths[i].head == NULL) {
                continue;
            }

            for (k = index->paths[i].hash & (size - 1);
                 paths[k].head;
                 k = (k + 1) & (size - 1))
            {
                /* void */
            }

            paths[k] = index->paths[i];
        }

        ngx_slab_free_locked(shpool, index->paths);

        index->paths = paths;
        index->path_mask = size - 1;
    }

    return NGX_OK;
}


static ngx_http_mock_group_t **
ngx_http_mock_group_slot(ngx_http_mock_index_t *index, uint32_t hash,
    ngx_http_mock_key_t *key, ngx_http_mock_match_t *match)
{
    ngx_uint_t              k;
    ngx_http_mock_group_t  *g;

    for (k = hash & index->group_mask;
         index->groups[k];
         k = (k + 1) & index->group_mask)
    {
        g = index->groups[k];

        if (g->hash == hash
            && ngx_http_mock_key_diff(key, &g->first->key, match) == 0)
        {
            break;
        }
    }

    return &index->groups[k];
}


static ngx_http_mock_path_t *
ngx_http_mock_path_slot(ngx_http_mock_index_t *index, ngx_str_t *path)
{
    return ngx_http_mock_path_find(index, path,
                                   ngx_http_mock_path_hash(path));
}


static ngx_http_mock_path_t *
ngx_http_mock_path_find(ngx_http_mock_index_t *index, ngx_str_t *path,
    uint32_t hash)
{
    ngx_uint_t             k;
    ngx_http_mock_path_t  *p;

    for (k = hash & index->path_mask;
         index->paths[k].head;
         k = (k + 1) & index->path_mask)
    {
        p = &index->paths[k];

        if (p->hash == hash
            && p->head->key.path.len == path->len
            && ngx_memcmp(p->head->key.path.data, path->data, path->len) == 0)
        {
            return p;
        }
    }

    return &index->paths[k];
}


/* the path chains keep file order, then recording order */

static void
ngx_http_mock_path_append(ngx_http_mock_index_t *index,
    ngx_http_mock_interaction_t *it)
{
    uint32_t               hash;
    ngx_http_mock_path_t  *path;

    hash = ngx_http_mock_path_hash(&it->key.path);
    path = ngx_http_mock_path_find(index, &it->key.path, hash);

    if (path->head == NULL) {
        /* the hash first: a worker that sees the head sees it too */
        path->hash = hash;
        ngx_memory_barrier();
        path->head = it;
        index->npaths++;

    } else {
        path->tail->next_path = it;
    }

    path->tail = it;
}


/*
 * The interaction that this play of the sequence of requests like this
 * one answers with, as mock_repeats says; NULL when there is none or all
 * are played.  The play is counted whatever mock_repeats says.
 */

ngx_http_mock_interaction_t *
ngx_http_mock_store_take(ngx_http_mock_store_t *store,
    ngx_http_mock_index_t *index, ngx_str_t *session, ngx_http_mock_key_t *key,
    ngx_http_mock_match_t *match, ngx_uint_t repeats, ngx_int_t play,
    ngx_uint_t *seq)
{
    ngx_uint_t                    n, k, lock;
    ngx_http_mock_group_t        *g;
    ngx_http_mock_interaction_t  *it;

    it = NULL;
    lock = (store->writer || store->sessions || session->len);

    if (lock) {
        ngx_shmtx_lock(&store->shpool->mutex);
    }

    g = index ? ngx_http_mock_store_find(index, key, match) : NULL;

    if (g) {
        if (play >= 0) {
            /* counted by the fleet */
            n = play;

        } else if (session->len) {
            n = ngx_http_mock_session_count(store, session, g, repeats, 0);

        } else {
            n = ngx_atomic_fetch_add(repeats == NGX_HTTP_MOCK_REPEATS_ON
                                     ? &g->repeated : &g->played, 1);
        }

        *seq = n + 1;
        k = ngx_http_mock_repeats_item(repeats, n, g->n);

        if (k < g->n) {
            it = g->items[k];

            if (session->len && repeats == NGX_HTTP_MOCK_REPEATS_ON) {
                ngx_http_mock_session_played(store, session, it);
            }
        }
    }

    if (lock) {
        ngx_shmtx_unlock(&store->shpool->mutex);
    }

    return it;
}


/*
 * The interaction that store_take would give now, without counting a
 * play: once the sequence has run out, its last one.  It is pinned (see
 * ngx_http_mock_store_pin); NULL: nothing matches.
 */

ngx_http_mock_interaction_t *
ngx_http_mock_store_peek(ngx_http_mock_store_t *store,
    ngx_http_mock_index_t *index, ngx_str_t *session, ngx_http_mock_key_t *key,
    ngx_http_mock_match_t *match, ngx_uint_t repeats)
{
    ngx_uint_t                    n, k, lock;
    ngx_http_mock_group_t        *g;
    ngx_http_mock_interaction_t  *it;

    it = NULL;
    lock = (store->writer || store->sessions || session->len);

    if (lock) {
        ngx_shmtx_lock(&store->shpool->mutex);
    }

    g = index ? ngx_http_mock_store_find(index, key, match) : NULL;

    if (g && g->n) {
        if (session->len) {
            n = ngx_http_mock_session_count(store, session, g, repeats, 1);

        } else {
            n = (repeats == NGX_HTTP_MOCK_REPEATS_ON) ? g->repeated
                                                      : g->played;
        }

        k = ngx_http_mock_repeats_item(repeats, n, g->n);

        it = g->items[ngx_min(k, g->n - 1)];

        ngx_http_mock_store_pin(it);
    }

    if (lock) {
        ngx_shmtx_unlock(&store->shpool->mutex);
    }

    return it;
}


ngx_http_mock_group_t *
ngx_http_mock_store_find(ngx_http_mock_index_t *index,
    ngx_http_mock_key_t *key, ngx_http_mock_match_t *match)
{
    if (index->ninteractions == 0) {
        return NULL;
    }

    return *ngx_http_mock_group_slot(index, ngx_http_mock_key_hash(key, match),
                                     key, match);
}


ngx_http_mock_interaction_t *
ngx_http_mock_store_path(ngx_http_mock_index_t *index, ngx_str_t *path)
{
    if (index->ninteractions == 0) {
        return NULL;
    }

    return ngx_http_mock_path_slot(index, path)->head;
}


/* one of the index's loaded interactions, not a recorded one */

ngx_uint_t
ngx_http_mock_store_loaded(ngx_http_mock_index_t *index,
    ngx_http_mock_interaction_t *it)
{
    return (u_char *) it >= (u_char *) index
           && (u_char *) it < (u_char *) index + index->size;
}


/*
 * Fallback recordings keep the latest answer per request.  The recording
 * of the request like rec that the cassette holds last: NGX_DECLINED if
 * there is none, NGX_DONE if its answer is the same as rec's (the Date
 * header aside), else NGX_OK with its number in the cassette and its path
 * (a copy) in *n and *path.
 */

ngx_int_t
ngx_http_mock_store_latest(ngx_http_mock_store_t *store,
    ngx_http_mock_index_t *index, ngx_http_mock_record_t *rec,
    ngx_str_t *cassette, ngx_pool_t *pool, ngx_uint_t *n, ngx_str_t *path,
    ngx_http_mock_loc_conf_t *expire)
{
    ngx_int_t                     rc;
    ngx_uint_t                    i;
    ngx_http_mock_key_t           key;
    ngx_http_mock_group_t        *g;
    ngx_http_mock_interaction_t  *it;

    /* without one, a store of files looks in its current index */

    if (index == NULL && store->sessions) {
        return NGX_DECLINED;
    }

    if (ngx_http_mock_store_key(store, rec, pool, &key) != NGX_OK) {
        return NGX_ERROR;
    }

    rc = NGX_DECLINED;

    ngx_shmtx_lock(&store->shpool->mutex);

    if (index == NULL) {
        index = ngx_http_mock_current(store->shared);
    }

    g = ngx_http_mock_store_find(index, &key, store->match);

    for (i = g ? g->n : 0; i > 0; i--) {
        it = g->items[i - 1];

        if (!ngx_http_mock_cassette_is(it->cassette, cassette)) {
            continue;
        }

        rc = NGX_DONE;

        /* an answer that has expired is written again, changed or not */

        if (!ngx_http_mock_store_same(it, rec)
            || (expire && ngx_http_mock_expire_due(expire, it)))
        {
            *n = it->index;
            path->len = it->key.path.len;
            path->data = ngx_pnalloc(pool, path->len);

            rc = (path->data == NULL) ? NGX_ERROR : NGX_OK;

            if (path->data) {
                ngx_memcpy(path->data, it->key.path.data, path->len);
            }
        }

        break;
    }

    ngx_shmtx_unlock(&store->shpool->mutex);

    return rc;
}


/* the key of a record as the store indexes it, match headers joined */

static ngx_int_t
ngx_http_mock_store_key(ngx_http_mock_store_t *store,
    ngx_http_mock_record_t *rec, ngx_pool_t *pool, ngx_http_mock_key_t *key)
{
    u_char           *p;
    size_t            len;
    ngx_str_t        *names, *v;
    ngx_uint_t        i, j, nh;
    ngx_table_elt_t  *h;

    *key = rec->key;

    nh = store->match->headers ? store->match->headers->nelts : 0;

    if (nh == 0) {
        goto ignore;
    }

    key->headers = ngx_pcalloc(pool, nh * sizeof(ngx_str_t));
    if (key->headers == NULL) {
        return NGX_ERROR;
    }

    names = store->match->headers->elts;
    h = rec->req_headers.elts;

    for (i = 0; i < nh; i++) {
        len = 0;

        for (j = 0; j < rec->req_headers.nelts; j++) {
            len += h[j].value.len + 2;
        }

        v = &key->headers[i];

        v->data = ngx_pnalloc(pool, len);
        if (v->data == NULL) {
            return NGX_ERROR;
        }

        p = v->data;

        for (j = 0; j < rec->req_headers.nelts; j++) {
            if (h[j].key.len != names[i].len
                || ngx_strncasecmp(h[j].key.data, names[i].data,
                                   names[i].len) != 0)
            {
                continue;
            }

            if (p != v->data) {
                *p++ = ','; *p++ = ' ';
            }

            p = ngx_http_mock_cpymem(p, h[j].value.data, h[j].value.len);
        }

        v->len = p - v->data;
    }

ignore:

    if (store->match->ignore == NULL) {
        return NGX_OK;
    }

    p = ngx_pnalloc(pool, ngx_http_mock_ignore_room(store->match->ignore,
                                                    key));
    if (p == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_mock_ignore_key(store->match->ignore,
                                    ngx_http_mock_content_type(
                                                         &rec->req_headers),
                                    key, p, NULL, pool, NULL, 1);
}


/* the same answer: status, reason, URL, body and headers but Date */

static ngx_int_t
ngx_http_mock_store_same(ngx_http_mock_interaction_t *it,
    ngx_http_mock_record_t *rec)
{
    ngx_str_t                reason;
    ngx_uint_t               i, j;
    ngx_table_elt_t         *h;
    ngx_http_mock_header_t  *hh;

    ngx_str_null(&reason);

    if (it->status_line.len > 4) {
        reason.data = it->status_line.data + 4;
        reason.len = it->status_line.len - 4;
    }

    if (it->status != rec->status
        || !ngx_http_mock_str_eq(&reason, &rec->reason)
        || !ngx_http_mock_str_eq(&it->uri, &rec->uri)
        || !ngx_http_mock_str_eq(&it->body, &rec->body))
    {
        return 0;
    }

    h = rec->headers.elts;
    i = 0;
    j = 0;

    for ( ;; ) {
        while (i < it->nheaders
               && it->headers[i].type == NGX_HTTP_MOCK_HEADER_DATE)
        {
            i++;
        }

        while (j < rec->headers.nelts
               && h[j].key.len == 4
               && ngx_strncasecmp(h[j].key.data, (u_char *) "Date", 4) == 0)
        {
            j++;
        }

        if (i == it->nheaders || j == rec->headers.nelts) {
            return i == it->nheaders && j == rec->headers.nelts;
        }

        hh = &it->headers[i];

        if (!ngx_http_mock_str_eq(&hh->name, &h[j].key)
            || !ngx_http_mock_str_eq(&hh->value, &h[j].value))
        {
            return 0;
        }

        i++;
        j++;
    }
}


/*
 * Interaction n of the cassette, recorded on the path "path", becomes rec
 * in an index of the store (NULL: its current one): in its group's place
 * and on its path chain, or where rec belongs if the store tells the two
 * apart.  The new
 * interaction has a slab block of its own, so that it can be freed when
 * it is replaced in turn; the one it replaces goes to the retired list if
 * it has one, and is freed once no request sends it any more.
 */

ngx_int_t
ngx_http_mock_store_replace(ngx_http_mock_store_t *store,
    ngx_http_mock_index_t *index, ngx_str_t *path, ngx_uint_t n,
    ngx_http_mock_record_t *rec, ngx_str_t *cassette, ngx_log_t *log)
{
    ngx_int_t    rc;
    ngx_pool_t  *pool;

    pool = ngx_http_mock_store_compile(store, rec, cassette, log);

    rc = ngx_http_mock_store_put(store, index, path, n, rec, cassette, log);

    ngx_http_mock_store_uncompile(rec, pool);

    return rc;
}


static ngx_int_t
ngx_http_mock_store_put(ngx_http_mock_store_t *store,
    ngx_http_mock_index_t *index, ngx_str_t *path, ngx_uint_t n,
    ngx_http_mock_record_t *rec, ngx_str_t *cassette, ngx_log_t *log)
{
    u_char                       *p;
    size_t                        size;
    ngx_slab_pool_t              *shpool;
    ngx_http_mock_arena_t         a;
    ngx_http_mock_path_t         *slot;
    ngx_http_mock_interaction_t  *it, *old, *prev;

    shpool = store->shpool;

    size = ngx_http_mock_record_size(store, rec);

    ngx_shmtx_lock(&shpool->mutex);

    if (index == NULL) {
        index = ngx_http_mock_current(store->shared);
    }

    ngx_http_mock_store_reclaim(store->sh, shpool);

    if (ngx_http_mock_store_grow(shpool, index) != NGX_OK) {
        goto nomem;
    }

    p = ngx_slab_alloc_locked(shpool, size);
    if (p == NULL) {
        goto nomem;
    }

    a.pos = p;
    a.last = p + size;

    it = ngx_http_mock_arena_alloc(&a, sizeof(ngx_http_mock_interaction_t));

    if (it == NULL
        || ngx_http_mock_store_copy(store, it, cassette, rec, &a) != NGX_OK)
    {
        ngx_slab_free_locked(shpool, p);
        ngx_shmtx_unlock(&shpool->mutex);

        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "mock: a recorded interaction does not fit the %uz "
                      "bytes reserved for it", size);
        return NGX_ERROR;
    }

    it->freeable = 1;

    if (it->recorded == 0) {
        it->recorded = ngx_time();
    }

    index->body_templates |= (it->templated
                              & NGX_HTTP_MOCK_TEMPLATED_BODY);
    index->var_templates |= (it->templated & NGX_HTTP_MOCK_TEMPLATED_VARS);

    /* the interaction replaced, on its path chain */

    prev = NULL;
    old = NULL;

    if (index->ninteractions) {
        slot = ngx_http_mock_path_slot(index, path);

        for (old = slot->head; old; prev = old, old = old->next_path) {
            if (old->index == n
                && ngx_http_mock_cassette_is(old->cassette, cassette))
            {
                break;
            }
        }
    }

    if (ngx_http_mock_store_swap(store, index, old, prev, it) != NGX_OK) {
        ngx_slab_free_locked(shpool, p);
        goto nomem;
    }

    if (old == NULL) {
        index->ninteractions++;

    } else if (old->freeable) {
        ngx_http_mock_store_retire(store->sh, old);
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return NGX_OK;

nomem:

    ngx_shmtx_unlock(&shpool->mutex);

    ngx_log_error(NGX_LOG_ERR, log, 0,
                  "mock: zone is full: the recorded interaction is in the "
                  "cassette file but is replayed only after a reload");

    return NGX_ERROR;
}


/*
 * The new interaction takes the place of old (prev is the one before old
 * on its path chain): in its group's sequence, or in the group it belongs
 * to if the store tells the two apart, and on the path chain.  Without
 * old (the zone was full when it was recorded) it is added.  Locked.
 */

static ngx_int_t
ngx_http_mock_store_swap(ngx_http_mock_store_t *store,
    ngx_http_mock_index_t *index, ngx_http_mock_interaction_t *old,
    ngx_http_mock_interaction_t *prev, ngx_http_mock_interaction_t *it)
{
    uint32_t                hash;
    ngx_uint_t              k;
    ngx_http_mock_path_t   *slot;
    ngx_http_mock_group_t  *og, **gp;

    hash = ngx_http_mock_key_hash(&it->key, store->match);
    gp = ngx_http_mock_group_slot(index, hash, &it->key, store->match);

    if (old == NULL) {
        if (ngx_http_mock_group_push(store->shpool, index, gp, hash, it)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        ngx_http_mock_path_append(index, it);
        return NGX_OK;
    }

    og = *ngx_http_mock_group_slot(index,
                                   ngx_http_mock_key_hash(&old->key,
                                                          store->match),
                                   &old->key, store->match);

    k = og ? ngx_http_mock_group_find(og, old) : 0;

    if (og && og == *gp && k < og->n) {
        /* the same request: the sequence keeps its order */

        og->items[k] = it;

        if (og->first == old) {
            og->first = it;
        }

    } else {
        if (ngx_http_mock_group_push(store->shpool, index, gp, hash, it)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (og) {
            ngx_http_mock_group_drop(index, og, old);
        }
    }

    if (!ngx_http_mock_str_eq(&old->key.path, &it->key.path)) {
        ngx_http_mock_path_drop(index, old, prev);
        ngx_http_mock_path_append(index, it);
        return NGX_OK;
    }

    slot = ngx_http_mock_path_slot(index, &old->key.path);

    it->next_path = old->next_path;

    if (prev) {
        prev->next_path = it;

    } else {
        slot->head = it;
    }

    if (slot->tail == old) {
        slot->tail = it;
    }

    return NGX_OK;
}


/*
 * The answer that fallback gives: the latest recording of the request,
 * pinned for the request (ngx_http_mock_store_unpin() lets it go).
 */

ngx_http_mock_interaction_t *
ngx_http_mock_store_last(ngx_http_mock_store_t *store,
    ngx_http_mock_index_t *index, ngx_str_t *session,
    ngx_http_mock_key_t *key)
{
    ngx_http_mock_group_t        *g;
    ngx_http_mock_interaction_t  *it;

    it = NULL;

    ngx_shmtx_lock(&store->shpool->mutex);

    g = index ? ngx_http_mock_store_find(index, key, store->match) : NULL;

    if (g && g->n) {
        it = g->items[g->n - 1];

        ngx_http_mock_store_pin(it);

        if (session->len) {
            ngx_http_mock_session_played(store, session, it);
        }
    }

    ngx_shmtx_unlock(&store->shpool->mutex);

    return it;
}


/*
 * A request that sends an interaction which may be replaced holds it: it
 * is not freed before the request lets it go.
 */

void
ngx_http_mock_store_pin(ngx_http_mock_interaction_t *it)
{
    if (it->freeable) {
        (void) ngx_atomic_fetch_add(&it->refs, 1);
    }
}


void
ngx_http_mock_store_unpin(ngx_http_mock_interaction_t *it)
{
    if (it->freeable) {
        (void) ngx_atomic_fetch_add(&it->refs, -1);
    }
}


static ngx_int_t
ngx_http_mock_group_push(ngx_slab_pool_t *shpool,
    ngx_http_mock_index_t *index, ngx_http_mock_group_t **gp, uint32_t hash,
    ngx_http_mock_interaction_t *it)
{
    ngx_http_mock_group_t  *g;

    g = *gp;

    if (g == NULL) {
        g = ngx_slab_calloc_locked(shpool, sizeof(ngx_http_mock_group_t));
        if (g == NULL) {
            return NGX_ERROR;
        }

        g->items = ngx_slab_alloc_locked(shpool, 4 * sizeof(void *));
        if (g->items == NULL) {
            ngx_slab_free_locked(shpool, g);
            return NGX_ERROR;
        }

        g->hash = hash;
        g->own = 1;
        g->cap = 4;
        g->first = it;

        *gp = g;
        index->ngroups++;

    } else if (ngx_http_mock_group_room(shpool, g) != NGX_OK) {
        return NGX_ERROR;
    }

    g->items[g->n++] = it;

    return NGX_OK;
}


/*
 * Room in a group's item list for one more: a list in the arena or full
 * is copied to a slab block twice its length.  Locked.
 */

static ngx_int_t
ngx_http_mock_group_room(ngx_slab_pool_t *shpool, ngx_http_mock_group_t *g)
{
    ngx_uint_t                    cap;
    ngx_http_mock_interaction_t **items;

    if (g->cap && g->n < g->cap) {
        return NGX_OK;
    }

    cap = 2 * ngx_max(g->n, 2);

    items = ngx_slab_alloc_locked(shpool, cap * sizeof(void *));
    if (items == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(items, g->items, g->n * sizeof(void *));

    if (g->cap) {
        ngx_slab_free_locked(shpool, g->items);
    }

    g->items = items;
    g->cap = cap;

    return NGX_OK;
}


static ngx_uint_t
ngx_http_mock_group_find(ngx_http_mock_group_t *g,
    ngx_http_mock_interaction_t *it)
{
    ngx_uint_t  k;

    for (k = 0; k < g->n && g->items[k] != it; k++) {
        /* void */
    }

    return k;
}


/*
 * An interaction leaves its group; a group left empty leaves the table,
 * whose later entries move back (the table is open addressed).  The group
 * itself is not freed: a request waiting for Redis holds it.
 */

static void
ngx_http_mock_group_drop(ngx_http_mock_index_t *index,
    ngx_http_mock_group_t *g, ngx_http_mock_interaction_t *it)
{
    ngx_uint_t  i, j, k;

    k = ngx_http_mock_group_find(g, it);

    if (k == g->n) {
        return;
    }

    ngx_memmove(&g->items[k], &g->items[k + 1],
                (g->n - k - 1) * sizeof(void *));
    g->n--;

    if (g->n) {
        if (g->first == it) {
            g->first = g->items[0];
        }

        return;
    }

    for (i = g->hash & index->group_mask;
         index->groups[i] != g;
         i = (i + 1) & index->group_mask)
    {
        /* void */
    }

    index->groups[i] = NULL;
    index->ngroups--;

    for (j = (i + 1) & index->group_mask;
         index->groups[j];
         j = (j + 1) & index->group_mask)
    {
        k = index->groups[j]->hash & index->group_mask;

        if (!ngx_http_mock_table_between(i, k, j)) {
            index->groups[i] = index->groups[j];
            index->groups[j] = NULL;
            i = j;
        }
    }
}


/* the same for a path chain: prev is the interaction before it */

static void
ngx_http_mock_path_drop(ngx_http_mock_index_t *index,
    ngx_http_mock_interaction_t *it, ngx_http_mock_interaction_t *prev)
{
    ngx_uint_t             i, j, k;
    ngx_http_mock_path_t  *slot;

    slot = ngx_http_mock_path_slot(index, &it->key.path);

    if (prev) {
        prev->next_path = it->next_path;

    } else {
        slot->head = it->next_path;
    }

    if (slot->tail == it) {
        slot->tail = prev;
    }

    if (slot->head) {
        return;
    }

    i = slot - index->paths;
    index->npaths--;

    for (j = (i + 1) & index->path_mask;
         index->paths[j].head;
         j = (j + 1) & index->path_mask)
    {
        k = index->paths[j].hash & index->path_mask;

        if (!ngx_http_mock_table_between(i, k, j)) {
            index->paths[i] = index->paths[j];
            index->paths[j].head = NULL;
            index->paths[j].tail = NULL;
            i = j;
        }
    }
}


/* k is in (i, j], going round the table */

static ngx_uint_t
ngx_http_mock_table_between(ngx_uint_t i, ngx_uint_t k, ngx_uint_t j)
{
    if (i <= j) {
        return i < k && k <= j;
    }

    return i < k || k <= j;
}


static void
ngx_http_mock_store_retire(ngx_http_mock_shctx_t *sh,
    ngx_http_mock_interaction_t *it)
{
    it->retired = ngx_current_msec;
    it->retired_next = NULL;

    if (sh->retired_last) {
        sh->retired_last->retired_next = it;

    } else {
        sh->retired = it;
    }

    sh->retired_last = it;
}


/*
 * Frees the retired interactions that no request sends and that were
 * replaced long enough ago; none while a forced answer is pinned, as it
 * may name one of them.
 */

static void
ngx_http_mock_store_reclaim(ngx_http_mock_shctx_t *sh,
    ngx_slab_pool_t *shpool)
{
    ngx_http_mock_interaction_t  *it, *prev, *next;

    if (sh->nforced) {
        return;
    }

    prev = NULL;

    for (it = sh->retired; it; it = next) {
        next = it->retired_next;

        if ((ngx_msec_int_t) (ngx_current_msec - it->retired)
            < NGX_HTTP_MOCK_RETIRE_GRACE)
        {
            break;
        }

        if (it->refs) {
            prev = it;
            continue;
        }

        if (prev) {
            prev->retired_next = next;

        } else {
            sh->retired = next;
        }

        if (sh->retired_last == it) {
            sh->retired_last = prev;
        }

        /* the interaction starts its block */
        ngx_slab_free_locked(shpool, it);
    }
}


static ngx_int_t
ngx_http_mock_cassette_is(ngx_str_t *name, ngx_str_t *cassette)
{
    return name == cassette || ngx_http_mock_str_eq(name, cassette);
}


static ngx_int_t
ngx_http_mock_str_eq(ngx_str_t *a, ngx_str_t *b)
{
    return a->len == b->len
           && (a->len == 0 || ngx_memcmp(a->data, b->data, a->len) == 0);
}


/* a power of two at least twice the number of entries */

static ngx_uint_t
ngx_http_mock_table_size(ngx_uint_t n)
{
    ngx_uint_t  size;

    size = 16;

    while (size < 2 * n) {
        size <<= 1;
    }

    return size;
}


static void *
ngx_http_mock_arena_alloc(ngx_http_mock_arena_t *a, size_t size)
{
    u_char  *p;

    p = ngx_align_ptr(a->pos, sizeof(void *));

    if (p > a->last || (size_t) (a->last - p) < size) {
        return NULL;
    }

    a->pos = p + size;

    return p;
}


static ngx_int_t
ngx_http_mock_arena_str(ngx_http_mock_arena_t *a, ngx_str_t *dst,
    ngx_str_t *src)
{
    if ((size_t) (a->last - a->pos) < src->len) {
        return NGX_ERROR;
    }

    dst->len = src->len;
    dst->data = a->pos;

    if (src->len) {
        ngx_memcpy(a->pos, src->data, src->len);
    }

    a->pos += src->len;

    return NGX_OK;
}
