/*===- weights.c - mapping a model's weights file --------------------------===*
 *
 * The file is mapped, not read: pages of weights are loaded from the page
 * cache when the model first touches them and shared between processes
 * that run the same model. Before that, the header must match the
 * descriptor exactly, so a weights file from another compile is an error
 * rather than silently wrong results. The file is treated as hostile: every
 * size is checked against the file's actual length before it is mapped.
 *===----------------------------------------------------------------------===*/

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* pread, O_CLOEXEC */
#endif

#include "weights.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(sizeof(quarc_weights_header) == QUARC_WEIGHTS_HEADER_BYTES,
               "the weights file header is 64 bytes");

/* Little-endian fields, whatever the host's byte order. */
static uint32_t read_le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static uint64_t read_le64(const unsigned char *p) {
  return (uint64_t)read_le32(p) | (uint64_t)read_le32(p + 4) << 32;
}

/* Reads up to `size` bytes at the start of the file; the count read, or
 * -1 with errno set. */
static ssize_t read_start(int fd, unsigned char *buf, size_t size) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = pread(fd, buf + done, size - done, (off_t)done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    if (n == 0)
      break;
    done += (size_t)n;
  }
  return (ssize_t)done;
}

/* Checks the header in `buf` (`got` bytes of the file's start, which is
 * `file_bytes` long) against the model; on success sets *header_bytes. */
static quarc_status check_header(const quarc_model_desc *model,
                                 const char *path, const unsigned char *buf,
                                 size_t got, uint64_t file_bytes,
                                 uint64_t *header_bytes, char *error,
                                 size_t error_size) {
  const size_t magic_bytes = sizeof(((quarc_weights_header *)0)->magic);
  if (got < magic_bytes || memcmp(buf, QUARC_WEIGHTS_MAGIC, magic_bytes) != 0)
    return quarc_report_error(
        error, error_size, QUARC_ERROR_WEIGHTS,
        "'%s' is not a quarc weights file (it does not start "
        "with " QUARC_WEIGHTS_MAGIC ")",
        path);
  if (got < QUARC_WEIGHTS_HEADER_BYTES)
    return quarc_report_error(error, error_size, QUARC_ERROR_WEIGHTS,
                              "the weights file '%s' is truncated: %llu bytes, "
                              "shorter than its %d-byte header",
                              path, (unsigned long long)file_bytes,
                              QUARC_WEIGHTS_HEADER_BYTES);
  uint32_t version = read_le32(buf + 8);
  uint64_t header = read_le32(buf + 12);
  uint64_t weights_bytes = read_le64(buf + 16);
  uint64_t weights_hash = read_le64(buf + 24);
  if (version != QUARC_WEIGHTS_VERSION)
    return quarc_report_error(
        error, error_size, QUARC_ERROR_WEIGHTS,
        "the weights file '%s' has format version %u; this "
        "runtime reads version %d",
        path, (unsigned)version, QUARC_WEIGHTS_VERSION);
  /* The weights start at a multiple of 64 of a page-aligned mapping. */
  if (header < QUARC_WEIGHTS_HEADER_BYTES || header % 64 != 0)
    return quarc_report_error(
        error, error_size, QUARC_ERROR_WEIGHTS,
        "the weights file '%s' is malformed: its header "
        "size %llu is not a multiple of 64 of at least %d",
        path, (unsigned long long)header, QUARC_WEIGHTS_HEADER_BYTES);
  if (weights_bytes != model->weights_bytes ||
      weights_hash != model->weights_hash)
    return quarc_report_error(
        error, error_size, QUARC_ERROR_WEIGHTS,
        "the weights file '%s' does not belong to the model '%s': it holds "
        "%llu bytes of weights with hash %016llx, the model was compiled "
        "with %llu bytes, hash %016llx (a file from another compile?)",
        path, model->name ? model->name : "", (unsigned long long)weights_bytes,
        (unsigned long long)weights_hash,
        (unsigned long long)model->weights_bytes,
        (unsigned long long)model->weights_hash);
  if (weights_bytes > UINT64_MAX - header ||
      file_bytes < header + weights_bytes)
    return quarc_report_error(error, error_size, QUARC_ERROR_WEIGHTS,
                              "the weights file '%s' is truncated: %llu bytes, "
                              "its header says %llu",
                              path, (unsigned long long)file_bytes,
                              (unsigned long long)(header + weights_bytes));
  *header_bytes = header;
  return QUARC_OK;
}

static quarc_status map_file(const quarc_model_desc *model, const char *path,
                             int fd, quarc_weights_mapping *mapping,
                             char *error, size_t error_size) {
  struct stat st;
  if (fstat(fd, &st) != 0)
    return quarc_report_error(error, error_size, QUARC_ERROR_IO,
                              "cannot read the weights file '%s': %s", path,
                              strerror(errno));
  if (!S_ISREG(st.st_mode))
    return quarc_report_error(error, error_size, QUARC_ERROR_IO,
                              "the weights file '%s' is not a regular file",
                              path);
  unsigned char buf[QUARC_WEIGHTS_HEADER_BYTES];
  ssize_t got = read_start(fd, buf, sizeof buf);
  if (got < 0)
    return quarc_report_error(error, error_size, QUARC_ERROR_IO,
                              "cannot read the weights file '%s': %s", path,
                              strerror(errno));
  uint64_t header_bytes = 0;
  quarc_status status =
      check_header(model, path, buf, (size_t)got, (uint64_t)st.st_size,
                   &header_bytes, error, error_size);
  if (status != QUARC_OK)
    return status;
  if (model->weights_bytes == 0)
    return QUARC_OK; /* nothing to map */
  uint64_t length = header_bytes + model->weights_bytes;
  if (length > (uint64_t)SIZE_MAX)
    return quarc_report_error(error, error_size, QUARC_ERROR_IO,
                              "the weights file '%s' is too large to map",
                              path);
  void *base = mmap(NULL, (size_t)length, PROT_READ, MAP_PRIVATE, fd, 0);
  if (base == MAP_FAILED)
    return quarc_report_error(error, error_size, QUARC_ERROR_IO,
                              "cannot map the weights file '%s': %s", path,
                              strerror(errno));
  const char *weights = (const char *)base + header_bytes;
  if ((uintptr_t)weights % 64 != 0) {
    munmap(base, (size_t)length);
    return quarc_report_error(error, error_size, QUARC_ERROR_IO,
                              "the weights in '%s' are not 64-byte aligned in "
                              "memory",
                              path);
  }
  mapping->base = base;
  mapping->bytes = (size_t)length;
  mapping->weights = weights;
  return QUARC_OK;
}

quarc_status quarc_weights_map(const quarc_model_desc *model, const char *path,
                               quarc_weights_mapping *mapping, char *error,
                               size_t error_size) {
  memset(mapping, 0, sizeof *mapping);
  int fd;
  do
    fd = open(path, O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return quarc_report_error(error, error_size, QUARC_ERROR_IO,
                              "cannot open the weights file '%s': %s", path,
                              strerror(errno));
  quarc_status status = map_file(model, path, fd, mapping, error, error_size);
  /* The mapping keeps the file's pages; the descriptor is not needed. */
  close(fd);
  return status;
}

void quarc_weights_unmap(quarc_weights_mapping *mapping) {
  if (mapping->base)
    munmap(mapping->base, mapping->bytes);
  memset(mapping, 0, sizeof *mapping);
}
