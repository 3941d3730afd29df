
/*
 * Recordings written together: the interactions that complete in one
 * turn of a worker's event loop wait, with their responses, until the
 * turn ends, and each cassette then gets them in one take of its lock
 * and one write, in the order they completed.
 */


#include "ngx_http_mock_module.h"


static void ngx_http_mock_commit_handler(ngx_event_t *ev);


static ngx_queue_t  ngx_http_mock_commits;
static ngx_event_t  ngx_http_mock_commit_event;


void
ngx_http_mock_commit_add(ngx_http_mock_commit_t *cm)
{
    ngx_event_t  *ev;

    ev = &ngx_http_mock_commit_event;

    if (ev->handler == NULL) {
        ngx_queue_init(&ngx_http_mock_commits);

        ev->handler = ngx_http_mock_commit_handler;
        ev->data = &ngx_http_mock_commits;
        ev->log = ngx_cycle->log;
    }

    ngx_queue_insert_tail(&ngx_http_mock_commits, &cm->queue);
    cm->queued = 1;

    if (!ev->posted) {
        ngx_post_event(ev, &ngx_posted_events);
    }
}


static void
ngx_http_mock_commit_handler(ngx_event_t *ev)
{
    ngx_http_mock_commit_flush();
}


/*
 * What waits is written now: the file of the first in line gets all that
 * waits for it (up to the most that one write takes), then the next.
 * Each is told how it went once its file's lock is given back.
 */

void
ngx_http_mock_commit_flush(void)
{
    ngx_int_t                rc;
    ngx_str_t                entries[NGX_HTTP_MOCK_APPEND_MAX];
    ngx_uint_t               i, n, index;
    ngx_queue_t             *q, *next;
    ngx_http_mock_commit_t  *cm, *batch[NGX_HTTP_MOCK_APPEND_MAX];
    ngx_http_mock_writer_t  *writer;

    if (ngx_http_mock_commit_event.handler == NULL) {
        return;
    }

    if (ngx_http_mock_commit_event.posted) {
        ngx_delete_posted_event(&ngx_http_mock_commit_event);
    }

    while (!ngx_queue_empty(&ngx_http_mock_commits)) {

        q = ngx_queue_head(&ngx_http_mock_commits);
        cm = ngx_queue_data(q, ngx_http_mock_commit_t, queue);
        writer = cm->writer;

        n = 0;

        while (q != ngx_queue_sentinel(&ngx_http_mock_commits)
               && n < NGX_HTTP_MOCK_APPEND_MAX)
        {
            next = ngx_queue_next(q);
            cm = ngx_queue_data(q, ngx_http_mock_commit_t, queue);

            if (cm->writer == writer) {
                ngx_queue_remove(q);
                cm->queued = 0;

                batch[n] = cm;
                entries[n++] = cm->entry;
            }

            q = next;
        }

        rc = ngx_http_mock_store_append_n(writer, entries, n, &index,
                                          batch[0]->log);

        for (i = 0; i < n; i++) {
            if (rc == NGX_OK) {
                batch[i]->rec->index = index + i;
            }

            batch[i]->handler(batch[i], rc);
        }
    }
}
