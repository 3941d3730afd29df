
/*
 * The drift table: in the shared zone, one entry per interaction (or
 * unrecorded request) whose live answer differed from its recording,
 * with its latest diff, when it was first and last seen and how often;
 * at most NGX_HTTP_MOCK_DRIFT_ENTRIES of them, and what a full table
 * could not list is counted.
 */


#include "ngx_http_mock_module.h"


#define NGX_HTTP_MOCK_DRIFT_ENTRIES   256


typedef struct {
    uint32_t                      hash;
    uint32_t                      kind;         /* DRIFT or UNRECORDED */
    ngx_uint_t                    store;        /* its number */
    ngx_uint_t                    interaction;  /* or NGX_CONF_UNSET_UINT */
    ngx_uint_t                    live_status;
    ngx_uint_t                    recorded_status;
    time_t                        first;
    time_t                        last;
    ngx_uint_t                    count;
    size_t                        diff_len;
    u_char                        session[NGX_HTTP_MOCK_SESSION_MAX];
    u_char                        method[16];
    u_char                        uri[240];
    u_char                        cassette[160];
    u_char                        diff[NGX_HTTP_MOCK_DRIFT_DIFF_MAX];
} ngx_http_mock_drift_entry_t;


typedef struct {
    ngx_uint_t                    n;
    ngx_uint_t                    dropped;      /* not listed: it was full */
    ngx_uint_t                    full_logged;  /* unsigned  full_logged:1; */
    ngx_http_mock_drift_entry_t   entries[NGX_HTTP_MOCK_DRIFT_ENTRIES];
} ngx_http_mock_drift_table_t;


static ngx_uint_t ngx_http_mock_drift_same(ngx_http_mock_drift_entry_t *e,
    ngx_http_mock_drift_note_t *note);
static void ngx_http_mock_drift_copy(u_char *dst, size_t size, ngx_str_t *s,
    ngx_uint_t tail);
static ngx_str_t ngx_http_mock_drift_field(u_char *s, size_t size);
static u_char *ngx_http_mock_drift_entry_json(u_char *p,
    ngx_http_mock_drift_entry_t *e);


/*
 * NGX_DONE: the interaction drifted for the first time (the caller logs
 * it), NGX_OK: its entry is updated, NGX_DECLINED: the table is full or
 * does not fit in the zone, and it is not listed.
 */

ngx_int_t
ngx_http_mock_drift_note(ngx_http_mock_shctx_t *sh,
    ngx_http_mock_drift_note_t *note, ngx_log_t *log)
{
    u_char                       *p;
    ngx_int_t                     rc;
    ngx_uint_t                    i, logged;
    ngx_http_mock_drift_entry_t  *e;
    ngx_http_mock_drift_table_t  *t;

    note->hash = ngx_crc32_long(note->session.data, note->session.len)
                 ^ ngx_crc32_long(note->method.data, note->method.len)
                 ^ (uint32_t) (note->store * 31 + note->interaction);

    if (note->interaction == NGX_CONF_UNSET_UINT) {
        note->hash ^= ngx_crc32_long(note->uri.data, note->uri.len);

    } else {
        note->hash ^= ngx_crc32_long(note->cassette.data, note->cassette.len);
    }

    logged = 1;
    rc = NGX_DECLINED;

    ngx_shmtx_lock(&sh->shpool->mutex);

    t = sh->drift;

    if (t == NULL) {
        t = ngx_slab_calloc_locked(sh->shpool,
                                   sizeof(ngx_http_mock_drift_table_t));
        sh->drift = t;
    }

    if (t == NULL) {
        goto done;
    }

    for (i = 0; i < t->n; i++) {
        e = &t->entries[i];

        if (e->hash == note->hash && ngx_http_mock_drift_same(e, note)) {
            break;
        }
    }

    if (i == t->n) {
        if (t->n == NGX_HTTP_MOCK_DRIFT_ENTRIES) {
            t->dropped++;
            logged = t->full_logged;
            t->full_logged = 1;
            goto done;
        }

        e = &t->entries[t->n++];

        e->hash = note->hash;
        e->kind = note->kind;
        e->store = note->store;
        e->interaction = note->interaction;
        e->first = ngx_time();
        e->count = 0;

        ngx_http_mock_drift_copy(e->session, sizeof(e->session),
                                 &note->session, 0);
        ngx_http_mock_drift_copy(e->method, sizeof(e->method),
                                 &note->method, 0);
        ngx_http_mock_drift_copy(e->uri, sizeof(e->uri), &note->uri, 0);

        /* the end of a long path says more than its start */
        ngx_http_mock_drift_copy(e->cassette, sizeof(e->cassette),
                                 &note->cassette, 1);

        rc = NGX_DONE;

    } else {
        rc = NGX_OK;
    }

    e->last = ngx_time();
    e->count++;
    e->live_status = note->live_status;
    e->recorded_status = note->recorded_status;

    p = ngx_http_mock_cpymem(e->diff, note->diff.data,
                             ngx_min(note->diff.len, sizeof(e->diff)));
    e->diff_len = p - e->diff;

done:

    ngx_shmtx_unlock(&sh->shpool->mutex);

    if (!logged) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "mock: the drift table is full (%d interactions): "
                      "drifts of others are counted, not listed, until "
                      "DELETE /_mock/drift", NGX_HTTP_MOCK_DRIFT_ENTRIES);
    }

    if (t == NULL) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "mock: the zone has no room for the drift table "
                      "(%uz bytes)", sizeof(ngx_http_mock_drift_table_t));
    }

    return rc;
}


static ngx_uint_t
ngx_http_mock_drift_same(ngx_http_mock_drift_entry_t *e,
    ngx_http_mock_drift_note_t *note)
{
    ngx_str_t  s, c;

    if (e->store != note->store || e->interaction != note->interaction
        || e->kind != note->kind)
    {
        return 0;
    }

    s = ngx_http_mock_drift_field(e->session, sizeof(e->session));

    if (s.len != ngx_min(note->session.len, sizeof(e->session))
        || (s.len && ngx_strncmp(s.data, note->session.data, s.len) != 0))
    {
        return 0;
    }

    s = ngx_http_mock_drift_field(e->method, sizeof(e->method));

    if (s.len != ngx_min(note->method.len, sizeof(e->method))
        || (s.len && ngx_strncmp(s.data, note->method.data, s.len) != 0))
    {
        return 0;
    }

    if (note->interaction != NGX_CONF_UNSET_UINT) {
        /* the end of the cassette's name, as kept */

        c = note->cassette;

        if (c.len > sizeof(e->cassette)) {
            c.data += c.len - sizeof(e->cassette);
            c.len = sizeof(e->cassette);
        }

        s = ngx_http_mock_drift_field(e->cassette, sizeof(e->cassette));

        return s.len == c.len
               && (s.len == 0 || ngx_strncmp(s.data, c.data, s.len) == 0);
    }

    s = ngx_http_mock_drift_field(e->uri, sizeof(e->uri));

    return s.len == ngx_min(note->uri.len, sizeof(e->uri))
           && (s.len == 0 || ngx_strncmp(s.data, note->uri.data, s.len) == 0);
}


/* the admin's drift endpoint: DELETE clears the table, GET lists it */

ngx_int_t
ngx_http_mock_drift_answer(ngx_http_request_t *r, ngx_http_mock_shctx_t *sh,
    ngx_uint_t store, ngx_str_t *session, ngx_buf_t **out)
{
    ngx_buf_t  *b;

    static u_char  cleared[] = "{\"cleared\": true}\n";

    if (r->method != NGX_HTTP_DELETE) {
        return ngx_http_mock_drift_list(r, sh, store, session, out);
    }

    if (sh) {
        ngx_http_mock_drift_clear(sh);
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->memory = 1;
    b->pos = cleared;
    b->last = cleared + sizeof(cleared) - 1;

    *out = b;

    return NGX_OK;
}


/* DELETE drift */

void
ngx_http_mock_drift_clear(ngx_http_mock_shctx_t *sh)
{
    ngx_http_mock_drift_table_t  *t;

    ngx_shmtx_lock(&sh->shpool->mutex);

    t = sh->drift;

    if (t) {
        t->n = 0;
        t->dropped = 0;
        t->full_logged = 0;
    }

    ngx_shmtx_unlock(&sh->shpool->mutex);
}


/*
 * GET drift[?store=&session=]: the entries as JSON, of one store (store
 * is its number, or NGX_CONF_UNSET_UINT for all) and one session (NULL:
 * all), in the order they first drifted.
 */

ngx_int_t
ngx_http_mock_drift_list(ngx_http_request_t *r, ngx_http_mock_shctx_t *sh,
    ngx_uint_t store, ngx_str_t *session, ngx_buf_t **out)
{
    u_char                       *p;
    size_t                        size;
    ngx_str_t                     s;
    ngx_uint_t                    i, n, dropped, listed;
    ngx_buf_t                    *b;
    ngx_http_mock_drift_entry_t  *e, *copy;
    ngx_http_mock_drift_table_t  *t;

    copy = NULL;
    n = 0;
    dropped = 0;

    /* a copy, so that the zone's mutex is not held while JSON is made */

    if (sh) {
        ngx_shmtx_lock(&sh->shpool->mutex);

        t = sh->drift;

        if (t && t->n) {
            n = t->n;
            copy = ngx_palloc(r->pool,
                              n * sizeof(ngx_http_mock_drift_entry_t));
            if (copy) {
                ngx_memcpy(copy, t->entries,
                           n * sizeof(ngx_http_mock_drift_entry_t));
            }
        }

        if (t) {
            dropped = t->dropped;
        }

        ngx_shmtx_unlock(&sh->shpool->mutex);

        if (n && copy == NULL) {
            return NGX_ERROR;
        }
    }

    size = 256;

    for (i = 0; i < n; i++) {
        size += 512 + 6 * (sizeof(copy[i].session) + sizeof(copy[i].method)
                           + sizeof(copy[i].uri) + sizeof(copy[i].cassette)
                           + copy[i].diff_len);
    }

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(b->pos, "{\"drift\": [", sizeof("{\"drift\": [") - 1);

    listed = 0;

    for (i = 0; i < n; i++) {
        e = &copy[i];

        if (store != NGX_CONF_UNSET_UINT && e->store != store) {
            continue;
        }

        if (session) {
            s = ngx_http_mock_drift_field(e->session, sizeof(e->session));

            if (s.len != session->len
                || (s.len && ngx_strncmp(s.data, session->data, s.len) != 0))
            {
                continue;
            }
        }

        if (listed++) {
            *p++ = ',';
        }

        *p++ = '\n';
        p = ngx_http_mock_drift_entry_json(p, e);
    }

    p = ngx_sprintf(p, "%s], \"entries\": %ui, \"capacity\": %d, "
                    "\"full\": %s, \"dropped\": %ui}\n",
                    listed ? "\n" : "", n, NGX_HTTP_MOCK_DRIFT_ENTRIES,
                    n == NGX_HTTP_MOCK_DRIFT_ENTRIES ? "true" : "false",
                    dropped);

    b->last = p;
    *out = b;

    return NGX_OK;
}


static u_char *
ngx_http_mock_drift_entry_json(u_char *p, ngx_http_mock_drift_entry_t *e)
{
    u_char     *d, *last, *nl;
    ngx_str_t   s;

    p = ngx_sprintf(p, "{\"store\": %ui, \"kind\": \"%s\", \"session\": ",
                    e->store,
                    e->kind == NGX_HTTP_MOCK_UNRECORDED ? "unrecorded"
                                                        : "drift");

    s = ngx_http_mock_drift_field(e->session, sizeof(e->session));
    p = s.len ? ngx_http_mock_json_quote(p, &s) : ngx_cpymem(p, "null", 4);

    p = ngx_cpymem(p, ", \"method\": ", sizeof(", \"method\": ") - 1);
    s = ngx_http_mock_drift_field(e->method, sizeof(e->method));
    p = ngx_http_mock_json_quote(p, &s);

    p = ngx_cpymem(p, ", \"uri\": ", sizeof(", \"uri\": ") - 1);
    s = ngx_http_mock_drift_field(e->uri, sizeof(e->uri));
    p = ngx_http_mock_json_quote(p, &s);

    p = ngx_cpymem(p, ", \"cassette\": ", sizeof(", \"cassette\": ") - 1);
    s = ngx_http_mock_drift_field(e->cassette, sizeof(e->cassette));
    p = s.len ? ngx_http_mock_json_quote(p, &s) : ngx_cpymem(p, "null", 4);

    if (e->interaction == NGX_CONF_UNSET_UINT) {
        p = ngx_sprintf(p, ", \"interaction\": null, \"live\": {\"status\": "
                        "%ui}, \"recorded\": null", e->live_status);

    } else {
        p = ngx_sprintf(p, ", \"interaction\": %ui, \"live\": {\"status\": "
                        "%ui}, \"recorded\": {\"status\": %ui}",
                        e->interaction, e->live_status, e->recorded_status);
    }

    p = ngx_cpymem(p, ", \"diff\": [", sizeof(", \"diff\": [") - 1);

    d = e->diff;
    last = e->diff + e->diff_len;

    while (d < last) {
        nl = ngx_strlchr(d, last, '\n');
        if (nl == NULL) {
            nl = last;
        }

        if (d != e->diff) {
            *p++ = ','; *p++ = ' ';
        }

        s.data = d;
        s.len = nl - d;
        p = ngx_http_mock_json_quote(p, &s);

        d = nl + 1;
    }

    return ngx_sprintf(p, "], \"first\": %T, \"last\": %T, \"count\": %ui}",
                       e->first, e->last, e->count);
}


/* a field of an entry: NUL-ended, or as long as its room */

static ngx_str_t
ngx_http_mock_drift_field(u_char *s, size_t size)
{
    ngx_str_t  v;

    v.data = s;
    v.len = ngx_strnlen(s, size);

    return v;
}


static void
ngx_http_mock_drift_copy(u_char *dst, size_t size, ngx_str_t *s,
    ngx_uint_t tail)
{
    size_t   len;
    u_char  *from;

    len = ngx_min(s->len, size);
    from = (tail && s->len > size) ? s->data + s->len - size : s->data;

    if (len) {
        ngx_memcpy(dst, from, len);
    }

    if (len < size) {
        dst[len] = '\0';
    }
}
