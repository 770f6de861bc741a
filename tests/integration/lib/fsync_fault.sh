# tests/integration/lib/fsync_fault.sh — an LD_PRELOAD shim that makes fsync/fdatasync fail
# with EIO while a trigger file exists (the reliability suite's "failed COMMIT" fault).
#
#   . "$PREFIXD_SOURCE_DIR/tests/integration/lib/fsync_fault.sh"
#   fsync_fault_build DIR BIN   # builds DIR/fsync_fault.so; sets FSYNC_PRELOAD (the value for
#                               # LD_PRELOAD: ASan's runtime first when BIN is a sanitized build)
#                               # and exports REL_FSYNC_FAIL=DIR/fsync-fails (the trigger)
#   touch "$REL_FSYNC_FAIL"     # from now on every fsync/fdatasync of the process fails
#   rm -f "$REL_FSYNC_FAIL"     # and works again
fsync_fault_build() {
	local dir=$1 bin=$2 asan_rt
	cc -shared -fPIC -O1 -o "$dir/fsync_fault.so" -x c - -ldl <<'C' || return 1
/* fsync/fdatasync fail with EIO while the file named by REL_FSYNC_FAIL exists. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
static int failing(void) { const char *f = getenv("REL_FSYNC_FAIL"); return f && access(f, F_OK) == 0; }
int fsync(int fd) { if (failing()) { errno = EIO; return -1; } return ((int (*)(int))dlsym(RTLD_NEXT, "fsync"))(fd); }
int fdatasync(int fd) { if (failing()) { errno = EIO; return -1; } return ((int (*)(int))dlsym(RTLD_NEXT, "fdatasync"))(fd); }
C
	export REL_FSYNC_FAIL=$dir/fsync-fails
	FSYNC_PRELOAD=$dir/fsync_fault.so
	# An ASan build needs its runtime first in the preload list.
	asan_rt=$(ldd "$bin" | awk '/libasan|libclang_rt.asan/ { print $3; exit }')
	[ -z "$asan_rt" ] || FSYNC_PRELOAD="$asan_rt:$FSYNC_PRELOAD"
}
