/* New access keys for the REST API: an id in AWS's form ("AKIA" and 16 of
 * A-Z 2-7) and a 40-character secret (base64 of 30 random bytes), from
 * OpenSSL's RAND_bytes on the node that proposes the key (the FSM has no
 * randomness). Outside q53_fsm. */
#ifndef Q53_NODE_CONTROL_ACCESS_KEY_GEN_H
#define Q53_NODE_CONTROL_ACCESS_KEY_GEN_H

#define ACCESS_KEY_GEN_ID_LEN	  20
#define ACCESS_KEY_GEN_SECRET_LEN 40

/* 0, or -EIO when the random generator fails. */
int access_key_gen(char id[ACCESS_KEY_GEN_ID_LEN + 1],
		   char secret[ACCESS_KEY_GEN_SECRET_LEN + 1]);

#endif
