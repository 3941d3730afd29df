
/*
 * Sessions: the test a request belongs to (mock_session).  Each session
 * has its own sequence counters, forced answers, values remembered by
 * templates, latency and fault, and in a cassette directory its own cassette,
 * <dir>/<session>.yaml.  All of it lives in one rbtree in the shared
 * zone; callers hold the zone's mutex.
 */


#include "ngx_http_mock_module.h"


static ngx_http_mock_state_t *ngx_http_mock_state_find(
    ngx_http_mock_shctx_t *sh, ngx_uint_t kind, void *object,
    ngx_str_t *session, ngx_str_t *extra);
static ngx_http_mock_state_t *ngx_http_mock_state_add(
    ngx_http_mock_store_t *store, ngx_uint_t kind, void *object,
    ngx_str_t *session, ngx_str_t *extra);
static ngx_http_mock_state_t *ngx_http_mock_state_new(
    ngx_http_mock_shctx_t *sh, ngx_uint_t kind, ngx_str_t *session,
    ngx_str_t *extra, size_t more);
static void ngx_http_mock_session_set(ngx_http_mock_state_t *st,
    ngx_http_mock_index_t *index, ngx_str_t *cassette, ngx_uint_t count,
    off_t end);
static uint32_t ngx_http_mock_state_hash(ngx_uint_t kind, void *object,
    ngx_str_t *session, ngx_str_t *extra);
static ngx_int_t ngx_http_mock_state_cmp(ngx_http_mock_state_t *st,
    ngx_uint_t kind, void *object, ngx_str_t *session, ngx_str_t *extra);
static ngx_int_t ngx_http_mock_endpoint(ngx_pool_t *pool, ngx_str_t *method,
    ngx_str_t *path, ngx_str_t *endpoint);


/* the sanitized session of a request; NGX_DECLINED: too long */

ngx_int_t
ngx_http_mock_session_value(ngx_http_request_t *r,
    ngx_http_mock_loc_conf_t *mlcf, ngx_str_t *session)
{
    ngx_str_t  value;

    ngx_str_null(session);

    if (mlcf->session == NULL) {
        return NGX_OK;
    }

    if (ngx_http_complex_value(r, mlcf->session, &value) != NGX_OK) {
        return NGX_ERROR;
    }

    if (value.len > NGX_HTTP_MOCK_SESSION_MAX) {
        return NGX_DECLINED;
    }

    if (value.len == 0) {
        if (mlcf->store && mlcf->store->sessions) {
            ngx_str_set(session, "default");
        }

        return NGX_OK;
    }

    return ngx_http_mock_session_name(r->pool, &value, session);
}


/*
 * A session as a file name: letters, digits, "-", "_" and "." (but not
 * first) are kept, any other byte becomes %XX.  No session can name a
 * path outside the directory, and two sessions never share a name.
 */

ngx_int_t
ngx_http_mock_session_name(ngx_pool_t *pool, ngx_str_t *value,
    ngx_str_t *name)
{
    u_char  *p, *q, *last, c;

    static u_char  hex[] = "0123456789ABCDEF";

    name->data = ngx_pnalloc(pool, 3 * value->len);
    if (name->data == NULL) {
        return NGX_ERROR;
    }

    q = name->data;
    last = value->data + value->len;

    for (p = value->data; p < last; p++) {
        c = *p;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '-' || c == '_'
            || (c == '.' && p != value->data))
        {
            *q++ = c;
            continue;
        }

        *q++ = '%';
        *q++ = hex[c >> 4];
        *q++ = hex[c & 0xf];
    }

    name->len = q - name->data;

    return NGX_OK;
}


/* the index of a session's own cassette in a session directory */

ngx_http_mock_index_t *
ngx_http_mock_session_index(ngx_http_mock_store_t *store, ngx_str_t *session,
    ngx_uint_t create, ngx_str_t **cassette, ngx_http_mock_file_t **file)
{
    u_char                 *p;
    ngx_str_t               empty, name;
    ngx_http_mock_state_t  *st;
    ngx_http_mock_index_t  *index;

    ngx_str_null(&empty);

    st = ngx_http_mock_state_find(store->sh, NGX_HTTP_MOCK_STATE_INDEX, store,
                                  session, &empty);

    if (st == NULL) {
        if (!create) {
            return NULL;
        }

        index = ngx_http_mock_store_index_create(store->shpool);
        if (index == NULL) {
            return NULL;
        }

        name.len = store->path.len + 1 + session->len + sizeof(".yaml") - 1;
        name.data = ngx_slab_alloc_locked(store->shpool, name.len);
        if (name.data == NULL) {
            return NULL;
        }

        p = ngx_http_mock_cpymem(name.data, store->path.data, store->path.len);
        *p++ = '/';
        p = ngx_http_mock_cpymem(p, session->data, session->len);
        ngx_memcpy(p, ".yaml", sizeof(".yaml") - 1);

        if (ngx_http_mock_session_register(store, session, index, &name, 0, 0)
            != NGX_OK)
        {
            return NULL;
        }

        st = ngx_http_mock_state_find(store->sh, NGX_HTTP_MOCK_STATE_INDEX,
                                      store, session, &empty);
        if (st == NULL) {
            return NULL;
        }
    }

    if (cassette) {
        *cassette = &st->extra;
    }

    if (file) {
        *file = &st->file;
    }

    return st->value_ptr;
}


/*
 * The "extra" of an index state is its cassette's name, which is not part
 * of the key: it is set after the state is found by session alone.
 */

ngx_int_t
ngx_http_mock_session_register(ngx_http_mock_store_t *store,
    ngx_str_t *session, ngx_http_mock_index_t *index, ngx_str_t *cassette,
    ngx_uint_t count, off_t end)
{
    ngx_str_t               empty;
    ngx_http_mock_state_t  *st;

    ngx_str_null(&empty);

    st = ngx_http_mock_state_add(store, NGX_HTTP_MOCK_STATE_INDEX, store,
                                 session, &empty);
    if (st == NULL) {
        return NGX_ERROR;
    }

    ngx_http_mock_session_set(st, index, cassette, count, end);

    return NGX_OK;
}


/* a session's cassette read again by an admin reload */

ngx_int_t
ngx_http_mock_session_update(ngx_http_mock_store_t *store, ngx_str_t *session,
    ngx_http_mock_index_t *index, ngx_str_t *cassette, ngx_uint_t count,
    off_t end)
{
    ngx_str_t               empty;
    ngx_http_mock_state_t  *st;

    ngx_str_null(&empty);

    st = ngx_http_mock_state_find(store->sh, NGX_HTTP_MOCK_STATE_INDEX, store,
                                  session, &empty);
    if (st == NULL) {
        return NGX_ERROR;
    }

    ngx_http_mock_session_set(st, index, cassette, count, end);

    return NGX_OK;
}


static void
ngx_http_mock_session_set(ngx_http_mock_state_t *st,
    ngx_http_mock_index_t *index, ngx_str_t *cassette, ngx_uint_t count,
    off_t end)
{
    st->value_ptr = index;
    st->file.count = count;
    st->file.end = end;
    st->extra = *cassette;
}


/* the play a request of this session makes in a group's sequence */

ngx_uint_t
ngx_http_mock_session_next(ngx_http_mock_store_t *store, ngx_str_t *session,
    ngx_http_mock_group_t *g, ngx_uint_t peek)
{
    return ngx_http_mock_session_count(store, session, g,
                                       NGX_HTTP_MOCK_REPEATS_OFF, peek);
}


/*
 * A session's plays of a group; under "mock_repeats on" they are counted
 * apart, since they do not move along its sequence.
 */

ngx_uint_t
ngx_http_mock_session_count(ngx_http_mock_store_t *store, ngx_str_t *session,
    ngx_http_mock_group_t *g, ngx_uint_t repeats, ngx_uint_t peek)
{
    ngx_str_t               extra;
    ngx_http_mock_state_t  *st;

    ngx_str_null(&extra);

    if (repeats == NGX_HTTP_MOCK_REPEATS_ON) {
        ngx_str_set(&extra, "repeats");
    }

    st = ngx_http_mock_state_find(store->sh, NGX_HTTP_MOCK_STATE_COUNTER, g,
                                  session, &extra);

    if (st == NULL) {
        if (peek) {
            return 0;
        }

        st = ngx_http_mock_state_add(store, NGX_HTTP_MOCK_STATE_COUNTER, g,
                                     session, &extra);
        if (st == NULL) {
            /* a full zone: the session plays as if it had just begun */

            if (ngx_time() - store->sh->full_logged >= 60) {
                store->sh->full_logged = ngx_time();

                ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                              "mock: zone is full: session \"%V\" cannot "
                              "be counted and plays from the start; reset "
                              "finished sessions with the admin API or make "
                              "mock_zone larger", session);
            }

            return 0;
        }
    }

    return peek ? st->value : st->value++;
}


/* off, on, last, wrap: which item play n of a sequence answers with */

ngx_uint_t
ngx_http_mock_repeats_item(ngx_uint_t repeats, ngx_uint_t n, ngx_uint_t items)
{
    if (items == 0) {
        return 0;
    }

    switch (repeats) {

    case NGX_HTTP_MOCK_REPEATS_ON:
        return 0;

    case NGX_HTTP_MOCK_REPEATS_LAST:
        return (n < items) ? n : items - 1;

    case NGX_HTTP_MOCK_REPEATS_WRAP:
        return n % items;

    default:
        return n;
    }
}


void
ngx_http_mock_session_played(ngx_http_mock_store_t *store, ngx_str_t *session,
    ngx_http_mock_interaction_t *it)
{
    ngx_str_t               empty;
    ngx_http_mock_state_t  *st;

    ngx_str_null(&empty);

    st = ngx_http_mock_state_find(store->sh, NGX_HTTP_MOCK_STATE_PLAYS, it,
                                  session, &empty);

    if (st == NULL) {
        st = ngx_http_mock_state_add(store, NGX_HTTP_MOCK_STATE_PLAYS, it,
                                     session, &empty);
        if (st == NULL) {
            return;
        }
    }

    st->value++;
}


ngx_uint_t
ngx_http_mock_session_plays(ngx_http_mock_shctx_t *sh, ngx_str_t *session,
    ngx_http_mock_interaction_t *it)
{
    ngx_str_t               empty;
    ngx_http_mock_state_t  *st;

    ngx_str_null(&empty);

    st = ngx_http_mock_state_find(sh, NGX_HTTP_MOCK_STATE_PLAYS, it, session,
                                  &empty);

    return st ? st->value : 0;
}


/* the interaction pinned to "METHOD path" for a session, if any */

ngx_http_mock_interaction_t *
ngx_http_mock_session_forced(ngx_http_mock_store_t *store, ngx_str_t *session,
    ngx_str_t *method, ngx_str_t *path)
{
    u_char                  buf[512];
    ngx_str_t               endpoint;
    ngx_http_mock_state_t  *st;

    if (method->len + 1 + path->len > sizeof(buf)) {
        return NULL;
    }

    endpoint.data = buf;
    endpoint.len = ngx_sprintf(buf, "%V %V", method, path) - buf;

    st = ngx_http_mock_state_find(store->sh, NGX_HTTP_MOCK_STATE_FORCE, store,
                                  session, &endpoint);

    return st ? st->value_ptr : NULL;
}


/* pins (or, with it NULL, unpins) an endpoint's answer for a session */

ngx_int_t
ngx_http_mock_session_force(ngx_http_mock_store_t *store, ngx_str_t *session,
    ngx_str_t *method, ngx_str_t *path, ngx_http_mock_interaction_t *it)
{
    ngx_int_t               rc;
    ngx_str_t               endpoint;
    ngx_pool_t             *pool;
    ngx_http_mock_state_t  *st;

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, ngx_cycle->log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    rc = NGX_OK;

    if (ngx_http_mock_endpoint(pool, method, path, &endpoint) != NGX_OK) {
        rc = NGX_ERROR;
        goto done;
    }

    st = ngx_http_mock_state_find(store->sh, NGX_HTTP_MOCK_STATE_FORCE, store,
                                  session, &endpoint);

    if (it == NULL) {
        if (st) {
            ngx_rbtree_delete(&store->sh->rbtree, &st->node);
            ngx_slab_free_locked(store->shpool, st);
            store->sh->nforced--;

        } else {
            rc = NGX_DECLINED;
        }

        goto done;
    }

    if (st == NULL) {
        st = ngx_http_mock_state_add(store, NGX_HTTP_MOCK_STATE_FORCE, store,
                                     session, &endpoint);
        if (st == NULL) {
            rc = NGX_ERROR;
            goto done;
        }

        store->sh->nforced++;
    }

    st->value_ptr = it;

done:

    ngx_destroy_pool(pool);

    return rc;
}


/*
 * Forgets the states of one kind (counters, plays or forced answers) of a
 * session, or of every session when session is NULL; returns how many.
 */

ngx_uint_t
ngx_http_mock_session_reset(ngx_http_mock_shctx_t *sh, ngx_str_t *session,
    ngx_uint_t kind)
{
    ngx_uint_t              n;
    ngx_rbtree_node_t      *node, *next;
    ngx_http_mock_state_t  *st;

    n = 0;

    if (sh->rbtree.root == sh->rbtree.sentinel) {
        return 0;
    }

    node = ngx_rbtree_min(sh->rbtree.root, sh->rbtree.sentinel);

    while (node) {
        next = ngx_rbtree_next(&sh->rbtree, node);
        st = (ngx_http_mock_state_t *) node;

        if (st->kind == kind
            && (session == NULL
                || (st->session.len == session->len
                    && ngx_strncmp(st->session.data, session->data,
                                   session->len) == 0)))
        {
            ngx_rbtree_delete(&sh->rbtree, node);
            ngx_slab_free_locked(sh->shpool, st);
            n++;

            if (kind == NGX_HTTP_MOCK_STATE_FORCE) {
                sh->nforced--;
            }

            if (kind == NGX_HTTP_MOCK_STATE_LATENCY
                || kind == NGX_HTTP_MOCK_STATE_FAULT)
            {
                sh->nsettings--;
            }
        }

        node = next;
    }

    return n;
}


/*
 * The file a session records into, opened by this worker on first use:
 * workers open session cassettes themselves, as they appear at run time.
 */

ngx_http_mock_writer_t *
ngx_http_mock_session_writer(ngx_http_request_t *r,
    ngx_http_mock_store_t *store, ngx_str_t *session)
{
    ngx_uint_t                  i;
    ngx_str_t                  *cassette;
    ngx_http_mock_file_t       *file;
    ngx_pool_cleanup_t         *cln;
    ngx_http_mock_writer_t     *writer, **writers, **wp;
    ngx_http_mock_main_conf_t  *mmcf;
    ngx_pool_cleanup_file_t    *clnf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mock_module);

    ngx_shmtx_lock(&store->shpool->mutex);

    if (ngx_http_mock_session_index(store, session, 1, &cassette, &file)
        == NULL)
    {
        ngx_shmtx_unlock(&store->shpool->mutex);
        return NULL;
    }

    ngx_shmtx_unlock(&store->shpool->mutex);

    if (mmcf->session_writers == NULL) {
        mmcf->session_writers = ngx_array_create(ngx_cycle->pool, 4,
                                       sizeof(ngx_http_mock_writer_t *));
        if (mmcf->session_writers == NULL) {
            return NULL;
        }
    }

    writers = mmcf->session_writers->elts;

    for (i = 0; i < mmcf->session_writers->nelts; i++) {
        if (writers[i]->shm_name == cassette) {
            return writers[i];
        }
    }

    writer = ngx_pcalloc(ngx_cycle->pool, sizeof(ngx_http_mock_writer_t));
    if (writer == NULL) {
        return NULL;
    }

    writer->name.len = cassette->len;
    writer->name.data = ngx_pnalloc(ngx_cycle->pool, cassette->len + 1);
    if (writer->name.data == NULL) {
        return NULL;
    }

    ngx_memcpy(writer->name.data, cassette->data, cassette->len);
    writer->name.data[cassette->len] = '\0';

    writer->shm_name = cassette;
    writer->file = file;

    writer->fd = ngx_open_file(writer->name.data, NGX_FILE_RDWR,
                               NGX_FILE_CREATE_OR_OPEN,
                               NGX_FILE_DEFAULT_ACCESS);

    if (writer->fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, ngx_errno,
                      "mock: session cassette \"%V\" cannot be opened for "
                      "recording", &writer->name);
        return NULL;
    }

    cln = ngx_pool_cleanup_add(ngx_cycle->pool,
                               sizeof(ngx_pool_cleanup_file_t));
    if (cln == NULL) {
        (void) ngx_close_file(writer->fd);
        return NULL;
    }

    clnf = cln->data;
    clnf->fd = writer->fd;
    clnf->name = writer->name.data;
    clnf->log = ngx_cycle->log;
    cln->handler = ngx_pool_cleanup_file;

    wp = ngx_array_push(mmcf->session_writers);
    if (wp == NULL) {
        return NULL;
    }

    *wp = writer;

    return writer;
}


static ngx_http_mock_state_t *
ngx_http_mock_state_find(ngx_http_mock_shctx_t *sh, ngx_uint_t kind,
    void *object, ngx_str_t *session, ngx_str_t *extra)
{
    uint32_t                hash;
    ngx_int_t               rc;
    ngx_rbtree_node_t      *node, *sentinel;
    ngx_http_mock_state_t  *st;

    hash = ngx_http_mock_state_hash(kind, object, session, extra);

    node = sh->rbtree.root;
    sentinel = sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash != node->key) {
            node = (hash < node->key) ? node->left : node->right;
            continue;
        }

        st = (ngx_http_mock_state_t *) node;

        rc = ngx_http_mock_state_cmp(st, kind, object, session, extra);

        if (rc == 0) {
            return st;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


static ngx_http_mock_state_t *
ngx_http_mock_state_add(ngx_http_mock_store_t *store, ngx_uint_t kind,
    void *object, ngx_str_t *session, ngx_str_t *extra)
{
    u_char                 *p;
    ngx_http_mock_state_t  *st;

    st = ngx_slab_alloc_locked(store->shpool, sizeof(ngx_http_mock_state_t)
                                              + session->len + extra->len);
    if (st == NULL) {
        return NULL;
    }

    ngx_memzero(st, sizeof(ngx_http_mock_state_t));

    p = (u_char *) (st + 1);

    st->node.key = ngx_http_mock_state_hash(kind, object, session, extra);
    st->kind = kind;
    st->object = object;

    st->session.len = session->len;
    st->session.data = p;

    if (session->len) {
        p = ngx_http_mock_cpymem(p, session->data, session->len);
    }

    st->extra.len = extra->len;
    st->extra.data = p;

    if (extra->len) {
        ngx_memcpy(p, extra->data, extra->len);
    }

    ngx_rbtree_insert(&store->sh->rbtree, &st->node);

    return st;
}


/* the rbtree's order: the hash, then the whole key */

void
ngx_http_mock_state_insert(ngx_rbtree_node_t *temp, ngx_rbtree_node_t *node,
    ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t      **p;
    ngx_http_mock_state_t   *st;

    st = (ngx_http_mock_state_t *) node;

    for ( ;; ) {

        if (node->key != temp->key) {
            p = (node->key < temp->key) ? &temp->left : &temp->right;

        } else {
            p = (ngx_http_mock_state_cmp((ngx_http_mock_state_t *) temp,
                                         st->kind, st->object, &st->session,
                                         &st->extra)
                 < 0) ? &temp->right : &temp->left;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


/* < 0: the key sorts after st */

static ngx_int_t
ngx_http_mock_state_cmp(ngx_http_mock_state_t *st, ngx_uint_t kind,
    void *object, ngx_str_t *session, ngx_str_t *extra)
{
    ngx_int_t  rc;

    if (kind != st->kind) {
        return (kind < st->kind) ? -1 : 1;
    }

    if (object != st->object) {
        return ((uintptr_t) object < (uintptr_t) st->object) ? -1 : 1;
    }

    rc = ngx_memn2cmp(session->data, st->session.data, session->len,
                      st->session.len);
    if (rc) {
        return rc;
    }

    if (kind == NGX_HTTP_MOCK_STATE_INDEX) {
        /* an index is found by its session alone */
        return 0;
    }

    return ngx_memn2cmp(extra->data, st->extra.data, extra->len,
                        st->extra.len);
}


static uint32_t
ngx_http_mock_state_hash(ngx_uint_t kind, void *object, ngx_str_t *session,
    ngx_str_t *extra)
{
    uint32_t  crc;
    u_char    k;

    k = (u_char) kind;

    ngx_crc32_init(crc);
    ngx_crc32_update(&crc, &k, 1);
    ngx_crc32_update(&crc, (u_char *) &object, sizeof(void *));
    ngx_crc32_update(&crc, session->data, session->len);

    if (kind != NGX_HTTP_MOCK_STATE_INDEX) {
        ngx_crc32_update(&crc, extra->data, extra->len);
    }

    ngx_crc32_final(crc);

    return crc;
}


static ngx_int_t
ngx_http_mock_endpoint(ngx_pool_t *pool, ngx_str_t *method, ngx_str_t *path,
    ngx_str_t *endpoint)
{
    endpoint->len = method->len + 1 + path->len;
    endpoint->data = ngx_pnalloc(pool, endpoint->len);
    if (endpoint->data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(endpoint->data, "%V %V", method, path);

    return NGX_OK;
}


/*
 * A template's value remembered in a session ("as NAME"), for every
 * worker and location.  NGX_DECLINED: never remembered.
 */

ngx_int_t
ngx_http_mock_session_var_get(ngx_http_mock_shctx_t *sh, ngx_str_t *session,
    ngx_str_t *name, ngx_pool_t *pool, ngx_str_t *value)
{
    ngx_http_mock_state_t  *st;

    ngx_str_null(value);

    st = ngx_http_mock_state_find(sh, NGX_HTTP_MOCK_STATE_VAR, NULL, session,
                                  name);
    if (st == NULL) {
        return NGX_DECLINED;
    }

    if (st->value == 0) {
        return NGX_OK;
    }

    value->data = ngx_pnalloc(pool, st->value);
    if (value->data == NULL) {
        return NGX_ERROR;
    }

    value->len = st->value;
    ngx_memcpy(value->data, st->value_ptr, st->value);

    return NGX_OK;
}


/*
 * The values of a session take at most "max" bytes, names included.
 * NGX_DECLINED: the value does not fit them; NGX_BUSY: the zone is full.
 */

ngx_int_t
ngx_http_mock_session_var_set(ngx_http_mock_shctx_t *sh, ngx_str_t *session,
    ngx_str_t *name, ngx_str_t *value, size_t max)
{
    size_t                  used, old;
    ngx_str_t               none;
    ngx_http_mock_state_t  *st, *prev, *total;

    ngx_str_null(&none);

    total = ngx_http_mock_state_find(sh, NGX_HTTP_MOCK_STATE_VARS, NULL,
                                     session, &none);
    prev = ngx_http_mock_state_find(sh, NGX_HTTP_MOCK_STATE_VAR, NULL,
                                    session, name);

    used = total ? total->value : 0;
    old = prev ? prev->value + name->len : 0;

    if (used - old + name->len + value->len > max) {
        return NGX_DECLINED;
    }

    /* a value of the same length, as fresh ids are, takes its place */

    if (prev && prev->value == value->len) {
        ngx_http_mock_cpymem(prev->value_ptr, value->data, value->len);
        return NGX_OK;
    }

    if (total == NULL) {
        total = ngx_http_mock_state_new(sh, NGX_HTTP_MOCK_STATE_VARS,
                                        session, &none, 0);
        if (total == NULL) {
            return NGX_BUSY;
        }

        ngx_rbtree_insert(&sh->rbtree, &total->node);
    }

    st = ngx_http_mock_state_new(sh, NGX_HTTP_MOCK_STATE_VAR, session, name,
                                 value->len);
    if (st == NULL) {
        return NGX_BUSY;
    }

    st->value = value->len;
    st->value_ptr = st->extra.data + st->extra.len;
    ngx_http_mock_cpymem(st->value_ptr, value->data, value->len);

    if (prev) {
        ngx_rbtree_delete(&sh->rbtree, &prev->node);
        ngx_slab_free_locked(sh->shpool, prev);
    }

    ngx_rbtree_insert(&sh->rbtree, &st->node);

    total->value = used - old + name->len + value->len;

    return NGX_OK;
}


/*
 * The session's values as the fleet has them, in place of this
 * instance's: a value that another instance changed or a reset removed
 * is read as Redis has it.
 */

ngx_int_t
ngx_http_mock_session_vars_load(ngx_http_request_t *r, ngx_array_t *vars)
{
    size_t                      sum;
    ngx_int_t                   rc;
    ngx_str_t                   none;
    ngx_uint_t                  i, pass;
    ngx_keyval_t               *kv;
    ngx_http_mock_ctx_t        *ctx;
    ngx_http_mock_state_t      *total;
    ngx_http_mock_loc_conf_t   *mlcf;
    ngx_http_mock_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mock_module);
    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mock_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    if (mmcf->sh == NULL || ctx->session.len == 0) {
        return NGX_OK;
    }

    kv = vars->elts;
    sum = 0;

    for (i = 0; i < vars->nelts; i++) {
        sum += kv[i].key.len + kv[i].value.len;
    }

    ngx_str_null(&none);
    rc = NGX_OK;

    ngx_shmtx_lock(&mmcf->shpool->mutex);

    /*
     * The fleet's values are set over this instance's; when this one
     * then has more (a reset elsewhere, another value gone), its own are
     * dropped and the fleet's set again: a walk of the zone only then.
     */

    for (pass = 0; pass < 2; pass++) {

        for (i = 0; i < vars->nelts && rc != NGX_BUSY; i++) {
            rc = ngx_http_mock_session_var_set(mmcf->sh, &ctx->session,
                                               &kv[i].key, &kv[i].value,
                                               mlcf->template_vars);
        }

        total = ngx_http_mock_state_find(mmcf->sh, NGX_HTTP_MOCK_STATE_VARS,
                                         NULL, &ctx->session, &none);

        if (rc == NGX_BUSY || (total ? total->value : 0) == sum || pass) {
            break;
        }

        (void) ngx_http_mock_session_reset(mmcf->sh, &ctx->session,
                                           NGX_HTTP_MOCK_STATE_VAR);
        (void) ngx_http_mock_session_reset(mmcf->sh, &ctx->session,
                                           NGX_HTTP_MOCK_STATE_VARS);
    }

    ngx_shmtx_unlock(&mmcf->shpool->mutex);

    if (rc == NGX_BUSY) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "mock: zone is full: session \"%V\" has only some of "
                      "the fleet's values", &ctx->session);
    }

    return NGX_OK;
}


/*
 * A session's setting of one kind (its latency, its fault), copied into
 * data; NGX_DECLINED: the session has none.
 */

ngx_int_t
ngx_http_mock_session_setting(ngx_http_mock_shctx_t *sh, ngx_uint_t kind,
    ngx_str_t *session, void *data, size_t size)
{
    ngx_str_t               none;
    ngx_http_mock_state_t  *st;

    ngx_str_null(&none);

    st = ngx_http_mock_state_find(sh, kind, NULL, session, &none);

    if (st == NULL || st->value != size) {
        return NGX_DECLINED;
    }

    ngx_memcpy(data, st->value_ptr, size);

    return NGX_OK;
}


/*
 * Sets (or, with data NULL, forgets) a session's setting.  NGX_DECLINED:
 * there was none to forget; NGX_BUSY: there are too many, or the zone is
 * full.
 */

ngx_int_t
ngx_http_mock_session_configure(ngx_http_mock_shctx_t *sh, ngx_uint_t kind,
    ngx_str_t *session, void *data, size_t size)
{
    ngx_str_t               none;
    ngx_http_mock_state_t  *st;

    ngx_str_null(&none);

    st = ngx_http_mock_state_find(sh, kind, NULL, session, &none);

    if (data == NULL) {
        if (st == NULL) {
            return NGX_DECLINED;
        }

        ngx_rbtree_delete(&sh->rbtree, &st->node);
        ngx_slab_free_locked(sh->shpool, st);
        sh->nsettings--;

        return NGX_OK;
    }

    if (st == NULL) {
        if (sh->nsettings >= NGX_HTTP_MOCK_SETTINGS_MAX) {
            return NGX_BUSY;
        }

        st = ngx_http_mock_state_new(sh, kind, session, &none, size);
        if (st == NULL) {
            return NGX_BUSY;
        }

        st->value = size;
        st->value_ptr = st->extra.data;

        ngx_rbtree_insert(&sh->rbtree, &st->node);
        sh->nsettings++;
    }

    ngx_memcpy(st->value_ptr, data, size);

    return NGX_OK;
}


/*
 * The number, from 1, of this request among a session's requests to a
 * store; 0 when the zone is full.
 */

ngx_uint_t
ngx_http_mock_session_tick(ngx_http_mock_store_t *store, ngx_str_t *session)
{
    ngx_str_t               none;
    ngx_http_mock_state_t  *st;

    ngx_str_null(&none);

    st = ngx_http_mock_state_find(store->sh, NGX_HTTP_MOCK_STATE_REQUESTS,
                                  store, session, &none);

    if (st == NULL) {
        st = ngx_http_mock_state_add(store, NGX_HTTP_MOCK_STATE_REQUESTS,
                                     store, session, &none);
        if (st == NULL) {
            return 0;
        }
    }

    return ++st->value;
}


/* a state not yet in the rbtree, with room for "more" bytes after it */

static ngx_http_mock_state_t *
ngx_http_mock_state_new(ngx_http_mock_shctx_t *sh, ngx_uint_t kind,
    ngx_str_t *session, ngx_str_t *extra, size_t more)
{
    u_char                 *p;
    ngx_http_mock_state_t  *st;

    st = ngx_slab_alloc_locked(sh->shpool, sizeof(ngx_http_mock_state_t)
                                           + session->len + extra->len
                                           + more);
    if (st == NULL) {
        return NULL;
    }

    ngx_memzero(st, sizeof(ngx_http_mock_state_t));

    p = (u_char *) (st + 1);

    st->node.key = ngx_http_mock_state_hash(kind, NULL, session, extra);
    st->kind = kind;

    st->session.len = session->len;
    st->session.data = p;
    p = ngx_http_mock_cpymem(p, session->data, session->len);

    st->extra.len = extra->len;
    st->extra.data = p;
    (void) ngx_http_mock_cpymem(p, extra->data, extra->len);

    return st;
}


/*
 * An interaction has been played when its group's sequence has passed
 * it; forced answers and plays under mock_repeats are counted too.
 * Locked.
 */

ngx_uint_t
ngx_http_mock_session_used(ngx_http_mock_store_t *store,
    ngx_http_mock_index_t *index, ngx_str_t *session,
    ngx_http_mock_interaction_t *it)
{
    ngx_uint_t              k, plays, played;
    ngx_http_mock_group_t  *g;

    /* forced answers and mock_repeats plays are counted one by one */

    plays = session->len ? ngx_http_mock_session_plays(store->sh, session, it)
                         : 0;

    g = ngx_http_mock_store_find(index, &it->key, store->match);

    if (g == NULL) {
        return plays;
    }

    played = session->len ? ngx_http_mock_session_next(store, session, g, 1)
                          : g->played;

    for (k = 0; k < g->n; k++) {
        if (g->items[k] == it) {
            return plays + ((k < played) ? 1 : 0);
        }
    }

    return plays;
}
