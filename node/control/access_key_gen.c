#include "node/control/access_key_gen.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "node/common/errcode.h"

int access_key_gen(char id[ACCESS_KEY_GEN_ID_LEN + 1],
		   char secret[ACCESS_KEY_GEN_SECRET_LEN + 1])
{
	static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned char r[10 + 30];

	if (RAND_bytes(r, sizeof(r)) != 1)
		return -EIO;
	memcpy(id, "AKIA", 4);
	/* 10 bytes = 80 bits = 16 characters of 5 bits */
	for (unsigned i = 0; i < 16; i++) {
		unsigned bit = i * 5, v = 0;

		for (unsigned k = 0; k < 5; k++, bit++)
			v = (v << 1) | ((r[bit / 8] >> (7 - bit % 8)) & 1u);
		id[4 + i] = B32[v];
	}
	id[ACCESS_KEY_GEN_ID_LEN] = '\0';
	EVP_EncodeBlock((unsigned char *)secret, r + 10, 30);
	secret[ACCESS_KEY_GEN_SECRET_LEN] = '\0';
	OPENSSL_cleanse(r, sizeof(r));
	return 0;
}
