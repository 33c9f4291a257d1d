/* Raft RPCs <-> protobuf (proto/raft_msg.proto): the one module that knows
 * the peer wire format. Every encoded message carries the sender's id and
 * address, because a PULL socket does not say who sent a message.
 *
 * Errors: 0 or a negative q53_err (Q53_EMALF for bytes that are not a valid
 * message, Q53_EINVAL for a raft_message this module cannot encode,
 * Q53_ENOMEM). */
#ifndef Q53_NODE_RAFT_RAFT_MSG_H
#define Q53_NODE_RAFT_RAFT_MSG_H

#include <stddef.h>
#include <stdint.h>

#include <raft.h>

/* Longest server address accepted on the wire (bytes, without the NUL). */
#define Q53_RAFT_MSG_ADDRESS_MAX 255

/* A message ready to be packed; opaque, built by q53_raft_msg_prepare. It
 * points into the raft_message it was built from (entry payloads, snapshot
 * data, addresses): that message must outlive it. */
struct q53_raft_msg_out;

/* Build the protobuf form of `m` as sent by (sender_id, sender_address).
 * Nothing is copied. On success *out is set; free it with
 * q53_raft_msg_out_free. Q53_EINVAL for an unknown type, a zero sender id or
 * an address longer than Q53_RAFT_MSG_ADDRESS_MAX. */
int q53_raft_msg_prepare(const struct raft_message *m, raft_id sender_id,
			 const char *sender_address,
			 struct q53_raft_msg_out **out);

/* Exact number of bytes q53_raft_msg_pack writes. */
size_t q53_raft_msg_packed_size(const struct q53_raft_msg_out *out);

/* Write the packed message to dst, which holds q53_raft_msg_packed_size
 * bytes; returns the number of bytes written. */
size_t q53_raft_msg_pack(const struct q53_raft_msg_out *out, uint8_t *dst);

void q53_raft_msg_out_free(struct q53_raft_msg_out *out);

/* prepare + pack into one malloc'd buffer (caller frees *buf with free()). */
int q53_raft_msg_encode(const struct raft_message *m, raft_id sender_id,
			const char *sender_address, uint8_t **buf, size_t *len);

/* A decoded message; message.server_address points at address[], so the
 * struct must stay put while raft looks at the message. */
struct q53_raft_msg_in {
	struct raft_message message;
	char address[Q53_RAFT_MSG_ADDRESS_MAX + 1];
};

/* Decode `len` bytes of untrusted input. message.server_id/server_address
 * are the SENDER's. On success the memory raft takes over is allocated with
 * raft_malloc in raft's layout: AppendEntries entries in one array
 * (NULL when there are none) with every payload in ONE batch that each
 * entries[i].batch points to; InstallSnapshot conf built with
 * raft_configuration_add and data.base raft_malloc'd. Hand it to raft's
 * recv callback (raft owns it then) or release it with
 * q53_raft_msg_discard. On error nothing is left allocated. */
int q53_raft_msg_decode(const uint8_t *buf, size_t len,
			struct q53_raft_msg_in *in);

/* Free what q53_raft_msg_decode allocated for a message raft never saw. */
void q53_raft_msg_discard(struct raft_message *m);

#endif
