/*===- npy.c - reading and writing NumPy .npy files ------------------------===*
 *
 * The reader treats every file as hostile: each length is checked against
 * what was actually read, the header is parsed by a small strict parser of
 * the one dict literal NumPy writes (no eval), and every size goes through
 * overflow checks before anything is allocated.
 *===----------------------------------------------------------------------===*/

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* mkstemp, fdopen, fileno, fchmod, umask */
#endif

#include "npy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Data is read and written as raw bytes; '<' data is native only on a
 * little-endian host, which every quarc target is. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the quarc runtime assumes a little-endian host"
#endif

static const char kMagic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};
/* Larger than any header of a rank <= 8 array; NumPy itself refuses
 * headers over 10000 bytes by default. Bounds what a bad length can make
 * us allocate. */
enum { kMaxHeaderLen = 65536 };

QUARC_PRINTF(3, 4)
static quarc_status io_error(char *err, size_t err_size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, err_size, fmt, ap);
  va_end(ap);
  return QUARC_ERROR_IO;
}

/*===----------------------------------------------------------------------===*
 * dtype descriptors
 *===----------------------------------------------------------------------===*/

typedef struct npy_type {
  const char *code; /* descr without its byte-order character */
  int32_t dtype;
} npy_type;

static const npy_type kTypes[] = {
    {"f4", QUARC_DTYPE_F32}, {"f8", QUARC_DTYPE_F64}, {"f2", QUARC_DTYPE_F16},
    {"i1", QUARC_DTYPE_I8},  {"i2", QUARC_DTYPE_I16}, {"i4", QUARC_DTYPE_I32},
    {"i8", QUARC_DTYPE_I64}, {"u1", QUARC_DTYPE_U8},  {"b1", QUARC_DTYPE_BOOL},
};

/* The dtype of a descr such as "<f4", or 0. '<', '=' (native) and '|'
 * (byte order not applicable) all mean little-endian here; '>' is accepted
 * only where byte order does not matter, for one-byte types. */
static int32_t dtype_from_descr(const char *descr) {
  char order = descr[0];
  if (order != '<' && order != '=' && order != '|' && order != '>')
    return 0;
  for (size_t i = 0; i < sizeof kTypes / sizeof kTypes[0]; ++i) {
    if (strcmp(descr + 1, kTypes[i].code) != 0)
      continue;
    if (order == '>' && quarc_dtype_size(kTypes[i].dtype) != 1)
      return 0;
    return kTypes[i].dtype;
  }
  return 0;
}

/* The descr NumPy itself writes for a dtype: '|' for one-byte types. */
static const char *descr_from_dtype(int32_t dtype) {
  switch (dtype) {
  case QUARC_DTYPE_F32:
    return "<f4";
  case QUARC_DTYPE_F64:
    return "<f8";
  case QUARC_DTYPE_F16:
    return "<f2";
  case QUARC_DTYPE_I8:
    return "|i1";
  case QUARC_DTYPE_I16:
    return "<i2";
  case QUARC_DTYPE_I32:
    return "<i4";
  case QUARC_DTYPE_I64:
    return "<i8";
  case QUARC_DTYPE_U8:
    return "|u1";
  case QUARC_DTYPE_BOOL:
    return "|b1";
  default:
    return NULL;
  }
}

/*===----------------------------------------------------------------------===*
 * Header parser: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 *===----------------------------------------------------------------------===*/

typedef struct header_parser {
  const char *p, *end;
  const char *path;
  char *err;
  size_t err_size;
} header_parser;

/* Sets the error message, prefixed with the file, and returns false. */
QUARC_PRINTF(2, 3)
static bool parse_error(header_parser *ps, const char *fmt, ...) {
  char message[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  snprintf(ps->err, ps->err_size, "%s: bad .npy header: %s", ps->path, message);
  return false;
}

static void skip_space(header_parser *ps) {
  while (ps->p < ps->end &&
         (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
    ++ps->p;
}

/* Consumes `c` (after whitespace) if it is next. */
static bool accept(header_parser *ps, char c) {
  skip_space(ps);
  if (ps->p < ps->end && *ps->p == c) {
    ++ps->p;
    return true;
  }
  return false;
}

static bool expect(header_parser *ps, char c) {
  return accept(ps, c) || parse_error(ps, "expected '%c'", c);
}

/* A quoted string without escapes (none of the keys or descrs need one). */
static bool parse_string(header_parser *ps, char *out, size_t out_size) {
  skip_space(ps);
  if (ps->p >= ps->end || (*ps->p != '\'' && *ps->p != '"'))
    return parse_error(ps, "expected a string");
  char quote = *ps->p++;
  size_t n = 0;
  for (; ps->p < ps->end && *ps->p != quote; ++ps->p) {
    if (*ps->p == '\\' || *ps->p == '\n' || n + 1 >= out_size)
      return parse_error(ps, "unsupported string");
    out[n++] = *ps->p;
  }
  if (ps->p >= ps->end)
    return parse_error(ps, "unterminated string");
  ++ps->p;
  out[n] = '\0';
  return true;
}

/* Whether the next characters are the word `word` (not a prefix of a
 * longer identifier); consumes it if so. */
static bool accept_word(header_parser *ps, const char *word) {
  skip_space(ps);
  size_t n = strlen(word);
  if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
    return false;
  if (ps->p + n < ps->end &&
      (ps->p[n] == '_' || (ps->p[n] >= 'A' && ps->p[n] <= 'Z') ||
       (ps->p[n] >= 'a' && ps->p[n] <= 'z') ||
       (ps->p[n] >= '0' && ps->p[n] <= '9')))
    return false;
  ps->p += n;
  return true;
}

/* A non-negative decimal integer, as Python's repr writes it (headers
 * written by Python 2 add an 'L'). */
static bool parse_dim(header_parser *ps, int64_t *out) {
  skip_space(ps);
  if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
    return parse_error(ps, "expected a non-negative integer in the shape");
  int64_t value = 0;
  for (; ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9'; ++ps->p) {
    if (!quarc_mul_nonneg(value, 10, &value) || value > INT64_MAX - 9)
      return parse_error(ps, "dimension too large");
    value += *ps->p - '0';
  }
  if (ps->p < ps->end && (*ps->p == 'L' || *ps->p == 'l'))
    ++ps->p;
  *out = value;
  return true;
}

/* A tuple of dims: (), (3,), (2, 3) or (2, 3,). Python needs the comma in
 * a one-element tuple; "(3)" is the integer 3, which NumPy rejects too. */
static bool parse_shape(header_parser *ps, quarc_tensor *tensor) {
  if (!expect(ps, '('))
    return false;
  int32_t rank = 0;
  bool trailing_comma = false;
  while (!accept(ps, ')')) {
    if (rank == QUARC_MAX_RANK)
      return parse_error(ps, "rank exceeds the runtime's limit of %d",
                         QUARC_MAX_RANK);
    if (!parse_dim(ps, &tensor->dims[rank++]))
      return false;
    trailing_comma = accept(ps, ',');
    if (!trailing_comma) {
      if (!expect(ps, ')'))
        return false;
      break;
    }
  }
  if (rank == 1 && !trailing_comma)
    return parse_error(ps, "shape is not a tuple (write '(N,)')");
  tensor->rank = rank;
  return true;
}

static bool parse_descr(header_parser *ps, quarc_tensor *tensor) {
  char descr[32];
  skip_space(ps);
  if (ps->p < ps->end && (*ps->p == '[' || *ps->p == '{'))
    return parse_error(ps, "structured dtypes are not supported");
  if (!parse_string(ps, descr, sizeof descr))
    return false;
  tensor->dtype = dtype_from_descr(descr);
  if (!tensor->dtype)
    return parse_error(ps,
                       "unsupported dtype '%s' (supported: <f4 <f8 <f2 |i1 "
                       "<i2 <i4 <i8 |u1 |b1)",
                       descr);
  return true;
}

static bool parse_fortran_order(header_parser *ps) {
  if (accept_word(ps, "False"))
    return true;
  if (accept_word(ps, "True"))
    return parse_error(ps, "fortran_order True is not supported; save a "
                           "C-order array (numpy.ascontiguousarray)");
  return parse_error(ps, "fortran_order must be True or False");
}

/* Parses one "key: value" entry; `seen` tracks which keys were present
 * (bit 0 descr, 1 fortran_order, 2 shape). */
static bool parse_entry(header_parser *ps, quarc_tensor *tensor,
                        unsigned *seen) {
  static const char *const kKeys[] = {"descr", "fortran_order", "shape"};
  char key[32];
  if (!parse_string(ps, key, sizeof key) || !expect(ps, ':'))
    return false;
  unsigned k = 0;
  while (k < 3 && strcmp(key, kKeys[k]) != 0)
    ++k;
  if (k == 3)
    return parse_error(ps, "unexpected key '%s'", key);
  if (*seen & (1u << k))
    return parse_error(ps, "duplicate key '%s'", key);
  *seen |= 1u << k;
  switch (k) {
  case 0:
    return parse_descr(ps, tensor);
  case 1:
    return parse_fortran_order(ps);
  default:
    return parse_shape(ps, tensor);
  }
}

static bool parse_header(header_parser *ps, quarc_tensor *tensor) {
  unsigned seen = 0;
  if (!expect(ps, '{'))
    return false;
  while (!accept(ps, '}')) {
    if (!parse_entry(ps, tensor, &seen))
      return false;
    if (!accept(ps, ',')) {
      if (!expect(ps, '}'))
        return false;
      break;
    }
  }
  skip_space(ps);
  if (ps->p != ps->end)
    return parse_error(ps, "unexpected text after the dictionary");
  if (seen != 7)
    return parse_error(ps, "missing key '%s'",
                       !(seen & 1)   ? "descr"
                       : !(seen & 2) ? "fortran_order"
                                     : "shape");
  return true;
}

/*===----------------------------------------------------------------------===*
 * Reading
 *===----------------------------------------------------------------------===*/

/* Reads exactly n bytes; false on a short read. */
static bool read_exact(FILE *f, void *buf, size_t n) {
  return fread(buf, 1, n, f) == n;
}

/* Reads the magic string, version and header length, leaving `f` at the
 * start of the header. */
static quarc_status read_preamble(FILE *f, const char *path,
                                  uint32_t *header_len, char *err,
                                  size_t err_size) {
  unsigned char pre[8];
  if (!read_exact(f, pre, sizeof pre))
    return io_error(err, err_size, "%s: not a .npy file (too short)", path);
  if (memcmp(pre, kMagic, sizeof kMagic) != 0)
    return io_error(err, err_size, "%s: not a .npy file (bad magic string)",
                    path);
  unsigned major = pre[6], minor = pre[7];
  if (minor != 0 || major < 1 || major > 3)
    return io_error(err, err_size, "%s: unsupported .npy version %u.%u", path,
                    major, minor);
  /* Version 1.0 stores the length in 2 bytes, 2.0 and 3.0 in 4, all
   * little-endian. */
  unsigned char len[4] = {0, 0, 0, 0};
  size_t len_size = major == 1 ? 2 : 4;
  if (!read_exact(f, len, len_size))
    return io_error(err, err_size, "%s: truncated .npy header", path);
  *header_len = (uint32_t)len[0] | (uint32_t)len[1] << 8 |
                (uint32_t)len[2] << 16 | (uint32_t)len[3] << 24;
  if (*header_len > kMaxHeaderLen)
    return io_error(err, err_size,
                    "%s: .npy header too long (%lu bytes, limit %d)", path,
                    (unsigned long)*header_len, (int)kMaxHeaderLen);
  return QUARC_OK;
}

static quarc_status read_header(FILE *f, const char *path, quarc_tensor *tensor,
                                char *err, size_t err_size) {
  uint32_t header_len;
  quarc_status status = read_preamble(f, path, &header_len, err, err_size);
  if (status != QUARC_OK)
    return status;
  char *header = malloc(header_len ? header_len : 1);
  if (!header)
    return QUARC_ERROR_OUT_OF_MEMORY;
  if (!read_exact(f, header, header_len)) {
    free(header);
    return io_error(err, err_size, "%s: truncated .npy header", path);
  }
  header_parser ps = {header, header + header_len, path, err, err_size};
  bool ok = parse_header(&ps, tensor);
  free(header);
  return ok ? QUARC_OK : QUARC_ERROR_IO;
}

/* The bytes left after the current position of a regular file; false for
 * a pipe or anything else whose size is unknown. */
static bool remaining_bytes(FILE *f, size_t *out) {
  struct stat st;
  long pos = ftell(f);
  if (pos < 0 || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
      st.st_size < pos)
    return false;
  *out = (size_t)(st.st_size - pos);
  return true;
}

static quarc_status truncated_data(char *err, size_t err_size, const char *path,
                                   const char *shape,
                                   const quarc_tensor *tensor, size_t got,
                                   size_t bytes) {
  return io_error(err, err_size,
                  "%s: truncated data: %zu bytes, but shape %s of %s needs %zu",
                  path, got, shape, quarc_dtype_name(tensor->dtype), bytes);
}

/* Reads the array data that follows the header; the file must hold
 * exactly as many bytes as the shape says. The size is checked before
 * allocating, so a forged shape cannot make us allocate gigabytes. */
static quarc_status read_data(FILE *f, const char *path, quarc_tensor *tensor,
                              char *err, size_t err_size) {
  size_t bytes, left;
  char shape[128];
  quarc_format_shape(shape, sizeof shape, tensor->rank, tensor->dims);
  if (!quarc_tensor_bytes(tensor->dtype, tensor->rank, tensor->dims, &bytes))
    return io_error(err, err_size, "%s: shape %s is too large", path, shape);
  if (remaining_bytes(f, &left) && left < bytes)
    return truncated_data(err, err_size, path, shape, tensor, left, bytes);
  void *data = malloc(bytes ? bytes : 1);
  if (!data)
    return QUARC_ERROR_OUT_OF_MEMORY;
  size_t got = fread(data, 1, bytes, f);
  if (got != bytes) {
    free(data);
    return truncated_data(err, err_size, path, shape, tensor, got, bytes);
  }
  if (fgetc(f) != EOF) {
    free(data);
    return io_error(err, err_size,
                    "%s: more data than shape %s of %s needs (%zu bytes)", path,
                    shape, quarc_dtype_name(tensor->dtype), bytes);
  }
  tensor->data = data;
  return QUARC_OK;
}

quarc_status quarc_npy_read(const char *path, quarc_tensor *tensor, char *err,
                            size_t err_size) {
  memset(tensor, 0, sizeof *tensor);
  FILE *f = fopen(path, "rb");
  if (!f)
    return io_error(err, err_size, "cannot open %s: %s", path, strerror(errno));
  quarc_status status = read_header(f, path, tensor, err, err_size);
  if (status == QUARC_OK)
    status = read_data(f, path, tensor, err, err_size);
  if (status == QUARC_OK && ferror(f))
    status = io_error(err, err_size, "cannot read %s", path);
  fclose(f);
  if (status != QUARC_OK) {
    free(tensor->data);
    tensor->data = NULL;
    if (status == QUARC_ERROR_OUT_OF_MEMORY)
      snprintf(err, err_size, "%s: out of memory", path);
  }
  return status;
}

/*===----------------------------------------------------------------------===*
 * Writing
 *===----------------------------------------------------------------------===*/

/* Builds the version 1.0 header: the dict, padded with spaces and ended
 * by '\n' so that the data starts at a multiple of 64 bytes, as the format
 * specifies. Returns its length. */
static size_t build_header(char *buf, size_t size, const quarc_tensor *t) {
  char shape[8 * 24 + 8] = "(";
  size_t used = 1;
  for (int32_t d = 0; d < t->rank; ++d)
    used += (size_t)snprintf(shape + used, sizeof shape - used, "%s%lld",
                             d ? ", " : "", (long long)t->dims[d]);
  snprintf(shape + used, sizeof shape - used, "%s)", t->rank == 1 ? "," : "");

  int n = snprintf(buf, size,
                   "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                   descr_from_dtype(t->dtype), shape);
  size_t len = (size_t)n;
  /* 10 = magic (6) + version (2) + header length (2). */
  while ((10 + len + 1) % 64 != 0)
    buf[len++] = ' ';
  buf[len++] = '\n';
  return len;
}

/* Writes the whole file to an open stream; false on any write error. */
static bool write_npy(FILE *f, const char *header, size_t header_len,
                      const void *data, size_t bytes) {
  unsigned char pre[10];
  memcpy(pre, kMagic, sizeof kMagic);
  pre[6] = 1;
  pre[7] = 0;
  pre[8] = (unsigned char)(header_len & 0xff);
  pre[9] = (unsigned char)(header_len >> 8);
  return fwrite(pre, 1, sizeof pre, f) == sizeof pre &&
         fwrite(header, 1, header_len, f) == header_len &&
         (bytes == 0 || fwrite(data, 1, bytes, f) == bytes);
}

/* mkstemp creates files readable only by their owner; give the result the
 * permissions fopen would have (0666 minus the umask). Reading the umask
 * means setting it; the CLI that writes .npy files is single-threaded. */
static void set_default_permissions(int fd) {
  mode_t mask = umask(0);
  umask(mask);
  (void)fchmod(fd, 0666 & ~mask);
}

quarc_status quarc_npy_write(const char *path, const quarc_tensor *tensor,
                             char *err, size_t err_size) {
  size_t bytes;
  if (!descr_from_dtype(tensor->dtype) || tensor->rank < 0 ||
      tensor->rank > QUARC_MAX_RANK ||
      !quarc_tensor_bytes(tensor->dtype, tensor->rank, tensor->dims, &bytes))
    return io_error(err, err_size, "%s: cannot write a %s tensor of rank %d",
                    path, quarc_dtype_name(tensor->dtype), (int)tensor->rank);
  char header[512]; /* the dict of a rank-8 shape is under 300 bytes */
  size_t header_len = build_header(header, sizeof header, tensor);

  size_t path_len = strlen(path);
  char *tmp = malloc(path_len + sizeof ".tmp-XXXXXX");
  if (!tmp)
    return io_error(err, err_size, "%s: out of memory", path);
  memcpy(tmp, path, path_len);
  memcpy(tmp + path_len, ".tmp-XXXXXX", sizeof ".tmp-XXXXXX");

  quarc_status status = QUARC_OK;
  int fd = mkstemp(tmp);
  if (fd < 0) {
    status =
        io_error(err, err_size, "cannot create %s: %s", tmp, strerror(errno));
    free(tmp);
    return status;
  }
  set_default_permissions(fd);
  FILE *f = fdopen(fd, "wb");
  if (!f) {
    status =
        io_error(err, err_size, "cannot write %s: %s", tmp, strerror(errno));
    close(fd);
  } else {
    bool written = write_npy(f, header, header_len, tensor->data, bytes);
    /* fclose flushes: its failure is a write failure too. */
    if (fclose(f) != 0 || !written)
      status =
          io_error(err, err_size, "cannot write %s: %s", tmp, strerror(errno));
  }
  if (status == QUARC_OK && rename(tmp, path) != 0)
    status = io_error(err, err_size, "cannot rename %s to %s: %s", tmp, path,
                      strerror(errno));
  if (status != QUARC_OK)
    unlink(tmp);
  free(tmp);
  return status;
}
