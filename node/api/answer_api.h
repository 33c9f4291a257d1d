/* q53 test-answer and Route 53's TestDNSAnswer on the request edge
 * (answer_api.c): the node synthesizes one query (name, type, ID, the
 * resolver's address as its source, an EDNS Client Subnet option) and
 * answers it with the DNS query path itself (dns_query_answer_from) on its
 * current serving view, so the answer is the one dig gets from this node
 * for the same packet; the branch of the routing tree is told by
 * zone_store_answer_branch. A read: never forwarded. Loop thread only. */
#ifndef Q53_NODE_API_ANSWER_API_H
#define Q53_NODE_API_ANSWER_API_H

#include "node/api/api.h"

/* Fills b->test_answer (b->data: the struct api_edge). */
void answer_api_backend(struct api_backend *b);

#endif
