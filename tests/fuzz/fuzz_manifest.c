/*
 * Vendor hash manifests (lib/manifest.c): every line form, under names
 * that steer the algorithm-from-name rule. The first input byte picks the
 * manifest's name, the rest is its text. Every entry must hold as many
 * lower-case hex digits as its algorithm's digest has, and a lookup of each
 * named entry must answer (or refuse) without harm.
 */
#include "fuzz_common.h"
#include "signgate/manifest.h"

static const char *const names[] = {
	"SHA256SUMS",	"sha512sums.txt", "app.exe.sha256", "app.exe.sha512",
	"app.exe.md5",	"app.exe.sha1sum", "checksums.txt", "app.exe.sha384sums",
	"app.exe.asc", "MD5SUMS",	  "dir/app.exe.sha224", "hashes",
};

static void check_entry(const sg_manifest *m, const sg_manifest_entry *e)
{
	const sg_manifest_entry *found[4];
	size_t n = sg_hash_alg_hexlen(e->alg), n_found = 0;
	const char *base;

	fuzz_require(n > 0 && strlen(e->hex) == n, "entry at line %zu: %zu hex digits for %s",
		     e->line, strlen(e->hex), sg_hash_alg_name(e->alg));
	fuzz_require(strspn(e->hex, "0123456789abcdef") == n, "entry at line %zu: not lower hex",
		     e->line);
	if (!e->name)
		return;
	/* A lookup is by base name: the last '/' or '\\' separated component. */
	base = e->name + strlen(e->name);
	while (base > e->name && base[-1] != '/' && base[-1] != '\\')
		base--;
	if (*base && sg_manifest_find(m, base, found, 4, &n_found) != SG_OK)
		sg_error_clear();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	sg_manifest m;

	if (len < 1)
		return 0;
	memset(&m, 0, sizeof(m));
	if (sg_manifest_parse(&m, names[data[0] % (sizeof(names) / sizeof(names[0]))],
			      (const char *)data + 1, len - 1) != SG_OK) {
		sg_error_clear();
		return 0;
	}
	fuzz_trace("%zu entries, %zu bad lines", m.n, m.n_bad);
	for (size_t i = 0; i < m.n; i++)
		check_entry(&m, &m.entries[i]);
	sg_manifest_free(&m);
	return 0;
}
