// A failing disk for SQLite, loaded with LD_PRELOAD. Built by the test that uses it.
// Writes: once NOVACRON_FAULT_EIO_AFTER writes to a file whose name ends in
// NOVACRON_FAULT_EIO_SUFFIX (default "-wal") have gone through, every later write and fsync of
// such a file fails with EIO (none when it is unset).
// Reads: while the file NOVACRON_FAULT_EIO_READS_WHILE names exists, every read of a file whose
// path contains NOVACRON_FAULT_EIO_READS fails with EIO (none when either is unset).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static atomic_long writes;

static int faulty(int fd) {
    const char *suffix = getenv("NOVACRON_FAULT_EIO_SUFFIX");
    if (!suffix) suffix = "-wal";
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) return 0;
    path[n] = 0;
    size_t s = strlen(suffix);
    return (size_t)n >= s && strcmp(path + n - s, suffix) == 0;
}

static int failing(int fd) {
    if (!faulty(fd)) return 0;
    const char *after = getenv("NOVACRON_FAULT_EIO_AFTER");
    if (!after) return 0;
    long limit = atol(after);
    return atomic_fetch_add(&writes, 1) >= limit;
}

static int failingRead(int fd) {
    const char *flag = getenv("NOVACRON_FAULT_EIO_READS_WHILE");
    const char *part = getenv("NOVACRON_FAULT_EIO_READS");
    if (!flag || !part || access(flag, F_OK) != 0) return 0;
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) return 0;
    path[n] = 0;
    return strstr(path, part) != NULL;
}

#define PASS(name, type, ...)                                    \
    static type (*real)(__VA_ARGS__);                            \
    if (!real) real = (type(*)(__VA_ARGS__))dlsym(RTLD_NEXT, name);

ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset) {
    PASS("pwrite", ssize_t, int, const void *, size_t, off_t)
    if (failing(fd)) { errno = EIO; return -1; }
    return real(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off64_t offset) {
    PASS("pwrite64", ssize_t, int, const void *, size_t, off64_t)
    if (failing(fd)) { errno = EIO; return -1; }
    return real(fd, buf, count, offset);
}

ssize_t write(int fd, const void *buf, size_t count) {
    PASS("write", ssize_t, int, const void *, size_t)
    if (failing(fd)) { errno = EIO; return -1; }
    return real(fd, buf, count);
}

int fsync(int fd) {
    PASS("fsync", int, int)
    if (faulty(fd) && atomic_load(&writes) > 0 && failing(fd)) { errno = EIO; return -1; }
    return real(fd);
}

int fdatasync(int fd) {
    PASS("fdatasync", int, int)
    if (faulty(fd) && atomic_load(&writes) > 0 && failing(fd)) { errno = EIO; return -1; }
    return real(fd);
}

ssize_t pread(int fd, void *buf, size_t count, off_t offset) {
    PASS("pread", ssize_t, int, void *, size_t, off_t)
    if (failingRead(fd)) { errno = EIO; return -1; }
    return real(fd, buf, count, offset);
}

ssize_t pread64(int fd, void *buf, size_t count, off64_t offset) {
    PASS("pread64", ssize_t, int, void *, size_t, off64_t)
    if (failingRead(fd)) { errno = EIO; return -1; }
    return real(fd, buf, count, offset);
}

ssize_t read(int fd, void *buf, size_t count) {
    PASS("read", ssize_t, int, void *, size_t)
    if (failingRead(fd)) { errno = EIO; return -1; }
    return real(fd, buf, count);
}
