/* Secret handling on top of OpenSSL's cleanse and CRYPTO_memcmp. */
#include "core/secure.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

void
secure_wipe(void *p, size_t n)
{
	if (p && n)
		OPENSSL_cleanse(p, n);
}

bool
secure_eq(const void *a, size_t an, const void *b, size_t bn)
{
	if (an != bn)
		return false;
	if (an == 0)
		return true;
	return CRYPTO_memcmp(a, b, an) == 0;
}

int
secure_random(void *p, size_t n)
{
	return RAND_bytes(p, (int)n) == 1 ? 0 : EIO;
}
