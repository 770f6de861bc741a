/*
 * audit_key — the key file and the published head of the audit chain; see audit_key.h.
 */
#include "audit_key.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

int
audit_key_load(const char *path, struct audit_key *k, struct err *e)
{
	unsigned char buf[AUDIT_KEY_MAX + 1];
	struct stat st;
	ssize_t n;
	size_t len = 0;
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC)) < 0)
		return err_set(e, "conf-invalid", "audit_key_file %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0)
		rc = err_set(e, "conf-invalid", "audit_key_file %s: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		rc = err_set(e, "conf-invalid", "audit_key_file %s: not a regular file", path);
	else if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		rc = err_set(e, "conf-invalid", "audit_key_file %s: mode %04o lets group or others "
		    "read it, and whoever reads the key can forge the audit chain (chmod 0400)",
		    path, (unsigned)(st.st_mode & 07777));
	while (rc == 0 && len < sizeof(buf) && (n = read(fd, buf + len, sizeof(buf) - len)) != 0) {
		if (n > 0)
			len += (size_t)n;
		else if (errno != EINTR)
			rc = err_set(e, "conf-invalid", "audit_key_file %s: %s", path, strerror(errno));
	}
	if (rc == 0 && len < AUDIT_KEY_MIN)
		rc = err_set(e, "conf-invalid", "audit_key_file %s: %zu bytes, want at least %d "
		    "random bytes (head -c 32 /dev/urandom > FILE)", path, len, AUDIT_KEY_MIN);
	else if (rc == 0 && len > AUDIT_KEY_MAX)
		rc = err_set(e, "conf-invalid", "audit_key_file %s: longer than %d bytes", path,
		    AUDIT_KEY_MAX);
	if (rc == 0)
		audit_key_set(k, buf, len);
	OPENSSL_cleanse(buf, sizeof(buf));
	close(fd);
	return rc;
}

/* The MAC of a published head. */
static void
audit_head_mac(const struct audit_key *k, uint64_t id, const char *hash,
    char out[AUDIT_HASH_HEXLEN + 1])
{
	char text[128];

	snprintf(text, sizeof(text), "prefixd audit head %llu %s", (unsigned long long)id, hash);
	audit_mac(k, text, out);
}

int
audit_head_open(const char *path, struct err *e)
{
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		return err_set(e, "store-failed", "audit head %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || fchmod(fd, 0600) < 0) {
		close(fd);
		return err_set(e, "store-failed", "audit head %s: not a regular file of ours", path);
	}
	return fd;
}

int
audit_head_write(int fd, const struct audit_key *k, uint64_t id, const char *hash,
    struct err *e)
{
	char mac[AUDIT_HASH_HEXLEN + 1], line[192];
	int n;

	audit_head_mac(k, id, hash, mac);
	n = snprintf(line, sizeof(line), "%020llu %s %s\n", (unsigned long long)id, hash, mac);
	if (pwrite(fd, line, (size_t)n, 0) != n)
		return err_set(e, "store-failed", "audit head: %s", strerror(errno));
	return 0;
}

bool
audit_head_replaced(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) < 0 || stat(path, &b) < 0 || a.st_dev != b.st_dev ||
	    a.st_ino != b.st_ino;
}

int
audit_head_read(const char *path, const struct audit_key *k, uint64_t *id,
    char hash[AUDIT_HASH_HEXLEN + 1], struct err *e)
{
	char line[256], mac[AUDIT_HASH_HEXLEN + 1], want[AUDIT_HASH_HEXLEN + 1];
	unsigned long long n;
	FILE *fp;
	int ok;

	if ((fp = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return 1;
		return err_set(e, "audit-broken", "the published audit head %s: %s", path,
		    strerror(errno));
	}
	if (fgets(line, sizeof(line), fp) == NULL) {
		fclose(fp);
		return 1;                       /* created at start, nothing written yet */
	}
	ok = sscanf(line, "%llu %64[0-9a-f] %64[0-9a-f]", &n, hash, mac) == 3 &&
	    strlen(hash) == AUDIT_HASH_HEXLEN && strlen(mac) == AUDIT_HASH_HEXLEN;
	fclose(fp);
	if (!ok)
		return err_set(e, "audit-broken", "the published audit head %s is malformed", path);
	audit_head_mac(k, n, hash, want);
	if (CRYPTO_memcmp(want, mac, AUDIT_HASH_HEXLEN) != 0)
		return err_set(e, "audit-broken", "the published audit head %s does not check with "
		    "the key %s: it was written without the key", path, k->id);
	*id = n;
	return 0;
}
