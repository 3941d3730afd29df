
/*
 * Reading vcrpy cassettes (format version 1) with libyaml.
 *
 * The file is read as a stream of events; each interaction becomes a small
 * node tree in a temporary pool, is checked and converted into a record,
 * and the pool is reset, so memory does not grow with the tree of the
 * whole file.  Every problem is reported with the file, line and column.
 */


#include "ngx_http_mock_module.h"

#include <yaml.h>


#define NGX_HTTP_MOCK_YAML_DEPTH     64
#define NGX_HTTP_MOCK_BINARY_TAG     "tag:yaml.org,2002:binary"

/* what aliases may add: this many times the file's size, at least MIN */
#define NGX_HTTP_MOCK_ALIAS_RATIO    8
#define NGX_HTTP_MOCK_ALIAS_MIN      (1024 * 1024)

#define NGX_HTTP_MOCK_QUOTED         200

#define NGX_HTTP_MOCK_UTF16LE        1
#define NGX_HTTP_MOCK_UTF16BE        2


typedef struct ngx_http_mock_node_s  ngx_http_mock_node_t;

struct ngx_http_mock_node_s {
    yaml_node_type_t              type;
    ngx_str_t                     value;
    ngx_uint_t                    line;
    ngx_uint_t                    column;
    ngx_http_mock_node_t        **children;     /* mappings: key, value */
    ngx_uint_t                    nchildren;
    size_t                        size;         /* with aliases expanded */
    ngx_uint_t                    vcolumn;      /* of the value's start */
    unsigned                      exact:1;      /* value bytes as written */
    unsigned                      plain:1;
    unsigned                      binary:1;
    unsigned                      open:1;       /* its children being read */
};


typedef struct {
    ngx_str_node_t                sn;           /* the anchor's name */
    ngx_http_mock_node_t         *node;
} ngx_http_mock_anchor_t;


typedef struct {
    yaml_parser_t                 parser;
    yaml_event_t                  event;
    ngx_conf_t                   *cf;
    ngx_str_t                    *name;
    ngx_pool_t                   *pool;         /* records, anchors */
    ngx_pool_t                   *temp;         /* one interaction */
    ngx_rbtree_t                  anchors;
    ngx_rbtree_node_t             sentinel;
    size_t                        aliased;      /* what aliases added */
    size_t                        alias_max;
    ngx_uint_t                    depth;
    ngx_http_mock_cassette_t     *cassette;
    u_char                       *data;
    size_t                        len;
    u_char                       *text;         /* after a byte order mark */
    ngx_uint_t                    utf16;

    size_t                        error_offset; /* in bytes */
    size_t                        error_len;
    u_char                        error[NGX_MAX_CONF_ERRSTR];
} ngx_http_mock_yaml_t;


static ngx_int_t ngx_http_mock_yaml_next(ngx_http_mock_yaml_t *y);
static ngx_http_mock_node_t *ngx_http_mock_yaml_node(ngx_http_mock_yaml_t *y,
    ngx_pool_t *pool);
static ngx_http_mock_node_t *ngx_http_mock_yaml_alias(ngx_http_mock_yaml_t *y);
static ngx_int_t ngx_http_mock_yaml_anchor(ngx_http_mock_yaml_t *y,
    u_char *anchor, ngx_http_mock_node_t *node);
static ngx_int_t ngx_http_mock_yaml_unique(ngx_http_mock_yaml_t *y,
    ngx_http_mock_node_t **keys, ngx_uint_t n);
static int ngx_libc_cdecl ngx_http_mock_cmp_keys(const void *one,
    const void *two);
static void ngx_http_mock_yaml_encoding(ngx_http_mock_yaml_t *y);
static uint32_t ngx_http_mock_yaml_char(ngx_http_mock_yaml_t *y,
    u_char **pos);
static size_t ngx_http_mock_yaml_offset(ngx_http_mock_yaml_t *y,
    size_t index);
static void ngx_http_mock_yaml_position(ngx_http_mock_yaml_t *y,
    size_t offset, ngx_uint_t *line, ngx_uint_t *column);
static ngx_int_t ngx_http_mock_yaml_document(ngx_http_mock_yaml_t *y,
    ngx_http_mock_cassette_t *cassette);
static ngx_int_t ngx_http_mock_yaml_interactions(ngx_http_mock_yaml_t *y,
    ngx_http_mock_cassette_t *cassette);
static void ngx_http_mock_yaml_error(ngx_http_mock_yaml_t *y,
    ngx_uint_t line, ngx_uint_t column, const char *fmt, ...);
static ngx_http_mock_node_t *ngx_http_mock_node_get(ngx_http_mock_node_t *map,
    char *key);
static ngx_http_mock_node_t *ngx_http_mock_node_need(ngx_http_mock_yaml_t *y,
    ngx_http_mock_node_t *map, char *key, char *where,
    yaml_node_type_t type);
static ngx_int_t ngx_http_mock_node_null(ngx_http_mock_node_t *node);
static ngx_int_t ngx_http_mock_node_string(ngx_http_mock_yaml_t *y,
    ngx_http_mock_node_t *node, char *what, ngx_str_t *out);
static ngx_int_t ngx_http_mock_node_body(ngx_http_mock_yaml_t *y,
    ngx_http_mock_node_t *node, char *what, ngx_str_t *out);
static ngx_int_t ngx_http_mock_node_headers(ngx_http_mock_yaml_t *y,
    ngx_http_mock_node_t *node, char *what, ngx_array_t *headers);
static ngx_int_t ngx_http_mock_node_token(ngx_http_mock_yaml_t *y,
    ngx_http_mock_node_t *node, char *what, ngx_str_t *s);
static ngx_int_t ngx_http_mock_node_text(ngx_http_mock_yaml_t *y,
    ngx_http_mock_node_t *node, ngx_str_t *name, ngx_str_t *s);
static ngx_int_t ngx_http_mock_record(ngx_http_mock_yaml_t *y,
    ngx_http_mock_node_t *node, ngx_http_mock_record_t *rec);
static ngx_int_t ngx_http_mock_record_timing(ngx_http_mock_yaml_t *y,
    ngx_http_mock_node_t *node, ngx_http_mock_record_t *rec);
static ngx_int_t ngx_http_mock_node_time(ngx_http_mock_yaml_t *y,
    ngx_http_mock_node_t *n, ngx_uint_t har, ngx_msec_t *ms);
static ngx_int_t ngx_http_mock_record_request(ngx_http_mock_yaml_t *y,
    ngx_http_mock_node_t *node, ngx_http_mock_record_t *rec);
static ngx_int_t ngx_http_mock_record_response(ngx_http_mock_yaml_t *y,
    ngx_http_mock_node_t *node, ngx_http_mock_record_t *rec);
static ngx_int_t ngx_http_mock_record_latency(ngx_http_mock_yaml_t *y,
    ngx_http_mock_node_t *n, ngx_http_mock_record_t *rec);
static ngx_int_t ngx_http_mock_record_extension(ngx_http_mock_yaml_t *y,
    ngx_http_mock_node_t *node, ngx_http_mock_record_t *rec);
static ngx_int_t ngx_http_mock_record_time(ngx_str_t *s, time_t *t);
static ngx_int_t ngx_http_mock_record_marks(ngx_http_mock_yaml_t *y,
    ngx_http_mock_node_t *node, ngx_http_mock_record_t *rec);
static void ngx_http_mock_node_mark(ngx_http_mock_node_t *node,
    ngx_http_mock_mark_t *mark);
static ngx_int_t ngx_http_mock_str_copy(ngx_pool_t *pool, ngx_str_t *dst,
    ngx_str_t *src);
static ngx_int_t ngx_http_mock_cassette_parse(ngx_http_mock_yaml_t *y,
    u_char *data, size_t len);
static size_t ngx_http_mock_cassette_tail(u_char *data, size_t len);
static int ngx_libc_cdecl ngx_http_mock_cmp_names(const void *one,
    const void *two);


ngx_int_t
ngx_http_mock_cassettes_open(ngx_conf_t *cf, ngx_pool_t *pool,
    ngx_str_t *path, ngx_array_t *cassettes, ngx_array_t *cache)
{
    size_t                     len;
    u_char                    *p;
    ngx_err_t                  err;
    ngx_dir_t                  dir;
    ngx_str_t                 *names, *name;
    ngx_uint_t                 i, j, isdir;
    ngx_array_t                list;
    ngx_file_info_t            fi;
    ngx_http_mock_cassette_t  *cassette, **cp, **cached;

    isdir = 0;

    if (ngx_file_info(path->data, &fi) == NGX_FILE_ERROR) {
        err = ngx_errno;

        /* a missing file is an error only where nothing records it */

        if (err != NGX_ENOENT) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, err,
                               "mock: cassette \"%V\" cannot be read", path);
            return NGX_ERROR;
        }

    } else {
        isdir = ngx_is_dir(&fi);
    }

    if (ngx_array_init(&list, cf->temp_pool, 8, sizeof(ngx_str_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (!isdir) {
        name = ngx_array_push(&list);
        if (name == NULL) {
            return NGX_ERROR;
        }

        *name = *path;

    } else {
        if (ngx_open_dir(path, &dir) == NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                               "mock: cassette directory \"%V\" cannot be "
                               "opened", path);
            return NGX_ERROR;
        }

        for ( ;; ) {
            ngx_set_errno(0);

            if (ngx_read_dir(&dir) == NGX_ERROR) {
                err = ngx_errno;

                if (err != NGX_ENOMOREFILES) {
                    ngx_conf_log_error(NGX_LOG_EMERG, cf, err,
                                       "mock: cassette directory \"%V\" "
                                       "cannot be read", path);
                    (void) ngx_close_dir(&dir);
                    return NGX_ERROR;
                }

                break;
            }

            len = ngx_de_namelen(&dir);
            p = ngx_de_name(&dir);

            if (p[0] == '.'
                || !((len > 5 && ngx_strncmp(p + len - 5, ".yaml", 5) == 0)
                     || (len > 4 && ngx_strncmp(p + len - 4, ".yml", 4) == 0)))
            {
                continue;
            }

            name = ngx_array_push(&list);
            if (name == NULL) {
                (void) ngx_close_dir(&dir);
                return NGX_ERROR;
            }

            name->len = path->len + 1 + len;
            name->data = ngx_pnalloc(cf->pool, name->len + 1);
            if (name->data == NULL) {
                (void) ngx_close_dir(&dir);
                return NGX_ERROR;
            }

            p = ngx_http_mock_cpymem(name->data, path->data, path->len);
            *p++ = '/';
            p = ngx_http_mock_cpymem(p, ngx_de_name(&dir), len);
            *p = '\0';
        }

        (void) ngx_close_dir(&dir);

        ngx_qsort(list.elts, list.nelts, sizeof(ngx_str_t),
                  ngx_http_mock_cmp_names);
    }

    names = list.elts;
    cached = cache->elts;

    for (i = 0; i < list.nelts; i++) {

        cassette = NULL;

        for (j = 0; j < cache->nelts; j++) {
            if (cached[j]->name.len == names[i].len
                && ngx_strncmp(cached[j]->name.data, names[i].data,
                               names[i].len) == 0)
            {
                cassette = cached[j];
                break;
            }
        }

        if (cassette == NULL) {
            cassette = ngx_http_mock_cassette_load(cf, pool, &names[i]);
            if (cassette == NULL) {
                return NGX_ERROR;
            }

            cp = ngx_array_push(cache);
            if (cp == NULL) {
                return NGX_ERROR;
            }

            *cp = cassette;
            cached = cache->elts;
        }

        cp = ngx_array_push(cassettes);
        if (cp == NULL) {
            return NGX_ERROR;
        }

        *cp = cassette;
    }

    return NGX_OK;
}


static int ngx_libc_cdecl
ngx_http_mock_cmp_names(const void *one, const void *two)
{
    ngx_str_t  *a = (ngx_str_t *) one;
    ngx_str_t  *b = (ngx_str_t *) two;

    return ngx_strcmp(a->data, b->data);
}


ngx_http_mock_cassette_t *
ngx_http_mock_cassette_load(ngx_conf_t *cf, ngx_pool_t *pool, ngx_str_t *name)
{
    u_char                    *data;
    size_t                     tail;
    ssize_t                    n;
    ngx_fd_t                   fd;
    ngx_int_t                  rc;
    ngx_err_t                  err;
    ngx_file_t                 file;
    ngx_file_info_t            fi;
    ngx_http_mock_yaml_t      *y;
    ngx_http_mock_cassette_t  *cassette;

    cassette = ngx_pcalloc(pool, sizeof(ngx_http_mock_cassette_t));
    if (cassette == NULL) {
        return NULL;
    }

    /* a C string too: it is opened and checked by name */

    cassette->name.len = name->len;
    cassette->name.data = ngx_pnalloc(pool, name->len + 1);
    if (cassette->name.data == NULL) {
        return NULL;
    }

    ngx_memcpy(cassette->name.data, name->data, name->len);
    cassette->name.data[name->len] = '\0';

    if (ngx_array_init(&cassette->records, pool, 16,
                       sizeof(ngx_http_mock_record_t))
        != NGX_OK)
    {
        return NULL;
    }

    fd = ngx_open_file(name->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        err = ngx_errno;

        if (err == NGX_ENOENT) {
            /* a cassette that recording may create */
            cassette->missing = 1;
            return cassette;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, err,
                           "mock: cassette \"%V\" cannot be opened", name);
        return NULL;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "mock: cassette \"%V\" cannot be read", name);
        (void) ngx_close_file(fd);
        return NULL;
    }

    cassette->size = ngx_file_size(&fi);
    cassette->valid = cassette->size;
    cassette->mtime = ngx_file_mtime(&fi);

    data = ngx_alloc(cassette->size + 1, cf->log);
    if (data == NULL) {
        (void) ngx_close_file(fd);
        return NULL;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.fd = fd;
    file.name = *name;
    file.log = cf->log;

    n = ngx_read_file(&file, data, cassette->size, 0);

    (void) ngx_close_file(fd);

    if (n != cassette->size) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "mock: cassette \"%V\" cannot be read", name);
        ngx_free(data);
        return NULL;
    }

    y = ngx_pcalloc(cf->temp_pool, sizeof(ngx_http_mock_yaml_t));
    if (y == NULL) {
        ngx_free(data);
        return NULL;
    }

    y->cf = cf;
    y->name = &cassette->name;
    y->pool = pool;
    y->cassette = cassette;

    rc = ngx_http_mock_cassette_parse(y, data, cassette->size);

    if (rc == NGX_DECLINED) {

        /*
         * A write interrupted by a crash leaves an incomplete interaction
         * after the last complete one; what precedes it is intact.
         */

        tail = ngx_http_mock_cassette_tail(data, cassette->size);

        if (tail && y->error_offset >= tail) {
            cassette->records.nelts = 0;
            cassette->valid = tail;
            ngx_memzero(&cassette->stream, sizeof(ngx_http_mock_stream_id_t));

            rc = ngx_http_mock_cassette_parse(y, data, tail);

            if (rc == NGX_OK) {
                ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                                   "mock: cassette \"%V\" ends with an "
                                   "incomplete interaction after byte %O, "
                                   "left by an interrupted write; it is "
                                   "ignored", name, cassette->valid);
            }
        }
    }

    ngx_free(data);

    if (rc == NGX_DECLINED) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%*s", y->error_len,
                           y->error);
        return NULL;
    }

    if (rc != NGX_OK) {
        return NULL;
    }

    return cassette;
}


/*
 * Interactions as the writer appends them ("- request: ..." items), read
 * outside the configuration as one more cassette would be: the records,
 * in "pool", or NULL with the error logged.  With "used", what follows
 * the last complete interaction (a write still going on) is left out,
 * and "used" tells how many bytes of the text were read.
 */

ngx_array_t *
ngx_http_mock_cassette_entries(ngx_pool_t *pool, ngx_log_t *log,
    ngx_str_t *name, ngx_str_t *text, size_t *used)
{
    u_char                    *data, *p;
    size_t                     len;
    ngx_int_t                  rc;
    ngx_conf_t                 cf;
    ngx_http_mock_yaml_t      *y;
    ngx_http_mock_cassette_t  *cassette;

    static u_char  head[] = NGX_HTTP_MOCK_CASSETTE_HEAD;

    len = sizeof(head) - 1 + text->len;

    data = ngx_pnalloc(pool, len + 1);
    y = ngx_pcalloc(pool, sizeof(ngx_http_mock_yaml_t));
    cassette = ngx_pcalloc(pool, sizeof(ngx_http_mock_cassette_t));

    if (data == NULL || y == NULL || cassette == NULL) {
        return NULL;
    }

    p = ngx_cpymem(data, head, sizeof(head) - 1);
    p = ngx_http_mock_cpymem(p, text->data, text->len);
    *p = '\0';

    if (used) {
        len = ngx_http_mock_cassette_tail(data, len);

        if (len < sizeof(head) - 1) {
            len = sizeof(head) - 1;
        }

        *used = len - (sizeof(head) - 1);
    }

    if (ngx_array_init(&cassette->records, pool, 1,
                       sizeof(ngx_http_mock_record_t))
        != NGX_OK)
    {
        return NULL;
    }

    cassette->name = *name;

    /* no configuration file: problems are logged as they are */

    ngx_memzero(&cf, sizeof(ngx_conf_t));
    cf.pool = pool;
    cf.temp_pool = pool;
    cf.log = log;
    cf.cycle = (ngx_cycle_t *) ngx_cycle;

    y->cf = &cf;
    y->name = &cassette->name;
    y->pool = pool;
    y->cassette = cassette;

    rc = ngx_http_mock_cassette_parse(y, data, len);

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_ERR, log, 0, "%*s", y->error_len, y->error);
        return NULL;
    }

    if (rc != NGX_OK) {
        return NULL;
    }

    return &cassette->records;
}


/* "1764576000000-0": the milliseconds, a dash, the sequence number */

ngx_int_t
ngx_http_mock_stream_id(ngx_str_t *s, ngx_http_mock_stream_id_t *id)
{
    u_char      *p, *last;
    uint64_t     v[2];
    ngx_uint_t   i, digits;

    p = s->data;
    last = p + s->len;

    for (i = 0; i < 2; i++) {
        v[i] = 0;
        digits = 0;

        while (p < last && *p >= '0' && *p <= '9') {
            v[i] = v[i] * 10 + (*p++ - '0');
            digits++;
        }

        /* 19 digits always fit */

        if (digits == 0 || digits > 19) {
            return NGX_ERROR;
        }

        if (i == 0) {
            if (p == last || *p != '-') {
                return NGX_ERROR;
            }

            p++;
        }
    }

    if (p != last) {
        return NGX_ERROR;
    }

    id->ms = v[0];
    id->seq = v[1];

    return NGX_OK;
}


ngx_int_t
ngx_http_mock_stream_cmp(ngx_http_mock_stream_id_t *a,
    ngx_http_mock_stream_id_t *b)
{
    if (a->ms != b->ms) {
        return a->ms < b->ms ? -1 : 1;
    }

    if (a->seq != b->seq) {
        return a->seq < b->seq ? -1 : 1;
    }

    return 0;
}


/* NGX_DECLINED: the cassette is invalid, y->error tells why */

static ngx_int_t
ngx_http_mock_cassette_parse(ngx_http_mock_yaml_t *y, u_char *data,
    size_t len)
{
    ngx_int_t  rc;

    ngx_memzero(&y->parser, sizeof(yaml_parser_t));
    ngx_memzero(&y->event, sizeof(yaml_event_t));

    y->depth = 0;
    y->error_len = 0;
    y->cassette->appendable = 0;
    y->data = data;
    y->len = len;
    ngx_http_mock_yaml_encoding(y);
    y->aliased = 0;
    y->alias_max = ngx_max(NGX_HTTP_MOCK_ALIAS_MIN,
                           NGX_HTTP_MOCK_ALIAS_RATIO * len);

    ngx_rbtree_init(&y->anchors, &y->sentinel, ngx_str_rbtree_insert_value);

    y->temp = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, y->cf->log);
    if (y->temp == NULL) {
        return NGX_ERROR;
    }

    if (!yaml_parser_initialize(&y->parser)) {
        ngx_destroy_pool(y->temp);
        return NGX_ERROR;
    }

    yaml_parser_set_input_string(&y->parser, data, len);

    rc = ngx_http_mock_yaml_document(y, y->cassette);

    if (y->event.type != YAML_NO_EVENT) {
        yaml_event_delete(&y->event);
    }

    yaml_parser_delete(&y->parser);
    ngx_destroy_pool(y->temp);

    if (rc == NGX_OK && len && data[len - 1] != '\n') {
        y->cassette->appendable = 0;
    }

    if (rc != NGX_OK && y->error_len) {
        return NGX_DECLINED;
    }

    return rc;
}


/*
 * The end of the last interaction that recording completed, or of the
 * head recording writes before the first one.
 */

static size_t
ngx_http_mock_cassette_tail(u_char *data, size_t len)
{
    u_char  *p, *nl;

    static u_char  mark[] = NGX_HTTP_MOCK_RECORDED_MARK;
    static u_char  head[] = NGX_HTTP_MOCK_CASSETTE_HEAD;

    for (p = data + len; p > data; p--) {
        if (p[-1] != '\n') {
            continue;
        }

        if ((size_t) (data + len - p) > sizeof(mark) - 1
            && ngx_strncmp(p, mark, sizeof(mark) - 1) == 0)
        {
            nl = ngx_strlchr(p, data + len, '\n');
            if (nl) {
                return nl + 1 - data;
            }
        }
    }

    if (len > sizeof(head) - 1
        && ngx_strncmp(data, head, sizeof(head) - 1) == 0)
    {
        return sizeof(head) - 1;
    }

    return 0;
}


static ngx_int_t
ngx_http_mock_yaml_document(ngx_http_mock_yaml_t *y,
    ngx_http_mock_cassette_t *cassette)
{
    ngx_uint_t             version, interactions, line, column;
    ngx_array_t            keys;
    ngx_http_mock_node_t  *key, *value, **kp;

    if (ngx_http_mock_yaml_next(y) != NGX_OK) {
        return NGX_ERROR;
    }

    /* YAML_STREAM_START_EVENT */

    if (ngx_http_mock_yaml_next(y) != NGX_OK) {
        return NGX_ERROR;
    }

    if (y->event.type == YAML_STREAM_END_EVENT) {
        /* an empty file is a cassette with no interactions yet */
        return NGX_OK;
    }

    /* YAML_DOCUMENT_START_EVENT */

    if (ngx_http_mock_yaml_next(y) != NGX_OK) {
        return NGX_ERROR;
    }

    line = y->event.start_mark.line + 1;
    column = y->event.start_mark.column + 1;

    if (y->event.type != YAML_MAPPING_START_EVENT) {
        ngx_http_mock_yaml_error(y, line, column,
                                 "the document must be a mapping with "
                                 "\"version\" and \"interactions\"");
        return NGX_ERROR;
    }

    version = 0;
    interactions = 0;

    /* the keys outlive the temporary pool, reset for every value */

    if (ngx_array_init(&keys, y->cf->temp_pool, 4,
                       sizeof(ngx_http_mock_node_t *))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for ( ;; ) {
        if (ngx_http_mock_yaml_next(y) != NGX_OK) {
            return NGX_ERROR;
        }

        if (y->event.type == YAML_MAPPING_END_EVENT) {
            break;
        }

        key = ngx_http_mock_yaml_node(y, y->cf->temp_pool);
        if (key == NULL) {
            return NGX_ERROR;
        }

        if (key->type != YAML_SCALAR_NODE) {
            ngx_http_mock_yaml_error(y, key->line, key->column,
                                     "a key must be a scalar");
            return NGX_ERROR;
        }

        kp = ngx_array_push(&keys);
        if (kp == NULL) {
            return NGX_ERROR;
        }

        *kp = key;

        if (ngx_http_mock_yaml_next(y) != NGX_OK) {
            return NGX_ERROR;
        }

        /* recordings are appended to a block sequence that ends the file */

        cassette->appendable = 0;

        if (key->value.len == 12
            && ngx_strncmp(key->value.data, "interactions", 12) == 0)
        {
            if (ngx_http_mock_yaml_interactions(y, cassette) != NGX_OK) {
                return NGX_ERROR;
            }

            interactions = 1;
            continue;
        }

        value = ngx_http_mock_yaml_node(y, y->temp);
        if (value == NULL) {
            return NGX_ERROR;
        }

        if (key->value.len == 7
            && ngx_strncmp(key->value.data, "version", 7) == 0)
        {
            if (value->type != YAML_SCALAR_NODE
                || value->value.len != 1 || value->value.data[0] != '1')
            {
                ngx_http_mock_yaml_error(y, value->line, value->column,
                                         "unsupported cassette version "
                                         "\"%V\", expected 1", &value->value);
                return NGX_ERROR;
            }

            version = 1;
        }

        ngx_reset_pool(y->temp);
    }

    if (ngx_http_mock_yaml_unique(y, keys.elts, keys.nelts) != NGX_OK) {
        return NGX_ERROR;
    }

    if (!version) {
        ngx_http_mock_yaml_error(y, line, column, "missing key \"version\"");
        return NGX_ERROR;
    }

    if (!interactions) {
        ngx_http_mock_yaml_error(y, line, column,
                                 "missing key \"interactions\"");
        return NGX_ERROR;
    }

    /* YAML_DOCUMENT_END_EVENT */

    if (ngx_http_mock_yaml_next(y) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_mock_yaml_next(y) != NGX_OK) {
        return NGX_ERROR;
    }

    if (y->event.type != YAML_STREAM_END_EVENT) {
        ngx_http_mock_yaml_error(y, y->event.start_mark.line + 1,
                                 y->event.start_mark.column + 1,
                                 "a cassette holds one YAML document");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mock_yaml_interactions(ngx_http_mock_yaml_t *y,
    ngx_http_mock_cassette_t *cassette)
{
    ngx_uint_t               appendable;
    ngx_http_mock_node_t    *node;
    ngx_http_mock_record_t  *rec;

    if (y->event.type == YAML_SCALAR_EVENT) {
        node = ngx_http_mock_yaml_node(y, y->temp);
        if (node == NULL) {
            return NGX_ERROR;
        }

        if (ngx_http_mock_node_null(node)) {
            cassette->appendable = (node->value.len == 0);
            return NGX_OK;
        }
    }

    if (y->event.type != YAML_SEQUENCE_START_EVENT) {
        ngx_http_mock_yaml_error(y, y->event.start_mark.line + 1,
                                 y->event.start_mark.column + 1,
                                 "\"interactions\" must be a sequence");
        return NGX_ERROR;
    }

    appendable = (y->event.data.sequence_start.style
                  == YAML_BLOCK_SEQUENCE_STYLE
                  && y->event.start_mark.column == 0);

    for ( ;; ) {
        if (ngx_http_mock_yaml_next(y) != NGX_OK) {
            return NGX_ERROR;
        }

        if (y->event.type == YAML_SEQUENCE_END_EVENT) {
            cassette->appendable = appendable;
            return NGX_OK;
        }

        node = ngx_http_mock_yaml_node(y, y->temp);
        if (node == NULL) {
            return NGX_ERROR;
        }

        rec = ngx_array_push(&cassette->records);
        if (rec == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(rec, sizeof(ngx_http_mock_record_t));

        rec->index = cassette->records.nelts - 1;

        if (ngx_http_mock_record(y, node, rec) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_reset_pool(y->temp);
    }
}


static ngx_int_t
ngx_http_mock_yaml_next(ngx_http_mock_yaml_t *y)
{
    ngx_uint_t      line, column;
    yaml_parser_t  *p;

    if (y->event.type != YAML_NO_EVENT) {
        yaml_event_delete(&y->event);
        y->event.type = YAML_NO_EVENT;
    }

    p = &y->parser;

    if (yaml_parser_parse(p, &y->event)) {
        return NGX_OK;
    }

    y->event.type = YAML_NO_EVENT;

    if (p->error == YAML_MEMORY_ERROR) {
        ngx_http_mock_yaml_error(y, 0, 0, "out of memory");
        return NGX_ERROR;
    }

    if (p->error == YAML_READER_ERROR) {
        ngx_http_mock_yaml_position(y, p->problem_offset, &line, &column);

        if (p->problem_value >= 0) {
            ngx_http_mock_yaml_error(y, line, column, "%s (0x%02xd)",
                                     p->problem ? p->problem : "read error",
                                     p->problem_value);

        } else {
            ngx_http_mock_yaml_error(y, line, column, "%s",
                                     p->problem ? p->problem : "read error");
        }

        return NGX_ERROR;
    }

    if (p->context) {
        ngx_http_mock_yaml_error(y, p->problem_mark.line + 1,
                                 p->problem_mark.column + 1,
                                 "%s %s (line %uz)", p->problem, p->context,
                                 p->context_mark.line + 1);
        return NGX_ERROR;
    }

    ngx_http_mock_yaml_error(y, p->problem_mark.line + 1,
                             p->problem_mark.column + 1, "%s",
                             p->problem ? p->problem : "invalid YAML");
    return NGX_ERROR;
}


/* builds the node that starts with the current event */

static ngx_http_mock_node_t *
ngx_http_mock_yaml_node(ngx_http_mock_yaml_t *y, ngx_pool_t *pool)
{
    u_char                 *anchor, *tag;
    ngx_uint_t              i, n, quotes;
    ngx_array_t             children;
    yaml_event_type_t       end;
    ngx_http_mock_node_t   *node, *child, **cp, **keys;

    yaml_event_t  *ev = &y->event;

    switch (ev->type) {

    case YAML_ALIAS_EVENT:
        return ngx_http_mock_yaml_alias(y);

    case YAML_SCALAR_EVENT:
        anchor = ev->data.scalar.anchor;
        tag = ev->data.scalar.tag;
        break;

    case YAML_SEQUENCE_START_EVENT:
        anchor = ev->data.sequence_start.anchor;
        tag = ev->data.sequence_start.tag;
        break;

    case YAML_MAPPING_START_EVENT:
        anchor = ev->data.mapping_start.anchor;
        tag = ev->data.mapping_start.tag;
        break;

    default:
        ngx_http_mock_yaml_error(y, ev->start_mark.line + 1,
                                 ev->start_mark.column + 1,
                                 "unexpected YAML event");
        return NULL;
    }

    if (anchor) {
        /* anchored nodes may be referred to from later interactions */
        pool = y->pool;
    }

    node = ngx_pcalloc(pool, sizeof(ngx_http_mock_node_t));
    if (node == NULL) {
        return NULL;
    }

    node->line = ev->start_mark.line + 1;
    node->column = ev->start_mark.column + 1;

    if (anchor && ngx_http_mock_yaml_anchor(y, anchor, node) != NGX_OK) {
        return NULL;
    }

    if (ev->type == YAML_SCALAR_EVENT) {
        node->type = YAML_SCALAR_NODE;
        node->plain = (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE
                       && tag == NULL);
        node->binary = (tag != NULL
                        && ngx_strcmp(tag, NGX_HTTP_MOCK_BINARY_TAG) == 0);

        node->value.len = ev->data.scalar.length;
        node->value.data = ngx_pnalloc(pool, node->value.len + 1);
        if (node->value.data == NULL) {
            return NULL;
        }

        ngx_memcpy(node->value.data, ev->data.scalar.value, node->value.len);
        node->value.data[node->value.len] = '\0';

        /* where a template's expression is, in the file, when known */

        n = 0;

        for (i = 0; i < node->value.len; i++) {
            n += ((node->value.data[i] & 0xc0) != 0x80);
        }

        quotes = (ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE
                  || ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE)
                 ? 2 : 0;

        node->vcolumn = node->column + quotes / 2;
        node->exact = (tag == NULL
                       && ev->start_mark.line == ev->end_mark.line
                       && (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE
                           || quotes)
                       && ev->end_mark.index - ev->start_mark.index
                          == n + quotes);

        node->size = node->value.len + 1;

        return node;
    }

    if (ev->type == YAML_SEQUENCE_START_EVENT) {
        node->type = YAML_SEQUENCE_NODE;
        end = YAML_SEQUENCE_END_EVENT;

    } else {
        node->type = YAML_MAPPING_NODE;
        end = YAML_MAPPING_END_EVENT;
    }

    if (++y->depth > NGX_HTTP_MOCK_YAML_DEPTH) {
        ngx_http_mock_yaml_error(y, node->line, node->column,
                                 "nesting is deeper than %d levels",
                                 NGX_HTTP_MOCK_YAML_DEPTH);
        return NULL;
    }

    if (ngx_array_init(&children, pool, 8, sizeof(ngx_http_mock_node_t *))
        != NGX_OK)
    {
        return NULL;
    }

    node->size = 1;
    node->open = 1;

    for ( ;; ) {
        if (ngx_http_mock_yaml_next(y) != NGX_OK) {
            return NULL;
        }

        if (ev->type == end) {
            break;
        }

        child = ngx_http_mock_yaml_node(y, pool);
        if (child == NULL) {
            return NULL;
        }

        cp = ngx_array_push(&children);
        if (cp == NULL) {
            return NULL;
        }

        *cp = child;
        node->size += child->size;
    }

    y->depth--;

    node->open = 0;
    node->children = children.elts;
    node->nchildren = children.nelts;

    if (node->type != YAML_MAPPING_NODE || node->nchildren < 4) {
        return node;
    }

    keys = ngx_palloc(y->temp,
                      node->nchildren / 2 * sizeof(ngx_http_mock_node_t *));
    if (keys == NULL) {
        return NULL;
    }

    for (i = 0; i + 1 < node->nchildren; i += 2) {
        keys[i / 2] = node->children[i];
    }

    if (ngx_http_mock_yaml_unique(y, keys, node->nchildren / 2) != NGX_OK) {
        return NULL;
    }

    return node;
}


/*
 * The anchored node an alias stands for.  Each use adds what the node
 * holds to what the aliases of the file expand to, which is bounded, so
 * that nested aliases cannot make a small file take unbounded memory.
 */

static ngx_http_mock_node_t *
ngx_http_mock_yaml_alias(ngx_http_mock_yaml_t *y)
{
    ngx_str_t                name;
    ngx_http_mock_anchor_t  *a;

    yaml_event_t  *ev = &y->event;

    name.data = ev->data.alias.anchor;
    name.len = ngx_strlen(name.data);

    a = (ngx_http_mock_anchor_t *)
            ngx_str_rbtree_lookup(&y->anchors, &name,
                                  ngx_crc32_long(name.data, name.len));

    if (a == NULL) {
        ngx_http_mock_yaml_error(y, ev->start_mark.line + 1,
                                 ev->start_mark.column + 1,
                                 "unknown alias \"*%V\"", &name);
        return NULL;
    }

    if (a->node->open) {
        ngx_http_mock_yaml_error(y, ev->start_mark.line + 1,
                                 ev->start_mark.column + 1,
                                 "alias \"*%V\" is inside the node it "
                                 "stands for", &name);
        return NULL;
    }

    y->aliased += a->node->size;

    if (y->aliased > y->alias_max) {
        ngx_http_mock_yaml_error(y, ev->start_mark.line + 1,
                                 ev->start_mark.column + 1,
                                 "aliases expand to more than %uz bytes, "
                                 "the limit for this cassette (%d times "
                                 "its size, at least %d MiB)", y->alias_max,
                                 NGX_HTTP_MOCK_ALIAS_RATIO,
                                 NGX_HTTP_MOCK_ALIAS_MIN / 1024 / 1024);
        return NULL;
    }

    return a->node;
}


/* an anchor names the node from here on, a later one of the name wins */

static ngx_int_t
ngx_http_mock_yaml_anchor(ngx_http_mock_yaml_t *y, u_char *anchor,
    ngx_http_mock_node_t *node)
{
    uint32_t                 hash;
    ngx_str_t                name;
    ngx_http_mock_anchor_t  *a;

    name.data = anchor;
    name.len = ngx_strlen(anchor);
    hash = ngx_crc32_long(name.data, name.len);

    a = (ngx_http_mock_anchor_t *)
            ngx_str_rbtree_lookup(&y->anchors, &name, hash);

    if (a == NULL) {
        a = ngx_palloc(y->cf->temp_pool, sizeof(ngx_http_mock_anchor_t));
        if (a == NULL) {
            return NGX_ERROR;
        }

        a->sn.str.len = name.len;
        a->sn.str.data = ngx_pnalloc(y->cf->temp_pool, name.len);
        if (a->sn.str.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(a->sn.str.data, name.data, name.len);

        a->sn.node.key = hash;
        ngx_rbtree_insert(&y->anchors, &a->sn.node);
    }

    a->node = node;

    return NGX_OK;
}


/*
 * A mapping's keys are distinct: vcrpy would keep the last value of a
 * repeated key, and this loader the first.  Sorted, equal keys are
 * neighbours, in file order; the earliest repetition is reported.
 */

static ngx_int_t
ngx_http_mock_yaml_unique(ngx_http_mock_yaml_t *y,
    ngx_http_mock_node_t **keys, ngx_uint_t n)
{
    u_char                *p;
    ngx_uint_t             i, first;
    ngx_http_mock_node_t  *dup, *orig;
    u_char                 quoted[NGX_HTTP_MOCK_QUOTED];

    if (n < 2) {
        return NGX_OK;
    }

    ngx_qsort(keys, n, sizeof(ngx_http_mock_node_t *),
              ngx_http_mock_cmp_keys);

    dup = NULL;
    orig = NULL;
    first = 0;

    for (i = 1; i < n; i++) {
        if (keys[i]->type != YAML_SCALAR_NODE
            || keys[first]->type != YAML_SCALAR_NODE
            || keys[i]->binary != keys[first]->binary
            || keys[i]->value.len != keys[first]->value.len
            || ngx_memcmp(keys[i]->value.data, keys[first]->value.data,
                          keys[i]->value.len)
               != 0)
        {
            first = i;
            continue;
        }

        if (dup == NULL
            || keys[i]->line < dup->line
            || (keys[i]->line == dup->line && keys[i]->column < dup->column))
        {
            dup = keys[i];
            orig = keys[first];
        }
    }

    if (dup == NULL) {
        return NGX_OK;
    }

    p = ngx_http_mock_check_quote(quoted, quoted + sizeof(quoted),
                                  &dup->value);

    ngx_http_mock_yaml_error(y, dup->line, dup->column,
                             "duplicate key \"%*s\", first at line %ui, "
                             "column %ui", p - quoted, quoted, orig->line,
                             orig->column);
    return NGX_ERROR;
}


/* scalars by value, then by place in the file */

static int ngx_libc_cdecl
ngx_http_mock_cmp_keys(const void *one, const void *two)
{
    ngx_http_mock_node_t  *a = *(ngx_http_mock_node_t **) one;
    ngx_http_mock_node_t  *b = *(ngx_http_mock_node_t **) two;

    int  rc;

    if (a->type != b->type) {
        return (int) a->type - (int) b->type;
    }

    if (a->type == YAML_SCALAR_NODE) {
        if (a->binary != b->binary) {
            return (int) a->binary - (int) b->binary;
        }

        if (a->value.len != b->value.len) {
            return a->value.len < b->value.len ? -1 : 1;
        }

        rc = ngx_memcmp(a->value.data, b->value.data, a->value.len);
        if (rc) {
            return rc;
        }
    }

    if (a->line != b->line) {
        return a->line < b->line ? -1 : 1;
    }

    if (a->column != b->column) {
        return a->column < b->column ? -1 : 1;
    }

    return 0;
}


static void
ngx_http_mock_yaml_error(ngx_http_mock_yaml_t *y, ngx_uint_t line,
    ngx_uint_t column, const char *fmt, ...)
{
    u_char   *p, *last;
    va_list   args;
    u_char    errstr[NGX_MAX_CONF_ERRSTR];

    if (y->error_len) {
        return;
    }

    va_start(args, fmt);
    p = ngx_vslprintf(errstr, errstr + NGX_MAX_CONF_ERRSTR, fmt, args);
    va_end(args);

    last = y->error + NGX_MAX_CONF_ERRSTR;

    if (line) {
        p = ngx_slprintf(y->error, last,
                         "mock: cassette \"%V\", line %ui, column %ui: %*s",
                         y->name, line, column, p - errstr, errstr);

    } else {
        p = ngx_slprintf(y->error, last, "mock: cassette \"%V\": %*s",
                         y->name, p - errstr, errstr);
    }

    y->error_len = p - y->error;

    /* the reader counts bytes, marks count characters */

    if (y->parser.error == YAML_READER_ERROR) {
        y->error_offset = y->parser.problem_offset;

    } else if (y->parser.error != YAML_NO_ERROR) {
        y->error_offset = ngx_http_mock_yaml_offset(y,
                                                y->parser.problem_mark.index);

    } else {
        y->error_offset = ngx_http_mock_yaml_offset(y, y->parser.mark.index);
    }
}


/*
 * libyaml reads UTF-8, or UTF-16 after its byte order mark; a byte order
 * mark at the start is not a character to it.
 */

static void
ngx_http_mock_yaml_encoding(ngx_http_mock_yaml_t *y)
{
    u_char  *d;

    d = y->data;

    y->text = d;
    y->utf16 = 0;

    if (y->len >= 2 && d[0] == 0xff && d[1] == 0xfe) {
        y->utf16 = NGX_HTTP_MOCK_UTF16LE;
        y->text += 2;

    } else if (y->len >= 2 && d[0] == 0xfe && d[1] == 0xff) {
        y->utf16 = NGX_HTTP_MOCK_UTF16BE;
        y->text += 2;

    } else if (y->len >= 3 && d[0] == 0xef && d[1] == 0xbb && d[2] == 0xbf) {
        y->text += 3;
    }
}


/* the character at *pos, which is moved past it */

static uint32_t
ngx_http_mock_yaml_char(ngx_http_mock_yaml_t *y, u_char **pos)
{
    u_char      *p, *last;
    uint32_t     c, low;
    ngx_uint_t   n;

    p = *pos;
    last = y->data + y->len;

    if (y->utf16) {
        if (last - p < 2) {
            *pos = last;
            return 0xfffd;
        }

        c = (y->utf16 == NGX_HTTP_MOCK_UTF16LE) ? ((p[1] << 8) | p[0])
                                                : ((p[0] << 8) | p[1]);
        p += 2;

        if (c >= 0xd800 && c <= 0xdbff && last - p >= 2) {
            low = (y->utf16 == NGX_HTTP_MOCK_UTF16LE) ? ((p[1] << 8) | p[0])
                                                      : ((p[0] << 8) | p[1]);

            if (low >= 0xdc00 && low <= 0xdfff) {
                c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
                p += 2;
            }
        }

        *pos = p;
        return c;
    }

    c = *p++;

    if (c >= 0x80) {
        n = (c >= 0xf0) ? 3 : (c >= 0xe0) ? 2 : (c >= 0xc0) ? 1 : 0;
        c &= 0x3f >> n;

        while (n-- && p < last && (*p & 0xc0) == 0x80) {
            c = (c << 6) | (*p++ & 0x3f);
        }
    }

    *pos = p;
    return c;
}


/*
 * The byte where libyaml's character number "index" begins (a mark's
 * index; CR LF counts as two characters).  What precedes it was read by
 * libyaml, so it is valid text.
 */

static size_t
ngx_http_mock_yaml_offset(ngx_http_mock_yaml_t *y, size_t index)
{
    u_char  *p, *last;

    last = y->data + y->len;

    for (p = y->text; index && p < last; index--) {
        (void) ngx_http_mock_yaml_char(y, &p);
    }

    return p - y->data;
}


/*
 * The line and column of a byte, as libyaml counts them: lines end with
 * LF, CR LF, CR, NEL, LS or PS; columns count characters, not bytes.
 */

static void
ngx_http_mock_yaml_position(ngx_http_mock_yaml_t *y, size_t offset,
    ngx_uint_t *line, ngx_uint_t *column)
{
    u_char    *p, *q, *last, *end;
    uint32_t   c;

    *line = 1;
    *column = 1;

    end = y->data + y->len;
    last = y->data + ngx_min(offset, y->len);

    for (p = y->text; p < last; /* void */) {
        c = ngx_http_mock_yaml_char(y, &p);

        q = p;

        if (c == CR && p < end && ngx_http_mock_yaml_char(y, &q) == LF) {
            continue;
        }

        if (c == LF || c == CR || c == 0x85 || c == 0x2028 || c == 0x2029) {
            (*line)++;
            *column = 1;

        } else {
            (*column)++;
        }
    }
}


static ngx_http_mock_node_t *
ngx_http_mock_node_get(ngx_http_mock_node_t *map, char *key)
{
    size_t                 len;
    ngx_uint_t             i;
    ngx_http_mock_node_t  *k;

    len = ngx_strlen(key);

    for (i = 0; i + 1 < map->nchildren; i += 2) {
        k = map->children[i];

        if (k->type == YAML_SCALAR_NODE
            && k->value.len == len
            && ngx_strncmp(k->value.data, key, len) == 0)
        {
            return map->children[i + 1];
        }
    }

    return NULL;
}


static ngx_http_mock_node_t *
ngx_http_mock_node_need(ngx_http_mock_yaml_t *y, ngx_http_mock_node_t *map,
    char *key, char *where, yaml_node_type_t type)
{
    ngx_http_mock_node_t  *node;

    static char  *types[] = { "", "a scalar", "a sequence", "a mapping" };

    node = ngx_http_mock_node_get(map, key);

    if (node == NULL) {
        ngx_http_mock_yaml_error(y, map->line, map->column,
                                 "%s has no \"%s\"", where, key);
        return NULL;
    }

    if (node->type != type) {
        ngx_http_mock_yaml_error(y, node->line, node->column,
                                 "\"%s\" of %s must be %s", key, where,
                                 types[type]);
        return NULL;
    }

    return node;
}


static ngx_int_t
ngx_http_mock_node_null(ngx_http_mock_node_t *node)
{
    ngx_str_t  *v;

    if (node->type != YAML_SCALAR_NODE || !node->plain) {
        return 0;
    }

    v = &node->value;

    return v->len == 0
           || (v->len == 1 && v->data[0] == '~')
           || (v->len == 4 && (ngx_strncmp(v->data, "null", 4) == 0
                               || ngx_strncmp(v->data, "Null", 4) == 0
                               || ngx_strncmp(v->data, "NULL", 4) == 0));
}


/* a scalar's value in the long-lived pool, "!!binary" decoded */

static ngx_int_t
ngx_http_mock_node_string(ngx_http_mock_yaml_t *y, ngx_http_mock_node_t *node,
    char *what, ngx_str_t *out)
{
    u_char     *p, *q, *last;
    size_t      pad;
    ngx_str_t   src;

    if (node->type != YAML_SCALAR_NODE) {
        ngx_http_mock_yaml_error(y, node->line, node->column,
                                 "%s must be a scalar", what);
        return NGX_ERROR;
    }

    if (!node->binary) {
        out->len = node->value.len;
        out->data = ngx_pnalloc(y->pool, out->len);
        if (out->data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(out->data, node->value.data, out->len);
        return NGX_OK;
    }

    /* base64 in YAML is folded over lines: drop the white space */

    src.data = ngx_pnalloc(y->temp, node->value.len);
    if (src.data == NULL) {
        return NGX_ERROR;
    }

    q = src.data;
    last = node->value.data + node->value.len;

    for (p = node->value.data; p < last; p++) {
        if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') {
            *q++ = *p;
        }
    }

    src.len = q - src.data;

    /* ngx_decode_base64() ignores what follows a "=": padding ends it */

    for (p = src.data; p < q && *p != '='; p++) { /* void */ }

    pad = q - p;

    while (p < q && *p == '=') {
        p++;
    }

    out->data = ngx_pnalloc(y->pool, ngx_base64_decoded_length(src.len));
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    if (src.len % 4 != 0 || pad > 2 || p != q
        || ngx_decode_base64(out, &src) != NGX_OK)
    {
        ngx_http_mock_yaml_error(y, node->line, node->column,
                                 "%s is not valid base64", what);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a body: null, a string, !!binary, or a mapping with "string" */

static ngx_int_t
ngx_http_mock_node_body(ngx_http_mock_yaml_t *y, ngx_http_mock_node_t *node,
    char *what, ngx_str_t *out)
{
    ngx_http_mock_node_t  *s;

    ngx_str_null(out);

    if (node == NULL || ngx_http_mock_node_null(node)) {
        return NGX_OK;
    }

    if (node->type == YAML_MAPPING_NODE) {
        s = ngx_http_mock_node_get(node, "string");

        if (s == NULL) {
            if (node->nchildren == 0) {
                return NGX_OK;
            }

            ngx_http_mock_yaml_error(y, node->line, node->column,
                                     "%s has no \"string\"", what);
            return NGX_ERROR;
        }

        node = s;

        if (ngx_http_mock_node_null(node)) {
            return NGX_OK;
        }
    }

    return ngx_http_mock_node_string(y, node, what, out);
}


/* headers: a mapping of names to a list of values (or one value) */

static ngx_int_t
ngx_http_mock_node_headers(ngx_http_mock_yaml_t *y, ngx_http_mock_node_t *node,
    char *what, ngx_array_t *headers)
{
    ngx_str_t              key;
    ngx_uint_t             i, j, n;
    ngx_table_elt_t       *h;
    ngx_http_mock_node_t  *name, *value, *v;

    if (ngx_array_init(headers, y->pool, 8, sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (node == NULL || ngx_http_mock_node_null(node)) {
        return NGX_OK;
    }

    if (node->type != YAML_MAPPING_NODE) {
        ngx_http_mock_yaml_error(y, node->line, node->column,
                                 "%s must be a mapping", what);
        return NGX_ERROR;
    }

    for (i = 0; i + 1 < node->nchildren; i += 2) {
        name = node->children[i];
        value = node->children[i + 1];

        if (name->type != YAML_SCALAR_NODE || name->value.len == 0) {
            ngx_http_mock_yaml_error(y, name->line, name->column,
                                     "a header name in %s must be a "
                                     "non-empty scalar", what);
            return NGX_ERROR;
        }

        if (ngx_http_mock_node_string(y, name, "a header name", &key)
            != NGX_OK
            || ngx_http_mock_node_token(y, name, "header name", &key)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        n = (value->type == YAML_SEQUENCE_NODE) ? value->nchildren : 1;

        for (j = 0; j < n; j++) {
            v = (value->type == YAML_SEQUENCE_NODE) ? value->children[j]
                                                    : value;

            h = ngx_array_push(headers);
            if (h == NULL) {
                return NGX_ERROR;
            }

            ngx_memzero(h, sizeof(ngx_table_elt_t));
            h->hash = 1;
            h->key = key;

            if (ngx_http_mock_node_string(y, v, "a header value", &h->value)
                != NGX_OK
                || ngx_http_mock_node_text(y, v, &key, &h->value) != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mock_record(ngx_http_mock_yaml_t *y, ngx_http_mock_node_t *node,
    ngx_http_mock_record_t *rec)
{
    ngx_http_mock_node_t  *req, *resp;

    rec->line = node->line;

    if (node->type != YAML_MAPPING_NODE) {
        ngx_http_mock_yaml_error(y, node->line, node->column,
                                 "an interaction must be a mapping with "
                                 "\"request\" and \"response\"");
        return NGX_ERROR;
    }

    req = ngx_http_mock_node_need(y, node, "request", "an interaction",
                                  YAML_MAPPING_NODE);
    if (req == NULL) {
        return NGX_ERROR;
    }

    resp = ngx_http_mock_node_need(y, node, "response", "an interaction",
                                   YAML_MAPPING_NODE);
    if (resp == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_mock_record_request(y, req, rec) != NGX_OK
        || ngx_http_mock_record_response(y, resp, rec) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_mock_record_extension(y,
                                    ngx_http_mock_node_get(node, "x_mock"),
                                    rec);
}


/*
 * x_mock: what the module adds to an interaction, which vcrpy ignores.
 * Keys it does not know are skipped, for cassettes of later versions.
 */

static ngx_int_t
ngx_http_mock_record_extension(ngx_http_mock_yaml_t *y,
    ngx_http_mock_node_t *node, ngx_http_mock_record_t *rec)
{
    ngx_str_t                  *s;
    ngx_uint_t                  i;
    ngx_http_mock_node_t       *n, *v;
    ngx_http_mock_stream_id_t   id;

    if (node == NULL || ngx_http_mock_node_null(node)) {
        return NGX_OK;
    }

    if (node->type != YAML_MAPPING_NODE) {
        ngx_http_mock_yaml_error(y, node->line, node->column,
                                 "\"x_mock\" must be a mapping");
        return NGX_ERROR;
    }

    n = ngx_http_mock_node_get(node, "recorded");

    if (n && !ngx_http_mock_node_null(n)) {
        if (n->type != YAML_SCALAR_NODE
            || ngx_http_mock_record_time(&n->value, &rec->recorded)
               != NGX_OK)
        {
            ngx_http_mock_yaml_error(y, n->line, n->column,
                                     "\"recorded\" of \"x_mock\" must be "
                                     "an RFC 3339 time in UTC, such as "
                                     "\"2026-12-01T08:00:00Z\", or seconds "
                                     "since the epoch");
            return NGX_ERROR;
        }
    }

    /* where a recording of another instance came from, in the fleet */

    n = ngx_http_mock_node_get(node, "stream");

    if (n && !ngx_http_mock_node_null(n)) {
        if (n->type != YAML_SCALAR_NODE
            || ngx_http_mock_stream_id(&n->value, &id) != NGX_OK)
        {
            ngx_http_mock_yaml_error(y, n->line, n->column,
                                     "\"stream\" of \"x_mock\" must be "
                                     "a Redis stream entry id, such as "
                                     "\"1764576000000-0\"");
            return NGX_ERROR;
        }

        if (ngx_http_mock_str_copy(y->pool, &rec->stream, &n->value)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (ngx_http_mock_stream_cmp(&id, &y->cassette->stream) > 0) {
            y->cassette->stream = id;
        }
    }

    /* marked through the admin API: recorded again at its next use */

    n = ngx_http_mock_node_get(node, "stale");

    if (n && !ngx_http_mock_node_null(n)) {
        if (n->type != YAML_SCALAR_NODE || n->binary
            || !((n->value.len == 4
                  && ngx_strncmp(n->value.data, "true", 4) == 0)
                 || (n->value.len == 5
                     && ngx_strncmp(n->value.data, "false", 5) == 0)))
        {
            ngx_http_mock_yaml_error(y, n->line, n->column,
                                     "\"stale\" of \"x_mock\" must be "
                                     "true or false");
            return NGX_ERROR;
        }

        rec->stale = (n->value.len == 4);
    }

    n = ngx_http_mock_node_get(node, "latency");

    if (n && !ngx_http_mock_node_null(n)
        && ngx_http_mock_record_latency(y, n, rec) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_mock_record_timing(y, node, rec) != NGX_OK) {
        return NGX_ERROR;
    }

    n = ngx_http_mock_node_get(node, "templated");

    if (n == NULL) {
        return NGX_OK;
    }

    if (ngx_http_mock_node_null(n)) {
        n->nchildren = 0;

    } else if (n->type != YAML_SEQUENCE_NODE) {
        ngx_http_mock_yaml_error(y, n->line, n->column,
                                 "\"templated\" of \"x_mock\" must be a "
                                 "sequence");
        return NGX_ERROR;
    }

    rec->templated = ngx_array_create(y->pool, n->nchildren ? n->nchildren
                                                            : 1,
                                      sizeof(ngx_str_t));
    if (rec->templated == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < n->nchildren; i++) {
        v = n->children[i];

        s = ngx_array_push(rec->templated);
        if (s == NULL) {
            return NGX_ERROR;
        }

        if (v->type != YAML_SCALAR_NODE || v->binary) {
            ngx_http_mock_yaml_error(y, v->line, v->column,
                                     "a member of \"templated\" must be "
                                     "a string");
            return NGX_ERROR;
        }

        if (ngx_http_mock_str_copy(y->pool, s, &v->value) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * x_mock timing, in HAR's terms (har2cassette writes them): {send: 0.1,
 * wait: 45, receive: 2.4} in milliseconds, the header after send and
 * wait, the body's end after receive more; and chunks: a list of {at:
 * 100, size: 9} or {at: 100ms, string: "data: b\n\n"}, in order of time
 * after the header, that add up to the body.
 */

static ngx_int_t
ngx_http_mock_record_timing(ngx_http_mock_yaml_t *y,
    ngx_http_mock_node_t *node, ngx_http_mock_record_t *rec)
{
    size_t                  off;
    ngx_int_t               size;
    ngx_str_t               s;
    ngx_uint_t              i;
    ngx_msec_t              prev, ms;
    ngx_http_mock_node_t   *n, *k, *v, *c;
    ngx_http_mock_chunk_t  *chunk;

    n = ngx_http_mock_node_get(node, "timing");

    if (n && !ngx_http_mock_node_null(n)) {
        if (n->type != YAML_MAPPING_NODE) {
            ngx_http_mock_yaml_error(y, n->line, n->column,
                                     "\"timing\" of \"x_mock\" must be a "
                                     "mapping of \"send\", \"wait\" and "
                                     "\"receive\"");
            return NGX_ERROR;
        }

        for (i = 0; i + 1 < n->nchildren; i += 2) {
            k = n->children[i];

            if (ngx_http_mock_node_time(y, n->children[i + 1], 1, &ms)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            if (k->value.len == 7
                && ngx_strncmp(k->value.data, "receive", 7) == 0)
            {
                rec->timing.body = ms;

            } else if ((k->value.len == 4
                        && ngx_strncmp(k->value.data, "send", 4) == 0)
                       || (k->value.len == 4
                           && ngx_strncmp(k->value.data, "wait", 4) == 0))
            {
                rec->timing.header += ms;

            } else {
                ngx_http_mock_yaml_error(y, k->line, k->column,
                                         "\"timing\" of \"x_mock\" has "
                                         "\"send\", \"wait\" and "
                                         "\"receive\", not \"%V\"",
                                         &k->value);
                return NGX_ERROR;
            }
        }

        rec->timing.timed = 1;
    }

    n = ngx_http_mock_node_get(node, "chunks");

    if (n == NULL || ngx_http_mock_node_null(n)) {
        return NGX_OK;
    }

    if (n->type != YAML_SEQUENCE_NODE || n->nchildren == 0
        || n->nchildren > NGX_HTTP_MOCK_CHUNKS_MAX)
    {
        ngx_http_mock_yaml_error(y, n->line, n->column,
                                 "\"chunks\" of \"x_mock\" must be a "
                                 "sequence of 1 to %d chunks",
                                 NGX_HTTP_MOCK_CHUNKS_MAX);
        return NGX_ERROR;
    }

    rec->timing.chunks = ngx_palloc(y->pool,
                                    n->nchildren
                                    * sizeof(ngx_http_mock_chunk_t));
    if (rec->timing.chunks == NULL) {
        return NGX_ERROR;
    }

    off = 0;
    prev = 0;

    for (i = 0; i < n->nchildren; i++) {
        c = n->children[i];
        chunk = &rec->timing.chunks[i];

        if (c->type != YAML_MAPPING_NODE) {
            ngx_http_mock_yaml_error(y, c->line, c->column,
                                     "a chunk must be a mapping with "
                                     "\"at\" and \"size\" or \"string\"");
            return NGX_ERROR;
        }

        v = ngx_http_mock_node_get(c, "at");

        if (v == NULL) {
            ngx_http_mock_yaml_error(y, c->line, c->column,
                                     "a chunk needs \"at\", its time "
                                     "after the header");
            return NGX_ERROR;
        }

        if (ngx_http_mock_node_time(y, v, 0, &chunk->at) != NGX_OK) {
            return NGX_ERROR;
        }

        if (chunk->at < prev) {
            ngx_http_mock_yaml_error(y, c->line, c->column,
                                     "chunk %ui comes at %Mms, before the "
                                     "chunk before it (%Mms)",
                                     i, chunk->at, prev);
            return NGX_ERROR;
        }

        prev = chunk->at;

        v = ngx_http_mock_node_get(c, "size");

        if (v) {
            size = (v->type == YAML_SCALAR_NODE && !v->binary)
                   ? ngx_atoi(v->value.data, v->value.len) : NGX_ERROR;

            if (size == NGX_ERROR || size == 0) {
                ngx_http_mock_yaml_error(y, v->line, v->column,
                                         "\"size\" of a chunk must be a "
                                         "number of bytes above 0");
                return NGX_ERROR;
            }

            chunk->len = size;

        } else if ((v = ngx_http_mock_node_get(c, "string"))) {
            if (ngx_http_mock_node_string(y, v, "\"string\" of a chunk", &s)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            if (s.len == 0 || s.len > rec->body.len - off
                || ngx_memcmp(rec->body.data + off, s.data, s.len) != 0)
            {
                ngx_http_mock_yaml_error(y, v->line, v->column,
                                         "\"string\" of chunk %ui is not "
                                         "the body's next %uz bytes, from "
                                         "byte %uz on", i, s.len, off);
                return NGX_ERROR;
            }

            chunk->len = s.len;

        } else {
            ngx_http_mock_yaml_error(y, c->line, c->column,
                                     "a chunk needs \"size\" or "
                                     "\"string\"");
            return NGX_ERROR;
        }

        if (chunk->len > rec->body.len - off) {
            ngx_http_mock_yaml_error(y, c->line, c->column,
                                     "the chunks up to chunk %ui add up to "
                                     "more than the body's %uz bytes",
                                     i, rec->body.len);
            return NGX_ERROR;
        }

        off += chunk->len;
    }

    if (off != rec->body.len) {
        ngx_http_mock_yaml_error(y, n->line, n->column,
                                 "the chunks add up to %uz bytes, not to "
                                 "the body's %uz", off, rec->body.len);
        return NGX_ERROR;
    }

    rec->timing.nchunks = n->nchildren;

    return NGX_OK;
}


/*
 * A time of x_mock timing or of a chunk: milliseconds as a number, with
 * decimals as HAR has them ("45.021", rounded to a millisecond), or an
 * nginx time such as "120ms" or "2s"; at most 24h.  In timing, HAR's -1
 * ("not applicable") is 0.
 */

static ngx_int_t
ngx_http_mock_node_time(ngx_http_mock_yaml_t *y, ngx_http_mock_node_t *n,
    ngx_uint_t har, ngx_msec_t *ms)
{
    u_char      *p, *last;
    ngx_int_t    v;
    ngx_uint_t   digits;

    v = NGX_ERROR;

    if (n->type == YAML_SCALAR_NODE && !n->binary && n->value.len) {
        p = n->value.data;
        last = p + n->value.len;
        digits = 0;

        while (p < last && ((*p >= '0' && *p <= '9') || *p == '.')) {
            digits += (*p != '.');
            p++;
        }

        if (p == last && digits) {
            /* digits past the third decimal are dropped */

            p = ngx_strlchr(n->value.data, last, '.');
            p = (p && last - p > 4) ? p + 4 : last;

            v = ngx_atofp(n->value.data, p - n->value.data, 3);
            v = (v == NGX_ERROR) ? NGX_ERROR : (v + 500) / 1000;

        } else if (har && n->value.len == 2
                   && ngx_strncmp(n->value.data, "-1", 2) == 0)
        {
            v = 0;

        } else {
            v = ngx_parse_time(&n->value, 0);
        }
    }

    if (v == NGX_ERROR || v > 24 * 60 * 60 * 1000) {
        ngx_http_mock_yaml_error(y, n->line, n->column,
                                 "a time of \"x_mock\" is milliseconds, "
                                 "such as \"120\" or \"45.021\", or a time "
                                 "such as \"120ms\" or \"2s\", at most 24h");
        return NGX_ERROR;
    }

    *ms = (ngx_msec_t) v;

    return NGX_OK;
}


/* x_mock.latency: "300ms", "50ms..400ms", "off", as mock_latency takes */

static ngx_int_t
ngx_http_mock_record_latency(ngx_http_mock_yaml_t *y,
    ngx_http_mock_node_t *n, ngx_http_mock_record_t *rec)
{
    char        *err;
    u_char      *p, *last;
    ngx_str_t    args[8];
    ngx_uint_t   i;

    err = "it must be a string";
    i = 0;

    if (n->type == YAML_SCALAR_NODE && !n->binary) {
        p = n->value.data;
        last = p + n->value.len;

        while (p < last && i < 8) {
            if (*p == ' ') {
                p++;
                continue;
            }

            args[i].data = p;

            while (p < last && *p != ' ') {
                p++;
            }

            args[i].len = p - args[i].data;
            i++;
        }

        err = (p < last) ? "it has too many words"
                         : ngx_http_mock_latency_parse(args, i,
                                                       &rec->latency);
    }

    if (err) {
        ngx_http_mock_yaml_error(y, n->line, n->column,
                                 "\"latency\" of \"x_mock\" is not a "
                                 "latency: %s", err);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* "2026-12-01T08:00:00Z", with fractions or an offset, or epoch seconds */

static ngx_int_t
ngx_http_mock_record_time(ngx_str_t *s, time_t *t)
{
    u_char     *p, *last;
    ngx_int_t   n, off;
    struct tm   tm;

    p = s->data;
    last = p + s->len;

    if (s->len && s->len <= NGX_TIME_T_LEN) {
        n = ngx_atotm(p, s->len);

        if (n != NGX_ERROR) {
            *t = n;
            return NGX_OK;
        }
    }

    if (s->len < 20
        || p[4] != '-' || p[7] != '-' || (p[10] != 'T' && p[10] != 't')
        || p[13] != ':' || p[16] != ':')
    {
        return NGX_ERROR;
    }

    ngx_memzero(&tm, sizeof(struct tm));

    tm.tm_year = ngx_atoi(p, 4);
    tm.tm_mon = ngx_atoi(p + 5, 2);
    tm.tm_mday = ngx_atoi(p + 8, 2);
    tm.tm_hour = ngx_atoi(p + 11, 2);
    tm.tm_min = ngx_atoi(p + 14, 2);
    tm.tm_sec = ngx_atoi(p + 17, 2);

    if (tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12
        || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour < 0
        || tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59
        || tm.tm_sec < 0 || tm.tm_sec > 60)
    {
        return NGX_ERROR;
    }

    tm.tm_year -= 1900;
    tm.tm_mon -= 1;

    p += 19;

    if (*p == '.') {
        for (p++; p < last && *p >= '0' && *p <= '9'; p++) { /* void */ }
    }

    off = 0;

    if (p + 1 == last && (*p == 'Z' || *p == 'z')) {
        p++;

    } else if (last - p == 6 && (*p == '+' || *p == '-') && p[3] == ':') {
        n = ngx_atoi(p + 1, 2);
        off = ngx_atoi(p + 4, 2);

        if (n == NGX_ERROR || off == NGX_ERROR) {
            return NGX_ERROR;
        }

        off = (n * 60 + off) * 60;

        if (*p == '+') {
            off = -off;
        }

        p = last;
    }

    if (p != last) {
        return NGX_ERROR;
    }

    *t = timegm(&tm) + off;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mock_record_request(ngx_http_mock_yaml_t *y,
    ngx_http_mock_node_t *node, ngx_http_mock_record_t *rec)
{
    char                  *err;
    ngx_str_t              body, *type;
    ngx_http_mock_key_t    key;
    ngx_http_mock_node_t  *method, *uri;

    ngx_memzero(&key, sizeof(ngx_http_mock_key_t));

    method = ngx_http_mock_node_need(y, node, "method", "the request",
                                     YAML_SCALAR_NODE);
    if (method == NULL) {
        return NGX_ERROR;
    }

    uri = ngx_http_mock_node_need(y, node, "uri", "the request",
                                  YAML_SCALAR_NODE);
    if (uri == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_mock_node_string(y, method, "\"method\"", &rec->key.method)
        != NGX_OK
        || ngx_http_mock_node_string(y, uri, "\"uri\"", &rec->uri) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (rec->key.method.len == 0) {
        ngx_http_mock_yaml_error(y, method->line, method->column,
                                 "\"method\" is empty");
        return NGX_ERROR;
    }

    if (ngx_http_mock_node_token(y, method, "\"method\"", &rec->key.method)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    err = ngx_http_mock_parse_url(y->temp, &rec->uri, &key);
    if (err) {
        ngx_http_mock_yaml_error(y, uri->line, uri->column,
                                 "invalid \"uri\" \"%V\": %s", &rec->uri, err);
        return NGX_ERROR;
    }

    if (key.path.len == 0) {
        ngx_str_set(&key.path, "/");
    }

    rec->key.port = key.port;

    if (ngx_http_mock_str_copy(y->pool, &rec->key.scheme, &key.scheme)
        != NGX_OK
        || ngx_http_mock_str_copy(y->pool, &rec->key.host, &key.host)
           != NGX_OK
        || ngx_http_mock_str_copy(y->pool, &rec->key.path, &key.path)
           != NGX_OK
        || ngx_http_mock_str_copy(y->pool, &rec->key.query, &key.query)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_mock_node_headers(y, ngx_http_mock_node_get(node, "headers"),
                                   "request headers", &rec->req_headers)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_mock_node_body(y, ngx_http_mock_node_get(node, "body"),
                                "the request body", &body)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    type = ngx_http_mock_content_type(&rec->req_headers);

    rec->req_body = body;

    if (ngx_http_mock_canon_body(y->temp, type, &body, &key.body) != NGX_OK) {
        return NGX_ERROR;
    }

    if (key.body.data == body.data) {
        rec->key.body = body;
        return NGX_OK;
    }

    return ngx_http_mock_str_copy(y->pool, &rec->key.body, &key.body);
}


static ngx_int_t
ngx_http_mock_str_copy(ngx_pool_t *pool, ngx_str_t *dst, ngx_str_t *src)
{
    dst->len = src->len;

    if (src->len == 0) {
        dst->data = NULL;
        return NGX_OK;
    }

    dst->data = ngx_pnalloc(pool, src->len);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(dst->data, src->data, src->len);

    return NGX_OK;
}


static ngx_int_t
ngx_http_mock_record_response(ngx_http_mock_yaml_t *y,
    ngx_http_mock_node_t *node, ngx_http_mock_record_t *rec)
{
    ngx_int_t              code;
    ngx_http_mock_node_t  *status, *n, *body;

    status = ngx_http_mock_node_need(y, node, "status", "the response",
                                     YAML_MAPPING_NODE);
    if (status == NULL) {
        return NGX_ERROR;
    }

    n = ngx_http_mock_node_need(y, status, "code", "the status",
                                YAML_SCALAR_NODE);
    if (n == NULL) {
        return NGX_ERROR;
    }

    code = ngx_atoi(n->value.data, n->value.len);

    if (code == NGX_ERROR
        || ngx_http_mock_check_status(code) != NGX_OK)
    {
        ngx_http_mock_yaml_error(y, n->line, n->column,
                                 "status code \"%V\" is not a number "
                                 "between 200 and 999", &n->value);
        return NGX_ERROR;
    }

    rec->status = code;

    n = ngx_http_mock_node_get(status, "message");

    if (n && !ngx_http_mock_node_null(n)) {
        if (ngx_http_mock_node_string(y, n, "the status message",
                                      &rec->reason)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (ngx_http_mock_node_text(y, n, NULL, &rec->reason) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (ngx_http_mock_node_headers(y, ngx_http_mock_node_get(node, "headers"),
                                   "response headers", &rec->headers)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    body = ngx_http_mock_node_get(node, "body");

    if (ngx_http_mock_node_body(y, body, "the response body", &rec->body)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_mock_record_marks(y, node, rec) != NGX_OK) {
        return NGX_ERROR;
    }

    /* such answers end with their header: a body would start the next one */

    if ((code == NGX_HTTP_NO_CONTENT || code == NGX_HTTP_NOT_MODIFIED)
        && rec->body.len)
    {
        ngx_conf_log_error(NGX_LOG_WARN, y->cf, 0,
                           "mock: cassette \"%V\", line %ui, column %ui: "
                           "the body of a %i answer is dropped",
                           y->name, body->line, body->column, code);

        ngx_str_null(&rec->body);
    }

    return NGX_OK;
}


/* where the response's body and header values are, for templates */

static ngx_int_t
ngx_http_mock_record_marks(ngx_http_mock_yaml_t *y,
    ngx_http_mock_node_t *node, ngx_http_mock_record_t *rec)
{
    ngx_uint_t             i, j, k, n;
    ngx_http_mock_node_t  *body, *headers, *value;

    body = ngx_http_mock_node_get(node, "body");

    if (body && body->type == YAML_MAPPING_NODE) {
        body = ngx_http_mock_node_get(body, "string");
    }

    if (body && body->type == YAML_SCALAR_NODE) {
        rec->binary = body->binary;
        ngx_http_mock_node_mark(body, &rec->body_mark);
    }

    if (rec->headers.nelts == 0) {
        return NGX_OK;
    }

    rec->header_marks = ngx_pcalloc(y->pool, rec->headers.nelts
                                             * sizeof(ngx_http_mock_mark_t));
    if (rec->header_marks == NULL) {
        return NGX_ERROR;
    }

    headers = ngx_http_mock_node_get(node, "headers");
    k = 0;

    for (i = 1; i < headers->nchildren; i += 2) {
        value = headers->children[i];
        n = (value->type == YAML_SEQUENCE_NODE) ? value->nchildren : 1;

        for (j = 0; j < n && k < rec->headers.nelts; j++) {
            ngx_http_mock_node_mark((value->type == YAML_SEQUENCE_NODE)
                                    ? value->children[j] : value,
                                    &rec->header_marks[k++]);
        }
    }

    return NGX_OK;
}


static void
ngx_http_mock_node_mark(ngx_http_mock_node_t *node, ngx_http_mock_mark_t *mark)
{
    mark->line = node->line;
    mark->column = node->exact ? node->vcolumn : node->column;
    mark->exact = node->exact;
}


/* a header name or a method: an HTTP token */

static ngx_int_t
ngx_http_mock_node_token(ngx_http_mock_yaml_t *y, ngx_http_mock_node_t *node,
    char *what, ngx_str_t *s)
{
    u_char  *bad, *q, *b;
    u_char   quoted[NGX_HTTP_MOCK_QUOTED], byte[32];

    bad = ngx_http_mock_check_token(s);

    if (bad == NULL) {
        return NGX_OK;
    }

    q = ngx_http_mock_check_quote(quoted, quoted + sizeof(quoted), s);
    b = ngx_http_mock_check_byte(byte, byte + sizeof(byte), *bad);

    ngx_http_mock_yaml_error(y, node->line, node->column,
                             "%s \"%*s\" is not an HTTP token: it has %*s",
                             what, q - quoted, quoted, b - byte, byte);
    return NGX_ERROR;
}


/* a header value (of the header "name") or, without one, the reason */

static ngx_int_t
ngx_http_mock_node_text(ngx_http_mock_yaml_t *y, ngx_http_mock_node_t *node,
    ngx_str_t *name, ngx_str_t *s)
{
    u_char  *bad, *q, *b;
    u_char   quoted[NGX_HTTP_MOCK_QUOTED], byte[32];

    bad = ngx_http_mock_check_text(s);

    if (bad == NULL) {
        return NGX_OK;
    }

    b = ngx_http_mock_check_byte(byte, byte + sizeof(byte), *bad);

    if (name == NULL) {
        ngx_http_mock_yaml_error(y, node->line, node->column,
                                 "the status message has %*s", b - byte,
                                 byte);
        return NGX_ERROR;
    }

    q = ngx_http_mock_check_quote(quoted, quoted + sizeof(quoted), name);

    ngx_http_mock_yaml_error(y, node->line, node->column,
                             "header \"%*s\" has %*s in its value",
                             q - quoted, quoted, b - byte, byte);
    return NGX_ERROR;
}
