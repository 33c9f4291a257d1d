/* libcurl's multi interface driven from one libuv loop: a uv_poll per
 * socket libcurl asks to watch and one uv_timer for libcurl's timeout.
 * Used by the health prober (node/health/prober.c) and the health-check
 * webhook sender (node/runtime/webhook.c). Loop thread only.
 *
 * The owner adds its easy handles with curl_loop_add; when one finishes,
 * done(data, easy, result) runs on the loop thread (the handle is still in
 * the multi: remove it with curl_loop_remove before curl_easy_cleanup).
 *
 * Lifecycle (house style #10): curl_loop_init -> curl_loop_close(cb); the
 * owner removes every easy handle before curl_loop_close. curl_global_init
 * is called by init and undone when the loop is freed. */
#ifndef Q53_NODE_COMMON_CURL_LOOP_H
#define Q53_NODE_COMMON_CURL_LOOP_H

#include <curl/curl.h>
#include <uv.h>

struct curl_loop;

typedef void (*curl_loop_done_cb)(void *data, CURL *easy, CURLcode result);

/* 0, or Q53_ENOMEM (libcurl or memory). */
int curl_loop_init(struct curl_loop **out, uv_loop_t *loop,
		   curl_loop_done_cb done, void *data);

/* Starts easy (the caller keeps ownership). 0 or Q53_EINVAL when libcurl
 * refuses it or the loop is closing. */
int curl_loop_add(struct curl_loop *l, CURL *easy);

/* Takes easy out of the multi (finished or not). */
void curl_loop_remove(struct curl_loop *l, CURL *easy);

/* Cleans up the multi, closes every socket poll and the timer, frees l,
 * then cb(data) on the loop thread. No done callback runs after this. */
void curl_loop_close(struct curl_loop *l, void (*cb)(void *data), void *data);

#endif
