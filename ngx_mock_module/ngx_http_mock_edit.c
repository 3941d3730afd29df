
/*
 * Editing cassettes through the admin API: a response replaced, an
 * interaction added, removed or marked stale, and the interactions a
 * session never played pruned; the cassette is written anew, checked by
 * the cassette loader, loaded into the zone and renamed into place.
 */


#include "ngx_http_mock_module.h"


#define NGX_HTTP_MOCK_EDIT_PUT     1
#define NGX_HTTP_MOCK_EDIT_ADD     2
#define NGX_HTTP_MOCK_EDIT_DELETE  3
#define NGX_HTTP_MOCK_EDIT_STALE   4
#define NGX_HTTP_MOCK_EDIT_PRUNE   5


typedef struct {
    ngx_http_request_t           *r;
    ngx_uint_t                    op;
    ngx_uint_t                    n;            /* the interaction */
    ngx_http_mock_store_t        *store;
    ngx_str_t                     name;         /* the cassette, C string */
    ngx_http_mock_writer_t       *writer;       /* it is recorded into */
    ngx_pool_t                   *pool;
    ngx_log_t                     log;          /* errors go to the answer */
    ngx_conf_t                    cf;
    ngx_str_t                     error;
    ngx_str_t                     session;
    ngx_http_mock_cassette_t     *cassette;     /* as read */
    ngx_http_mock_cassette_t     *saved;        /* as written and read */
    ngx_http_mock_record_t       *rec;          /* what the body says */
    ngx_uint_t                    removed;
    ngx_uint_t                    strict;       /* warnings are errors */
    ngx_uint_t                    done;         /* in the file and zone */
    ngx_uint_t                    status;       /* of the failure */
    ngx_str_t                     reason;
    off_t                         size;         /* of the new file */
    ngx_uint_t                    ino;
    u_char                        tmp[NGX_MAX_PATH];
    u_char                        bak[NGX_MAX_PATH];
} ngx_http_mock_edit_t;


static ngx_int_t ngx_http_mock_edit_route(ngx_http_request_t *r,
    ngx_str_t *name, ngx_uint_t *op, ngx_uint_t *n);
static ngx_int_t ngx_http_mock_edit_run(ngx_http_mock_edit_t *e);
static ngx_int_t ngx_http_mock_edit_locked(ngx_http_mock_edit_t *e);
static ngx_int_t ngx_http_mock_edit_target(ngx_http_mock_edit_t *e);
static ngx_int_t ngx_http_mock_edit_store(ngx_http_mock_edit_t *e);
static ngx_int_t ngx_http_mock_edit_cassette(ngx_http_mock_edit_t *e,
    ngx_str_t *name);
static ngx_int_t ngx_http_mock_edit_writer(ngx_http_mock_edit_t *e);
static ngx_int_t ngx_http_mock_edit_arg(ngx_http_mock_edit_t *e, char *name,
    ngx_str_t *value);
static ngx_int_t ngx_http_mock_edit_body(ngx_http_mock_edit_t *e);
static ngx_int_t ngx_http_mock_edit_text(ngx_http_mock_edit_t *e,
    ngx_str_t *json, ngx_str_t *out);
static ngx_int_t ngx_http_mock_edit_apply(ngx_http_mock_edit_t *e);
static ngx_int_t ngx_http_mock_edit_zone(ngx_http_mock_edit_t *e,
    u_char *unused);
static ngx_int_t ngx_http_mock_edit_save(ngx_http_mock_edit_t *e);
static ngx_int_t ngx_http_mock_edit_reload(ngx_http_mock_edit_t *e);
static void ngx_http_mock_edit_log_writer(ngx_log_t *log, ngx_uint_t level,
    u_char *buf, size_t len);
static ngx_int_t ngx_http_mock_edit_fail(ngx_http_mock_edit_t *e,
    ngx_uint_t status, char *fmt, ...);
static ngx_int_t ngx_http_mock_edit_answer(ngx_http_mock_edit_t *e);
static ngx_int_t ngx_http_mock_edit_send(ngx_http_request_t *r,
    ngx_uint_t status, u_char *data, size_t len);


/*
 * POST interactions, PUT and DELETE interactions/N, POST
 * interactions/N/stale, POST prune; NGX_DECLINED for what the admin
 * answers itself.
 */

ngx_int_t
ngx_http_mock_edit_handler(ngx_http_request_t *r, ngx_str_t *name)
{
    ngx_int_t              rc;
    ngx_uint_t             op, n;
    ngx_http_mock_edit_t  *e;

    op = 0;
    n = 0;

    /* op stays 0 where the route itself answered */

    rc = ngx_http_mock_edit_route(r, name, &op, &n);
    if (rc != NGX_OK || op == 0) {
        return rc;
    }

    e = ngx_pcalloc(r->pool, sizeof(ngx_http_mock_edit_t));
    if (e == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    e->r = r;
    e->op = op;
    e->n = n;

    e->pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, r->connection->log);
    if (e->pool == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_mock_edit_run(e);

    ngx_destroy_pool(e->pool);

    return rc;
}


static ngx_int_t
ngx_http_mock_edit_route(ngx_http_request_t *r, ngx_str_t *name,
    ngx_uint_t *op, ngx_uint_t *n)
{
    u_char     *p, *last, *start;
    ngx_int_t   num;

    p = name->data;
    last = name->data + name->len;

    if (name->len == sizeof("prune") - 1
        && ngx_strncmp(p, "prune", sizeof("prune") - 1) == 0)
    {
        if (r->method != NGX_HTTP_POST) {
            return ngx_http_mock_edit_send(r, NGX_HTTP_NOT_ALLOWED,
                       (u_char *) "{\"error\": \"prune takes POST\"}\n",
                       sizeof("{\"error\": \"prune takes POST\"}\n") - 1);
        }

        *op = NGX_HTTP_MOCK_EDIT_PRUNE;
        *n = 0;
        return NGX_OK;
    }

    if (name->len < sizeof("interactions") - 1
        || ngx_strncmp(p, "interactions", sizeof("interactions") - 1) != 0)
    {
        return NGX_DECLINED;
    }

    p += sizeof("interactions") - 1;

    if (p == last) {
        if (r->method != NGX_HTTP_POST) {
            return NGX_DECLINED;
        }

        *op = NGX_HTTP_MOCK_EDIT_ADD;
        *n = 0;
        return NGX_OK;
    }

    if (*p++ != '/') {
        return NGX_DECLINED;
    }

    start = p;

    while (p < last && *p >= '0' && *p <= '9') {
        p++;
    }

    num = (p > start && p - start < 10) ? ngx_atoi(start, p - start)
                                        : NGX_ERROR;

    if (num == NGX_ERROR) {
        return ngx_http_mock_edit_send(r, NGX_HTTP_NOT_FOUND,
                   (u_char *) "{\"error\": \"interactions/N: N is the "
                              "number of an interaction in its "
                              "cassette\"}\n",
                   sizeof("{\"error\": \"interactions/N: N is the "
                          "number of an interaction in its "
                          "cassette\"}\n") - 1);
    }

    *n = num;

    if (p == last) {
        if (r->method == NGX_HTTP_PUT) {
            *op = NGX_HTTP_MOCK_EDIT_PUT;
            return NGX_OK;
        }

        if (r->method == NGX_HTTP_DELETE) {
            *op = NGX_HTTP_MOCK_EDIT_DELETE;
            return NGX_OK;
        }

        return ngx_http_mock_edit_send(r, NGX_HTTP_NOT_ALLOWED,
                   (u_char *) "{\"error\": \"interactions/N takes PUT or "
                              "DELETE\"}\n",
                   sizeof("{\"error\": \"interactions/N takes PUT or "
                          "DELETE\"}\n") - 1);
    }

    if ((size_t) (last - p) == sizeof("/stale") - 1
        && ngx_strncmp(p, "/stale", sizeof("/stale") - 1) == 0)
    {
        if (r->method != NGX_HTTP_POST) {
            return ngx_http_mock_edit_send(r, NGX_HTTP_NOT_ALLOWED,
                       (u_char *) "{\"error\": \"interactions/N/stale "
                                  "takes POST\"}\n",
                       sizeof("{\"error\": \"interactions/N/stale "
                              "takes POST\"}\n") - 1);
        }

        *op = NGX_HTTP_MOCK_EDIT_STALE;
        return NGX_OK;
    }

    return NGX_DECLINED;
}


/* the lock of edits, which POST reload takes too */

void
ngx_http_mock_edit_lock(ngx_http_request_t *r)
{
    ngx_http_mock_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mock_module);

    if (mmcf->sh) {
        (void) ngx_http_mock_writer_lock(&mmcf->sh->edit_lock);
    }
}


void
ngx_http_mock_edit_unlock(ngx_http_request_t *r)
{
    ngx_http_mock_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mock_module);

    if (mmcf->sh) {
        ngx_http_mock_writer_unlock(&mmcf->sh->edit_lock);
    }
}


/*
 * Edits are made one at a time, under a lock in the zone, and a cassette
 * that is recorded into is edited under its file's lock too: recordings
 * wait for the edit, then append to the file it wrote.
 */

static ngx_int_t
ngx_http_mock_edit_run(ngx_http_mock_edit_t *e)
{
    ngx_int_t                   rc;
    ngx_http_mock_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(e->r, ngx_http_mock_module);

    if (mmcf->sh == NULL) {
        (void) ngx_http_mock_edit_fail(e, NGX_HTTP_NOT_FOUND,
                                       "no cassettes are configured");
        return ngx_http_mock_edit_answer(e);
    }

    e->log = *e->r->connection->log;
    e->log.writer = ngx_http_mock_edit_log_writer;
    e->log.wdata = e;
    e->log.log_level = NGX_LOG_WARN;
    e->log.handler = NULL;
    e->log.next = NULL;

    e->cf.pool = e->pool;
    e->cf.temp_pool = e->pool;
    e->cf.log = &e->log;
    e->cf.cycle = (ngx_cycle_t *) ngx_cycle;

    rc = ngx_http_mock_edit_target(e);

    if (rc == NGX_OK) {
        rc = ngx_http_mock_edit_body(e);
    }

    if (rc != NGX_OK) {
        return ngx_http_mock_edit_answer(e);
    }

    ngx_http_mock_edit_lock(e->r);

    if (e->writer
        && ngx_http_mock_writer_lock_file(e->writer, e->r->connection->log)
           != NGX_OK)
    {
        ngx_http_mock_edit_unlock(e->r);
        (void) ngx_http_mock_edit_fail(e, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                       "the cassette's lock cannot be "
                                       "taken");
        return ngx_http_mock_edit_answer(e);
    }

    (void) ngx_http_mock_edit_locked(e);

    if (e->writer) {
        ngx_http_mock_writer_unlock_file(e->writer);
    }

    ngx_http_mock_edit_unlock(e->r);

    return ngx_http_mock_edit_answer(e);
}


static ngx_int_t
ngx_http_mock_edit_locked(ngx_http_mock_edit_t *e)
{
    ngx_err_t  err;

    e->cassette = ngx_http_mock_cassette_load(&e->cf, e->pool, &e->name);

    /*
     * Reading the file closed a descriptor of it, which dropped the
     * writer's fcntl() lock: it is taken again, and the file must still
     * be what was read.
     */

    if (e->writer) {
        switch (ngx_http_mock_writer_relock(e->writer,
                                            e->r->connection->log)) {

        case NGX_OK:
            break;

        case NGX_DECLINED:
            return ngx_http_mock_edit_fail(e, NGX_HTTP_CONFLICT,
                                           "the cassette was recorded into "
                                           "while it was read; try again");

        default:
            return ngx_http_mock_edit_fail(e, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                           "the cassette's lock cannot be "
                                           "taken");
        }
    }

    if (e->cassette == NULL) {
        return ngx_http_mock_edit_fail(e, 422, "%V", &e->error);
    }

    if (ngx_http_mock_edit_apply(e) != NGX_OK
        || ngx_http_mock_edit_save(e) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* prune keeps the file it replaces, under the same inode */

    if (e->op == NGX_HTTP_MOCK_EDIT_PRUNE && !e->cassette->missing) {
        (void) ngx_snprintf(e->bak, NGX_MAX_PATH - 1, "%V.bak%Z", &e->name);

        if ((ngx_delete_file(e->bak) == NGX_FILE_ERROR
             && ngx_errno != NGX_ENOENT)
            || link((char *) e->name.data, (char *) e->bak) == -1)
        {
            err = ngx_errno;
            (void) ngx_delete_file(e->tmp);

            return ngx_http_mock_edit_fail(e, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                           "\"%s\" cannot be made (%s); the "
                                           "cassette is unchanged", e->bak,
                                           strerror(err));
        }
    }

    if (ngx_http_mock_edit_reload(e) != NGX_OK) {
        (void) ngx_delete_file(e->tmp);
        return NGX_ERROR;
    }

    if (ngx_http_mock_writer_install(e->writer, e->tmp, e->name.data,
                                     e->saved->size, e->ino,
                                     e->saved->records.nelts)
        != NGX_OK)
    {
        err = ngx_errno;
        (void) ngx_delete_file(e->tmp);

        ngx_log_error(NGX_LOG_ALERT, e->r->connection->log, err,
                      "mock: the edited cassette \"%V\" is in the zone, but "
                      "cannot be renamed into place", &e->name);

        return ngx_http_mock_edit_fail(e, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                       "the edited cassette cannot be "
                                       "renamed over \"%V\" (%s); the zone "
                                       "has it until the next reload",
                                       &e->name, strerror(err));
    }

    e->done = 1;

    return NGX_OK;
}


/* the store, the session, its cassette and the file's writer */

static ngx_int_t
ngx_http_mock_edit_target(ngx_http_mock_edit_t *e)
{
    ngx_int_t  rc;
    ngx_str_t  value, name;

    rc = ngx_http_mock_edit_store(e);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_mock_edit_arg(e, "session", &value) == NGX_OK
        && value.len)
    {
        if (value.len > NGX_HTTP_MOCK_SESSION_MAX) {
            return ngx_http_mock_edit_fail(e, NGX_HTTP_BAD_REQUEST,
                                           "\"session\" is longer than %d "
                                           "bytes",
                                           NGX_HTTP_MOCK_SESSION_MAX);
        }

        if (ngx_http_mock_session_name(e->r->pool, &value, &e->session)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

    } else if (e->store->sessions) {
        ngx_str_set(&e->session, "default");
    }

    rc = ngx_http_mock_edit_cassette(e, &name);
    if (rc != NGX_OK) {
        return rc;
    }

    if (name.len + sizeof(".edit.tmp") > NGX_MAX_PATH) {
        return ngx_http_mock_edit_fail(e, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                       "the cassette's path is too long");
    }

    e->name.len = name.len;
    e->name.data = ngx_pnalloc(e->r->pool, name.len + 1);
    if (e->name.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(e->name.data, name.data, name.len);
    e->name.data[name.len] = '\0';

    (void) ngx_snprintf(e->tmp, NGX_MAX_PATH - 1, "%V.edit.tmp%Z", &name);

    return ngx_http_mock_edit_writer(e);
}


/* "store": its number in the list, or its path; alone it may be left out */

static ngx_int_t
ngx_http_mock_edit_store(ngx_http_mock_edit_t *e)
{
    ngx_int_t                   n;
    ngx_str_t                   value;
    ngx_uint_t                  i;
    ngx_http_mock_store_t     **stores;
    ngx_http_mock_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(e->r, ngx_http_mock_module);
    stores = mmcf->stores.elts;

    if (ngx_http_mock_edit_arg(e, "store", &value) != NGX_OK) {
        if (mmcf->stores.nelts != 1) {
            return ngx_http_mock_edit_fail(e, NGX_HTTP_BAD_REQUEST,
                                           "there are %ui cassette stores: "
                                           "name one with \"store\"",
                                           mmcf->stores.nelts);
        }

        e->store = stores[0];
        return NGX_OK;
    }

    n = ngx_atoi(value.data, value.len);

    if (n != NGX_ERROR && (ngx_uint_t) n < mmcf->stores.nelts) {
        e->store = stores[n];
        return NGX_OK;
    }

    for (i = 0; i < mmcf->stores.nelts; i++) {
        if (stores[i]->path.len == value.len
            && ngx_strncmp(stores[i]->path.data, value.data, value.len) == 0)
        {
            e->store = stores[i];
            return NGX_OK;
        }
    }

    return ngx_http_mock_edit_fail(e, NGX_HTTP_NOT_FOUND,
                                   "no cassette store \"%V\"", &value);
}


/*
 * The cassette: the session's in a session directory, the store's file,
 * or one of its directory by its name or path.
 */

static ngx_int_t
ngx_http_mock_edit_cassette(ngx_http_mock_edit_t *e, ngx_str_t *name)
{
    u_char                 *p;
    ngx_str_t               value;
    ngx_file_info_t         fi;
    ngx_http_mock_store_t  *store;

    store = e->store;

    if (store->sessions) {
        value = e->session;
        goto in_dir;
    }

    if (ngx_file_info(store->path.data, &fi) == NGX_FILE_ERROR
        || !ngx_is_dir(&fi))
    {
        *name = store->path;
        return NGX_OK;
    }

    if (ngx_http_mock_edit_arg(e, "cassette", &value) != NGX_OK) {
        return ngx_http_mock_edit_fail(e, NGX_HTTP_BAD_REQUEST,
                                       "\"%V\" is a directory: name a "
                                       "cassette in it with \"cassette\"",
                                       &store->path);
    }

    if (value.len > store->path.len + 1
        && ngx_strncmp(value.data, store->path.data, store->path.len) == 0
        && value.data[store->path.len] == '/')
    {
        value.data += store->path.len + 1;
        value.len -= store->path.len + 1;
    }

    if (value.len == 0 || value.data[0] == '.'
        || ngx_strlchr(value.data, value.data + value.len, '/')
        || ngx_strlchr(value.data, value.data + value.len, '\0')
        || !((value.len > 5
              && ngx_strncmp(value.data + value.len - 5, ".yaml", 5) == 0)
             || (value.len > 4
                 && ngx_strncmp(value.data + value.len - 4, ".yml", 4)
                    == 0)))
    {
        return ngx_http_mock_edit_fail(e, NGX_HTTP_NOT_FOUND,
                                       "no cassette \"%V\" in \"%V\"",
                                       &value, &store->path);
    }

in_dir:

    name->len = store->path.len + 1 + value.len
                + (store->sessions ? sizeof(".yaml") - 1 : 0);
    name->data = ngx_pnalloc(e->r->pool, name->len);
    if (name->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(name->data, store->path.data, store->path.len);
    *p++ = '/';
    p = ngx_cpymem(p, value.data, value.len);

    if (store->sessions) {
        ngx_memcpy(p, ".yaml", sizeof(".yaml") - 1);
    }

    return NGX_OK;
}


/*
 * The writer of a cassette that is recorded into, whose lock the edit
 * takes: the configuration's, or, for sessions that record, this
 * worker's for the session.
 */

static ngx_int_t
ngx_http_mock_edit_writer(ngx_http_mock_edit_t *e)
{
    ngx_uint_t                  i;
    ngx_file_info_t             fi;
    ngx_http_mock_store_t      *store;
    ngx_http_mock_writer_t    **writers;
    ngx_http_mock_main_conf_t  *mmcf;

    store = e->store;

    if (store->sessions && store->records) {
        e->writer = ngx_http_mock_session_writer(e->r, store, &e->session);

        if (e->writer == NULL) {
            return ngx_http_mock_edit_fail(e, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                           "the cassette of session \"%V\" "
                                           "cannot be opened", &e->session);
        }

        return NGX_OK;
    }

    if (store->sessions) {
        if (ngx_file_info(e->name.data, &fi) == NGX_FILE_ERROR) {
            return ngx_http_mock_edit_fail(e, NGX_HTTP_NOT_FOUND,
                                           "session \"%V\" has no cassette "
                                           "in \"%V\"", &e->session,
                                           &store->path);
        }

        return NGX_OK;
    }

    mmcf = ngx_http_get_module_main_conf(e->r, ngx_http_mock_module);
    writers = mmcf->writers.elts;

    for (i = 0; i < mmcf->writers.nelts; i++) {
        if (writers[i]->name.len == e->name.len
            && ngx_strncmp(writers[i]->name.data, e->name.data, e->name.len)
               == 0)
        {
            e->writer = writers[i];
        }
    }

    return NGX_OK;
}


/*
 * A parameter from the query string, or from the body's flat JSON object
 * where the body is not an interaction.
 */

static ngx_int_t
ngx_http_mock_edit_arg(ngx_http_mock_edit_t *e, char *name,
    ngx_str_t *value)
{
    u_char     *dst, *src;
    size_t      len;
    ngx_str_t   raw, body, path;
    u_char      buf[32];

    len = ngx_strlen(name);

    if (ngx_http_arg(e->r, (u_char *) name, len, &raw) == NGX_OK) {
        dst = ngx_pnalloc(e->r->pool, raw.len);
        if (dst == NULL) {
            return NGX_ERROR;
        }

        value->data = dst;
        src = raw.data;
        ngx_unescape_uri(&dst, &src, raw.len, NGX_UNESCAPE_URI);
        value->len = dst - value->data;

        return NGX_OK;
    }

    if (e->op == NGX_HTTP_MOCK_EDIT_PUT || e->op == NGX_HTTP_MOCK_EDIT_ADD
        || e->r->request_body == NULL || e->r->request_body->bufs == NULL
        || ngx_http_mock_request_body(e->r, &body) != NGX_OK
        || body.len == 0)
    {
        return NGX_DECLINED;
    }

    path.data = buf;
    path.len = ngx_snprintf(buf, sizeof(buf), "$.%s", name) - buf;

    if (ngx_http_mock_json_get(e->r->pool, &body, &path, value) != NGX_OK
        || value->data == NULL)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * What PUT and POST bring, read by the cassette loader as it reads a
 * cassette, so that every rule it applies holds: the body is strict JSON
 * in the shape of a vcrpy interaction (POST) or {"response": ...} (PUT),
 * which, on one line, is YAML too.  A body given as {"base64_string":
 * "..."} is the cassette's !!binary.
 */

static ngx_int_t
ngx_http_mock_edit_body(ngx_http_mock_edit_t *e)
{
    u_char       *p;
    ngx_str_t     body, canon, text, resp, path, name;
    ngx_array_t  *records;

    if (e->op != NGX_HTTP_MOCK_EDIT_PUT && e->op != NGX_HTTP_MOCK_EDIT_ADD) {
        return NGX_OK;
    }

    if (e->r->request_body == NULL || e->r->request_body->bufs == NULL
        || ngx_http_mock_request_body(e->r, &body) != NGX_OK
        || body.len == 0)
    {
        return ngx_http_mock_edit_fail(e, NGX_HTTP_BAD_REQUEST,
                                       "the body must be a JSON object: %s",
                                       e->op == NGX_HTTP_MOCK_EDIT_PUT
                                       ? "{\"response\": {...}}"
                                       : "{\"request\": {...}, "
                                         "\"response\": {...}}");
    }

    if (ngx_http_mock_json_canon(e->pool, &body, &canon) != NGX_OK
        || canon.len == 0 || canon.data[0] != '{')
    {
        return ngx_http_mock_edit_fail(e, NGX_HTTP_BAD_REQUEST,
                                       "the body is not a JSON object");
    }

    if (e->op == NGX_HTTP_MOCK_EDIT_PUT) {
        ngx_str_set(&path, "$.response");

        if (ngx_http_mock_json_get(e->pool, &canon, &path, &resp) != NGX_OK
            || resp.len == 0 || resp.data[0] != '{')
        {
            return ngx_http_mock_edit_fail(e, NGX_HTTP_BAD_REQUEST,
                                           "the body has no \"response\" "
                                           "object");
        }

        canon = resp;
    }

    if (ngx_http_mock_edit_text(e, &canon, &text) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_str_set(&name, "the body");

    /* what the loader would drop with a warning is refused */

    e->strict = 1;

    records = ngx_http_mock_cassette_entries(e->pool, &e->log, &name, &text,
                                             NULL);

    e->strict = 0;

    if (records == NULL || records->nelts != 1 || e->error.len) {

        /* where in the text made of the body does not help: what does */

        p = ngx_strlcasestrn(e->error.data, e->error.data + e->error.len,
                             (u_char *) ", column ", 9 - 1);
        p = p ? ngx_strlchr(p, e->error.data + e->error.len, ':') : NULL;

        if (p && p + 2 <= e->error.data + e->error.len) {
            e->error.len -= p + 2 - e->error.data;
            e->error.data = p + 2;
        }

        return ngx_http_mock_edit_fail(e, 422, "the body: %V",
                                       e->error.len ? &e->error : &name);
    }

    e->rec = records->elts;

    return NGX_OK;
}


/*
 * The text the loader reads: an item of "interactions" on one line, the
 * response of PUT after a request that stands in for the one it keeps.
 */

static ngx_int_t
ngx_http_mock_edit_text(ngx_http_mock_edit_t *e, ngx_str_t *json,
    ngx_str_t *out)
{
    u_char      *p, *q, *last;
    size_t       len;
    ngx_str_t    canon, text;

    static u_char  b64[] = "\"base64_string\":\"";
    static u_char  bin[] = "\"string\":!!binary \"";
    static u_char  head[] = "- response: ";
    static u_char  req[] = "\n  request: {\"body\": null, \"headers\": {}, "
                           "\"method\": \"GET\", "
                           "\"uri\": \"http://edit.invalid/\"}\n";

    canon = *json;

    /* room for each "base64_string" to become a !!binary "string" */

    len = sizeof(head) + sizeof(req) + canon.len
          + (canon.len / (sizeof(b64) - 1) + 1) * (sizeof(bin) - sizeof(b64));

    text.data = ngx_pnalloc(e->pool, len);
    if (text.data == NULL) {
        return NGX_ERROR;
    }

    p = text.data;

    if (e->op == NGX_HTTP_MOCK_EDIT_PUT) {
        p = ngx_cpymem(p, head, sizeof(head) - 1);

    } else {
        *p++ = '-';
        *p++ = ' ';
    }

    /* in canonical JSON, a quote that ends a string is not escaped */

    q = canon.data;
    last = canon.data + canon.len;

    while (q < last) {
        if ((size_t) (last - q) >= sizeof(b64) - 1
            && ngx_strncmp(q, b64, sizeof(b64) - 1) == 0)
        {
            p = ngx_cpymem(p, bin, sizeof(bin) - 1);
            q += sizeof(b64) - 1;
            continue;
        }

        *p++ = *q++;
    }

    if (e->op == NGX_HTTP_MOCK_EDIT_PUT) {
        p = ngx_cpymem(p, req, sizeof(req) - 1);

    } else {
        *p++ = '\n';
    }

    text.len = p - text.data;
    *out = text;

    return NGX_OK;
}



/* the change, in the records read from the file */

static ngx_int_t
ngx_http_mock_edit_apply(ngx_http_mock_edit_t *e)
{
    u_char                  *unused;
    ngx_int_t                rc;
    ngx_uint_t               i, k, nelts;
    ngx_http_mock_record_t  *rec, *new;

    nelts = e->cassette->records.nelts;

    unused = ngx_pcalloc(e->pool, nelts + 1);
    if (unused == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_mock_edit_zone(e, unused);
    if (rc != NGX_OK) {
        return rc;
    }

    if (e->op != NGX_HTTP_MOCK_EDIT_ADD && e->op != NGX_HTTP_MOCK_EDIT_PRUNE
        && e->n >= nelts)
    {
        return ngx_http_mock_edit_fail(e, NGX_HTTP_NOT_FOUND,
                                       "no interaction %ui in \"%V\", which "
                                       "has %ui", e->n, &e->name, nelts);
    }

    rec = e->cassette->records.elts;

    switch (e->op) {

    case NGX_HTTP_MOCK_EDIT_PUT:
        new = e->rec;
        rec[e->n].status = new->status;
        rec[e->n].reason = new->reason;
        rec[e->n].headers = new->headers;
        rec[e->n].body = new->body;
        rec[e->n].binary = new->binary;
        rec[e->n].templated = NULL;
        rec[e->n].recorded = ngx_time();
        break;

    case NGX_HTTP_MOCK_EDIT_ADD:
        new = ngx_array_push(&e->cassette->records);
        if (new == NULL) {
            return NGX_ERROR;
        }

        *new = *e->rec;

        if (new->recorded == 0) {
            new->recorded = ngx_time();
        }

        e->n = nelts;
        break;

    case NGX_HTTP_MOCK_EDIT_DELETE:
        ngx_memmove(&rec[e->n], &rec[e->n + 1],
                    (nelts - e->n - 1) * sizeof(ngx_http_mock_record_t));
        e->cassette->records.nelts--;
        break;

    case NGX_HTTP_MOCK_EDIT_STALE:
        rec[e->n].stale = 1;
        break;

    default: /* NGX_HTTP_MOCK_EDIT_PRUNE */

        for (i = 0, k = 0; i < nelts; i++) {
            if (unused[i]) {
                e->removed++;
                continue;
            }

            rec[k++] = rec[i];
        }

        e->cassette->records.nelts = k;
        break;
    }

    return NGX_OK;
}


/*
 * The zone must hold what the file holds, so that numbers mean the same
 * in both; for prune, the interactions that the session never played.
 */

static ngx_int_t
ngx_http_mock_edit_zone(ngx_http_mock_edit_t *e, u_char *unused)
{
    ngx_uint_t                    i, count, nelts, bad;
    ngx_http_mock_index_t        *index;
    ngx_http_mock_store_t        *store;
    ngx_http_mock_interaction_t  *it;

    store = e->store;
    nelts = e->cassette->records.nelts;
    count = 0;
    bad = 0;

    ngx_shmtx_lock(&store->shpool->mutex);

    index = store->sessions
            ? ngx_http_mock_session_index(store, &e->session, 0, NULL, NULL)
            : ngx_http_mock_current(store->shared);

    for (i = 0; index && index->ninteractions && i <= index->path_mask; i++)
    {
        for (it = index->paths[i].head; it; it = it->next_path) {
            if (it->cassette->len != e->name.len
                || ngx_strncmp(it->cassette->data, e->name.data,
                               e->name.len) != 0)
            {
                continue;
            }

            count++;

            if (it->index >= nelts) {
                bad = 1;
                continue;
            }

            if (e->op == NGX_HTTP_MOCK_EDIT_PRUNE
                && ngx_http_mock_session_used(store, index, &e->session, it)
                   == 0)
            {
                unused[it->index] = 1;
            }
        }
    }

    ngx_shmtx_unlock(&store->shpool->mutex);

    if (bad || count != nelts) {
        return ngx_http_mock_edit_fail(e, NGX_HTTP_CONFLICT,
                                       "\"%V\" has %ui interactions in its "
                                       "file and %ui in the zone: it has "
                                       "changed on disk; reload it first",
                                       &e->name, nelts, count);
    }

    return NGX_OK;
}


/* the new file, written next to the cassette and read back as nginx -t */

static ngx_int_t
ngx_http_mock_edit_save(ngx_http_mock_edit_t *e)
{
    ngx_err_t                err;
    ngx_str_t                tmp;
    ngx_uint_t               i;
    ngx_http_mock_record_t  *rec;

    /* what has no time of its own keeps the file's */

    rec = e->cassette->records.elts;

    for (i = 0; i < e->cassette->records.nelts; i++) {
        if (rec[i].recorded == 0) {
            rec[i].recorded = e->cassette->mtime;
        }
    }

    if (ngx_http_mock_writer_save(e->tmp, &e->cassette->records,
                                  e->writer != NULL, e->pool, &e->size,
                                  &e->ino)
        != NGX_OK)
    {
        err = ngx_errno;

        if (err == NGX_ENOSPC || err == EDQUOT || err == EFBIG) {
            return ngx_http_mock_edit_fail(e, NGX_HTTP_INSUFFICIENT_STORAGE,
                                           "no room on the disk for the "
                                           "edited cassette (%s); it is "
                                           "unchanged", strerror(err));
        }

        return ngx_http_mock_edit_fail(e, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                       "the edited cassette cannot be "
                                       "written to \"%s\" (%s); it is "
                                       "unchanged", e->tmp, strerror(err));
    }

    tmp.data = e->tmp;
    tmp.len = ngx_strlen(e->tmp);

    e->error.len = 0;
    e->saved = ngx_http_mock_cassette_load(&e->cf, e->pool, &tmp);

    if (e->saved == NULL) {
        (void) ngx_delete_file(e->tmp);
        return ngx_http_mock_edit_fail(e, 422, "the edit makes a cassette "
                                       "that cannot be loaded: %V",
                                       &e->error);
    }

    if (e->saved->records.nelts != e->cassette->records.nelts
        || e->saved->valid != e->saved->size)
    {
        (void) ngx_delete_file(e->tmp);
        return ngx_http_mock_edit_fail(e, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                       "the edited cassette reads back with "
                                       "%ui interactions, not %ui; it is "
                                       "unchanged",
                                       e->saved->records.nelts,
                                       e->cassette->records.nelts);
    }

    e->saved->name = e->name;
    e->saved->missing = 0;

    return NGX_OK;
}


/*
 * The zone gets the cassettes as POST reload reads them, with the edited
 * one as it was written: all indexes are built before any is swapped in,
 * so a zone too small changes nothing.
 */

static ngx_int_t
ngx_http_mock_edit_reload(ngx_http_mock_edit_t *e)
{
    ngx_int_t                   rc;
    ngx_uint_t                  i;
    ngx_array_t                *lists, cache;
    ngx_http_mock_room_t        room;
    ngx_http_mock_store_t     **stores;
    ngx_http_mock_cassette_t  **cp;
    ngx_http_mock_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(e->r, ngx_http_mock_module);
    stores = mmcf->stores.elts;

    lists = ngx_pcalloc(e->pool, mmcf->stores.nelts * sizeof(ngx_array_t));

    if (lists == NULL
        || ngx_array_init(&cache, e->pool, 4,
                          sizeof(ngx_http_mock_cassette_t *))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    cp = ngx_array_push(&cache);
    if (cp == NULL) {
        return NGX_ERROR;
    }

    *cp = e->saved;

    e->error.len = 0;

    for (i = 0; i < mmcf->stores.nelts; i++) {
        if (ngx_array_init(&lists[i], e->pool, 4,
                           sizeof(ngx_http_mock_cassette_t *))
            != NGX_OK
            || ngx_http_mock_cassettes_open(&e->cf, e->pool, &stores[i]->path,
                                            &lists[i], &cache)
               != NGX_OK
            || ngx_http_mock_template_cassettes(&e->cf, e->pool, &lists[i],
                                                stores[i]->template)
               != NGX_OK)
        {
            return ngx_http_mock_edit_fail(e, 422, "the cassettes cannot be "
                                           "loaded again: %V; nothing is "
                                           "changed", &e->error);
        }
    }

    ngx_shmtx_lock(&mmcf->shpool->mutex);
    rc = ngx_http_mock_store_reload(mmcf, lists, &room, e->r->connection->log);
    ngx_shmtx_unlock(&mmcf->shpool->mutex);

    if (rc == NGX_DECLINED) {
        return ngx_http_mock_edit_fail(e, NGX_HTTP_INSUFFICIENT_STORAGE,
                                       "the zone is too small: the "
                                       "cassettes need %uz bytes, in pieces "
                                       "of up to %uz, and %uz are free, in "
                                       "pieces of up to %uz; nothing is "
                                       "changed", room.needed, room.piece,
                                       room.free, room.free_piece);
    }

    if (rc == NGX_BUSY) {
        return ngx_http_mock_edit_fail(e, NGX_HTTP_SERVICE_UNAVAILABLE,
                                       "responses are still being sent "
                                       "from %d earlier loads of the "
                                       "cassettes; nothing is changed; try "
                                       "again later",
                                       NGX_HTTP_MOCK_GENERATIONS - 1);
    }

    if (rc != NGX_OK) {
        return ngx_http_mock_edit_fail(e, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                       "the cassettes cannot be loaded "
                                       "into the zone");
    }

    return NGX_OK;
}


/* the first error the loader reports goes into the answer */

static void
ngx_http_mock_edit_log_writer(ngx_log_t *log, ngx_uint_t level, u_char *buf,
    size_t len)
{
    u_char                *p;
    ngx_http_mock_edit_t  *e = log->wdata;

    if (e->error.len || level > (e->strict ? NGX_LOG_WARN : NGX_LOG_ERR)) {
        return;
    }

    p = ngx_strlcasestrn(buf, buf + len, (u_char *) "mock:", 5 - 1);
    p = p ? p + 5 : buf;

    while (p < buf + len && *p == ' ') {
        p++;
    }

    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) {
        len--;
    }

    if (p >= buf + len) {
        return;
    }

    e->error.data = ngx_pnalloc(e->r->pool, buf + len - p);
    if (e->error.data == NULL) {
        return;
    }

    e->error.len = buf + len - p;
    ngx_memcpy(e->error.data, p, e->error.len);
}


/* NGX_DECLINED, with the answer's status and error remembered */

static ngx_int_t
ngx_http_mock_edit_fail(ngx_http_mock_edit_t *e, ngx_uint_t status,
    char *fmt, ...)
{
    u_char   *p;
    va_list   args;
    u_char    buf[NGX_MAX_ERROR_STR];

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    e->status = status;
    e->reason.len = p - buf;
    e->reason.data = ngx_pnalloc(e->r->pool, e->reason.len);

    if (e->reason.data == NULL) {
        e->reason.len = 0;
        return NGX_ERROR;
    }

    ngx_memcpy(e->reason.data, buf, e->reason.len);

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_mock_edit_answer(ngx_http_mock_edit_t *e)
{
    u_char     *p, *start;
    size_t      len;
    ngx_str_t   bak;

    if (e->status) {
        len = sizeof("{\"error\": }\n") + 2 + 6 * e->reason.len;

        start = ngx_pnalloc(e->r->pool, len);
        if (start == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p = ngx_cpymem(start, "{\"error\": ", sizeof("{\"error\": ") - 1);
        p = ngx_http_mock_json_quote(p, &e->reason);
        p = ngx_cpymem(p, "}\n", 2);

        return ngx_http_mock_edit_send(e->r, e->status, start, p - start);
    }

    if (!e->done) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    bak.data = e->bak;
    bak.len = ngx_strlen(e->bak);

    len = sizeof("{\"cassette\": , \"interaction\": , \"pruned\": , "
                 "\"interactions\": , \"backup\": }\n") + 4 + 3 * NGX_INT_T_LEN
          + 6 * (e->name.len + bak.len);

    start = ngx_pnalloc(e->r->pool, len);
    if (start == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(start, "{\"cassette\": ", sizeof("{\"cassette\": ") - 1);
    p = ngx_http_mock_json_quote(p, &e->name);

    if (e->op == NGX_HTTP_MOCK_EDIT_PRUNE) {
        p = ngx_sprintf(p, ", \"pruned\": %ui", e->removed);

    } else if (e->op != NGX_HTTP_MOCK_EDIT_DELETE) {
        p = ngx_sprintf(p, ", \"interaction\": %ui", e->n);
    }

    p = ngx_sprintf(p, ", \"interactions\": %ui", e->saved->records.nelts);

    if (bak.len) {
        p = ngx_cpymem(p, ", \"backup\": ", sizeof(", \"backup\": ") - 1);
        p = ngx_http_mock_json_quote(p, &bak);
    }

    p = ngx_cpymem(p, "}\n", 2);

    return ngx_http_mock_edit_send(e->r,
                                   e->op == NGX_HTTP_MOCK_EDIT_ADD
                                   ? NGX_HTTP_CREATED : NGX_HTTP_OK,
                                   start, p - start);
}


static ngx_int_t
ngx_http_mock_edit_send(ngx_http_request_t *r, ngx_uint_t status,
    u_char *data, size_t len)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = data;
    b->last = data + len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    r->headers_out.status = status;
    r->headers_out.content_length_n = len;
    r->headers_out.content_type_lowcase = NULL;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = sizeof("application/json") - 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, &out);
}
