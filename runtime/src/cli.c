/*===- cli.c - the command line of compiled executables and `quarc run` ----===*
 *
 * Reads inputs from .npy files, runs the model once (or benchmarks it) and
 * writes or prints the outputs. Exit status: 0 success, 1 runtime or model
 * error, 2 usage error; every error is one "error: ..." line on stderr.
 *===----------------------------------------------------------------------===*/

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime, mkdir, readlink */
#endif

#include "npy.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2, CLI_CONTINUE = -1 };

/* How many values of each output are printed without --output-dir. */
enum { kPrintedValues = 8 };
/* Bounds --benchmark so that the timing array stays small. */
enum { kMaxBenchmarkRuns = 1000000 };

typedef struct cli_options {
  const char **input_files; /* one per model input; NULL = not given */
  const char *output_dir;
  const char *weights; /* --weights; NULL = the default file */
  long threads;   /* threads of the session (1 = the caller alone) */
  long benchmark; /* number of timed runs; 0 = run once */
  bool print_signature;
  bool help;
} cli_options;

QUARC_PRINTF(1, 2)
static void cli_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("error: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/*===----------------------------------------------------------------------===*
 * Describing the model
 *===----------------------------------------------------------------------===*/

static void print_tensor_desc(FILE *out, const quarc_tensor_desc *desc) {
  char shape[128];
  quarc_format_shape(shape, sizeof shape, desc->rank, desc->dims);
  fprintf(out, "  %s: %s %s\n", desc->name, quarc_dtype_name(desc->dtype),
          shape);
}

static void print_signature(FILE *out, const quarc_model_desc *model) {
  fputs("inputs:\n", out);
  for (uint32_t i = 0; i < model->num_inputs; ++i)
    print_tensor_desc(out, &model->inputs[i]);
  fputs("outputs:\n", out);
  for (uint32_t i = 0; i < model->num_outputs; ++i)
    print_tensor_desc(out, &model->outputs[i]);
  fprintf(out, "workspace: %llu bytes\n",
          (unsigned long long)model->workspace_bytes);
  if (model->weights_file)
    fprintf(out, "weights: %llu bytes in a separate file (%s)\n",
            (unsigned long long)model->weights_bytes, model->weights_file);
}

/* Writes "a, b, c" (the model's input names) for error messages. */
static void print_input_names(FILE *out, const quarc_model_desc *model) {
  for (uint32_t i = 0; i < model->num_inputs; ++i)
    fprintf(out, "%s'%s'", i ? ", " : "", model->inputs[i].name);
}

static void print_help(const quarc_model_desc *model, const char *program) {
  printf("usage: %s [--input NAME=FILE.npy ...] [--output-dir DIR]\n"
         "       [--benchmark N] [--threads N]%s [--print-signature] [--help]\n"
         "\n"
         "Runs the model '%s', compiled by quarc for %s.\n\n",
         program, model->weights_file ? " [--weights FILE]" : "",
         model->name ? model->name : "",
         model->target ? model->target : "an unknown target");
  print_signature(stdout, model);
  fputs(
      "\noptions:\n"
      "  --input NAME=FILE.npy  the input NAME, as a NumPy .npy file; every\n"
      "                         input must be given (a model with one input\n"
      "                         also takes a bare FILE.npy)\n"
      "  --output-dir DIR       write each output to DIR/NAME.npy (characters\n"
      "                         other than A-Z a-z 0-9 . _ - become '_');\n"
      "                         without it, print each output's shape and\n"
      "                         first values\n"
      "  --benchmark N          after warm-up runs (0.1 s, at least one), time\n"
      "                         N runs and print the median and 90th\n"
      "                         percentile\n"
      "  --threads N            run parallel loops on N threads (default 1)\n",
      stdout);
  if (model->weights_file)
    printf("  --weights FILE         the model's weights file (default: %s\n"
           "                         next to this executable)\n",
           model->weights_file);
  fputs(
      "  --print-signature      print the inputs and outputs ('?' = any size)\n"
      "  --help                 print this help\n"
      "\n"
      "exit status: 0 success, 1 runtime or model error, 2 usage error\n",
      stdout);
}

/*===----------------------------------------------------------------------===*
 * Parsing the command line
 *===----------------------------------------------------------------------===*/

/* Matches `argv[*i]` against option `name`, in the forms "--name value"
 * and "--name=value". Returns 1 with *value set on a match (advancing *i
 * past a separate value), 0 if it is another option, -1 if the value is
 * missing (after printing the error). */
static int match_option(const char *name, int argc, char **argv, int *i,
                        const char **value) {
  const char *arg = argv[*i];
  size_t n = strlen(name);
  if (strncmp(arg, name, n) != 0)
    return 0;
  if (arg[n] == '=') {
    *value = arg + n + 1;
    return 1;
  }
  if (arg[n] != '\0')
    return 0;
  if (*i + 1 >= argc) {
    cli_error("%s needs a value (see --help)", name);
    return -1;
  }
  *value = argv[++*i];
  return 1;
}

/* Parses a count in [1, max]; false after printing the error. */
static bool parse_count(const char *option, const char *text, long max,
                        long *out) {
  char *end;
  errno = 0;
  long value = strtol(text, &end, 10);
  if (errno || end == text || *end != '\0' || value < 1 || value > max) {
    cli_error("%s expects a whole number from 1 to %ld, not '%s'", option, max,
              text);
    return false;
  }
  *out = value;
  return true;
}

static int find_input(const quarc_model_desc *model, const char *name,
                      size_t name_len) {
  for (uint32_t i = 0; i < model->num_inputs; ++i)
    if (strlen(model->inputs[i].name) == name_len &&
        memcmp(model->inputs[i].name, name, name_len) == 0)
      return (int)i;
  return -1;
}

static bool assign_input(const quarc_model_desc *model, cli_options *opts,
                         int index, const char *file) {
  if (opts->input_files[index]) {
    cli_error("input '%s' is given twice", model->inputs[index].name);
    return false;
  }
  opts->input_files[index] = file;
  return true;
}

/* Handles the value of --input: NAME=FILE, or a bare FILE for a model with
 * one input. The name ends at the first '=' that makes it a known input,
 * so names and file names may both contain '='. */
static bool parse_input_option(const quarc_model_desc *model, cli_options *opts,
                               const char *value) {
  for (const char *eq = strchr(value, '='); eq; eq = strchr(eq + 1, '=')) {
    int index = find_input(model, value, (size_t)(eq - value));
    if (index >= 0)
      return assign_input(model, opts, index, eq + 1);
  }
  const char *eq = strchr(value, '=');
  if (!eq && model->num_inputs == 1)
    return assign_input(model, opts, 0, value);
  fprintf(stderr, "error: ");
  if (eq)
    fprintf(stderr,
            "unknown input '%.*s'; the model's inputs are: ", (int)(eq - value),
            value);
  else
    fprintf(stderr,
            "--input expects NAME=FILE.npy, not '%s'; the model's "
            "inputs are: ",
            value);
  print_input_names(stderr, model);
  fputc('\n', stderr);
  return false;
}

static bool parse_positional(const quarc_model_desc *model, cli_options *opts,
                             const char *arg) {
  if (model->num_inputs == 1)
    return assign_input(model, opts, 0, arg);
  fprintf(stderr,
          "error: unexpected argument '%s'; give the inputs as "
          "--input NAME=FILE.npy (the model's inputs are: ",
          arg);
  print_input_names(stderr, model);
  fputs(")\n", stderr);
  return false;
}

/* Parses one option at argv[*i]; returns false after printing an error. */
static bool parse_option(const quarc_model_desc *model, cli_options *opts,
                         int argc, char **argv, int *i) {
  const char *arg = argv[*i], *value;
  int m;
  if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
    opts->help = true;
    return true;
  }
  if (strcmp(arg, "--print-signature") == 0) {
    opts->print_signature = true;
    return true;
  }
  if ((m = match_option("--input", argc, argv, i, &value)) != 0)
    return m > 0 && parse_input_option(model, opts, value);
  if ((m = match_option("--output-dir", argc, argv, i, &value)) != 0) {
    opts->output_dir = value;
    return m > 0;
  }
  if ((m = match_option("--weights", argc, argv, i, &value)) != 0) {
    if (m > 0 && !model->weights_file) {
      cli_error("the model's weights are embedded; it takes no --weights");
      return false;
    }
    opts->weights = value;
    return m > 0;
  }
  if ((m = match_option("--threads", argc, argv, i, &value)) != 0)
    return m > 0 && parse_count("--threads", value, 4096, &opts->threads);
  if ((m = match_option("--benchmark", argc, argv, i, &value)) != 0)
    return m > 0 && parse_count("--benchmark", value, kMaxBenchmarkRuns,
                                &opts->benchmark);
  cli_error("unknown option '%s' (see --help)", arg);
  return false;
}

static bool check_all_inputs_given(const quarc_model_desc *model,
                                   const cli_options *opts) {
  for (uint32_t i = 0; i < model->num_inputs; ++i) {
    if (!opts->input_files[i]) {
      cli_error("missing input '%s' (give --input %s=FILE.npy)",
                model->inputs[i].name, model->inputs[i].name);
      return false;
    }
  }
  return true;
}

/* Fills *opts from argv; returns CLI_CONTINUE or an exit status. */
static int parse_command_line(const quarc_model_desc *model, int argc,
                              char **argv, cli_options *opts) {
  bool only_positional = false;
  for (int i = 1; i < argc; ++i) {
    const char *arg = argv[i];
    bool ok = true;
    if (only_positional || arg[0] != '-' || strcmp(arg, "-") == 0)
      ok = parse_positional(model, opts, arg);
    else if (strcmp(arg, "--") == 0)
      only_positional = true; /* everything after "--" is a file */
    else
      ok = parse_option(model, opts, argc, argv, &i);
    if (!ok)
      return EXIT_USAGE;
  }
  if (opts->help || opts->print_signature)
    return CLI_CONTINUE;
  return check_all_inputs_given(model, opts) ? CLI_CONTINUE : EXIT_USAGE;
}

/*===----------------------------------------------------------------------===*
 * Running
 *===----------------------------------------------------------------------===*/

static bool load_inputs(const quarc_model_desc *model, const cli_options *opts,
                        quarc_tensor *inputs) {
  char err[1024];
  for (uint32_t i = 0; i < model->num_inputs; ++i) {
    if (quarc_npy_read(opts->input_files[i], &inputs[i], err, sizeof err) !=
        QUARC_OK) {
      cli_error("input '%s': %s", model->inputs[i].name, err);
      return false;
    }
  }
  return true;
}

static bool run_once(quarc_session *session, const quarc_tensor *inputs,
                     quarc_tensor *outputs) {
  const quarc_model_desc *model = quarc_session_model(session);
  quarc_status status = quarc_session_run(session, inputs, model->num_inputs,
                                          outputs, model->num_outputs);
  if (status != QUARC_OK)
    cli_error("%s", quarc_session_error(session));
  return status == QUARC_OK;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Runs the model for at least kWarmUpMs, at least once, before a
 * benchmark is timed: page faults, caches, and the process's first
 * milliseconds on several threads (on a two-core machine, 20 timed runs of
 * 0.3 ms on two threads after a single warm-up run read 2.5 times their
 * usual median in one process of 30; none did after 0.1 s). */
enum { kWarmUpMs = 100 };

static bool warm_up(quarc_session *session, const quarc_tensor *inputs,
                    quarc_tensor *outputs) {
  double start = now_ms();
  do {
    if (!run_once(session, inputs, outputs))
      return false;
  } while (now_ms() - start < kWarmUpMs);
  return true;
}

/* Warm-up, then `runs` timed runs; prints the median and the 90th
 * percentile (nearest rank), which unlike the mean are not skewed by the
 * odd preempted run. */
static bool benchmark(quarc_session *session, const quarc_tensor *inputs,
                      quarc_tensor *outputs, long runs) {
  double *times = malloc((size_t)runs * sizeof *times);
  if (!times) {
    cli_error("out of memory");
    return false;
  }
  bool ok = warm_up(session, inputs, outputs);
  for (long r = 0; ok && r < runs; ++r) {
    double start = now_ms();
    ok = run_once(session, inputs, outputs);
    times[r] = now_ms() - start;
  }
  if (ok) {
    qsort(times, (size_t)runs, sizeof *times, compare_doubles);
    double median = runs % 2 ? times[runs / 2]
                             : (times[runs / 2 - 1] + times[runs / 2]) / 2;
    double p90 = times[(9 * runs + 9) / 10 - 1];
    printf("median %.3f ms, p90 %.3f ms over %ld runs\n", median, p90, runs);
  }
  free(times);
  return ok;
}

/*===----------------------------------------------------------------------===*
 * Outputs
 *===----------------------------------------------------------------------===*/

/* IEEE binary16 to float, for printing f16 outputs. */
static float half_to_float(uint16_t h) {
  int exponent = (h >> 10) & 0x1f;
  int mantissa = h & 0x3ff;
  float sign = (h & 0x8000) ? -1.0f : 1.0f;
  if (exponent == 0) /* zero or subnormal */
    return sign * ldexpf((float)mantissa, -24);
  if (exponent == 31)
    return mantissa ? NAN : sign * INFINITY;
  return sign * ldexpf(1.0f + (float)mantissa / 1024.0f, exponent - 15);
}

static void print_value(const quarc_tensor *t, int64_t i) {
  size_t elem = quarc_dtype_size(t->dtype);
  union {
    float f32;
    double f64;
    uint16_t f16;
    uint8_t u8;
    int8_t i8;
    int16_t i16;
    int32_t i32;
    int64_t i64;
  } v;
  memcpy(&v, (const char *)t->data + (size_t)i * elem, elem);
  switch (t->dtype) {
  case QUARC_DTYPE_F32:
    printf("%g", v.f32);
    break;
  case QUARC_DTYPE_F64:
    printf("%g", v.f64);
    break;
  case QUARC_DTYPE_F16:
    printf("%g", half_to_float(v.f16));
    break;
  case QUARC_DTYPE_U8:
    printf("%u", (unsigned)v.u8);
    break;
  case QUARC_DTYPE_I8:
    printf("%d", (int)v.i8);
    break;
  case QUARC_DTYPE_BOOL:
    printf("%s", v.u8 ? "true" : "false");
    break;
  case QUARC_DTYPE_I16:
    printf("%d", (int)v.i16);
    break;
  case QUARC_DTYPE_I32:
    printf("%d", (int)v.i32);
    break;
  case QUARC_DTYPE_I64:
    printf("%lld", (long long)v.i64);
    break;
  default:
    printf("?");
    break;
  }
}

/* Prints "name: f32 [2, 3] = [1, 2, 3, ...]". */
static void print_output(const quarc_tensor_desc *decl, const quarc_tensor *t) {
  char shape[128];
  int64_t count = 1;
  quarc_format_shape(shape, sizeof shape, t->rank, t->dims);
  quarc_num_elements(t->rank, t->dims, &count);
  printf("%s: %s %s = [", decl->name, quarc_dtype_name(t->dtype), shape);
  for (int64_t i = 0; i < count && i < kPrintedValues; ++i) {
    if (i)
      fputs(", ", stdout);
    print_value(t, i);
  }
  printf("%s]\n", count > kPrintedValues ? ", ..." : "");
}

static bool is_file_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

static bool name_taken(const char *file, char **earlier, uint32_t count) {
  for (uint32_t j = 0; j < count; ++j)
    if (strcmp(file, earlier[j]) == 0)
      return true;
  return false;
}

/* The file name (without .npy) of output `index`: its name with every
 * character outside [A-Za-z0-9._-] replaced by '_' (ONNX names often hold
 * '/' or ':'), plus "_<k>" if an earlier output already took that name. */
static char *output_file_name(const quarc_model_desc *model, uint32_t index,
                              char **earlier) {
  const char *name = model->outputs[index].name;
  size_t len = strlen(name), size = len + 32;
  char *file = malloc(size);
  if (!file)
    return NULL;
  for (size_t i = 0; i < len; ++i)
    file[i] = is_file_name_char(name[i]) ? name[i] : '_';
  file[len] = '\0';
  if (len == 0)
    len = (size_t)snprintf(file, size, "output");
  for (uint32_t k = 1; name_taken(file, earlier, index); ++k)
    snprintf(file + len, size - len, "_%u", k);
  return file;
}

static bool make_directory(const char *dir) {
  struct stat st;
  if (mkdir(dir, 0777) == 0 ||
      (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode)))
    return true;
  cli_error("cannot create the output directory %s: %s", dir,
            errno == EEXIST ? "not a directory" : strerror(errno));
  return false;
}

static bool write_output(const char *dir, const char *file,
                         const quarc_tensor *t) {
  size_t len = strlen(dir) + strlen(file) + sizeof "/.npy";
  char *path = malloc(len);
  char err[1024];
  if (!path) {
    cli_error("out of memory");
    return false;
  }
  snprintf(path, len, "%s/%s.npy", dir, file);
  bool ok = quarc_npy_write(path, t, err, sizeof err) == QUARC_OK;
  if (!ok)
    cli_error("%s", err);
  free(path);
  return ok;
}

static bool write_outputs(const quarc_model_desc *model, const char *dir,
                          const quarc_tensor *outputs) {
  if (!make_directory(dir))
    return false;
  /* Names chosen so far, to keep two outputs from sharing a file. */
  char **files = calloc(model->num_outputs + 1, sizeof *files);
  if (!files) {
    cli_error("out of memory");
    return false;
  }
  bool ok = true;
  for (uint32_t i = 0; ok && i < model->num_outputs; ++i) {
    files[i] = output_file_name(model, i, files);
    if (!files[i])
      cli_error("out of memory");
    ok = files[i] && write_output(dir, files[i], &outputs[i]);
  }
  for (uint32_t i = 0; i < model->num_outputs; ++i)
    free(files[i]);
  free(files);
  return ok;
}

static bool emit_outputs(const quarc_model_desc *model, const cli_options *opts,
                         const quarc_tensor *outputs) {
  if (opts->output_dir)
    return write_outputs(model, opts->output_dir, outputs);
  /* A benchmark prints its timing only, so that it can be parsed. */
  if (!opts->benchmark)
    for (uint32_t i = 0; i < model->num_outputs; ++i)
      print_output(&model->outputs[i], &outputs[i]);
  return true;
}

/* Loads the inputs, runs (or benchmarks) and emits the outputs. */
static int run_model(quarc_session *session, const cli_options *opts) {
  const quarc_model_desc *model = quarc_session_model(session);
  quarc_tensor *inputs = calloc(model->num_inputs + 1, sizeof *inputs);
  quarc_tensor *outputs = calloc(model->num_outputs + 1, sizeof *outputs);
  bool ok = inputs && outputs;
  if (!ok)
    cli_error("out of memory");
  ok = ok && load_inputs(model, opts, inputs);
  if (ok)
    ok = opts->benchmark ? benchmark(session, inputs, outputs, opts->benchmark)
                         : run_once(session, inputs, outputs);
  ok = ok && emit_outputs(model, opts, outputs);
  for (uint32_t i = 0; inputs && i < model->num_inputs; ++i)
    free(inputs[i].data);
  free(inputs);
  free(outputs);
  return ok ? EXIT_OK : EXIT_RUNTIME;
}

static const char *program_name(const quarc_model_desc *model, int argc,
                                char **argv) {
  if (argc > 0 && argv[0] && argv[0][0]) {
    const char *slash = strrchr(argv[0], '/');
    return slash ? slash + 1 : argv[0];
  }
  return model->name && model->name[0] ? model->name : "model";
}

/* Validates the descriptor (ABI version, null pointers), which everything
 * after reads. */
static bool check_model(const quarc_model_desc *model) {
  quarc_status status = quarc_check_model(model);
  if (status == QUARC_ERROR_ABI_MISMATCH)
    cli_error("the model was compiled for runtime ABI version %u, but this "
              "runtime is version %d",
              (unsigned)model->abi_version, QUARC_ABI_VERSION);
  else if (status != QUARC_OK)
    cli_error("cannot load the model: %s", quarc_status_string(status));
  return status == QUARC_OK;
}

/* The weights file by default: the name the compiler wrote, in the folder
 * of the running executable (/proc/self/exe, else argv[0]'s folder, else
 * the current one). malloc'ed; NULL when out of memory. */
static char *default_weights_path(const quarc_model_desc *model,
                                  const char *argv0) {
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    self[n] = '\0';
  } else if (argv0 && strchr(argv0, '/') &&
             strlen(argv0) < sizeof self) {
    strcpy(self, argv0);
  } else {
    self[0] = '\0';
  }
  char *slash = strrchr(self, '/');
  size_t folder = slash ? (size_t)(slash - self) + 1 : 0;
  size_t size = folder + strlen(model->weights_file) + 1;
  char *path = malloc(size);
  if (path)
    snprintf(path, size, "%.*s%s", (int)folder, self, model->weights_file);
  return path;
}

/* A session for the model, with its weights file if it has one; NULL after
 * printing the error. */
static quarc_session *create_session(const quarc_model_desc *model,
                                     const cli_options *opts,
                                     const char *argv0) {
  char *path = NULL;
  if (model->weights_file && !opts->weights &&
      !(path = default_weights_path(model, argv0))) {
    cli_error("out of memory");
    return NULL;
  }
  const char *weights = opts->weights ? opts->weights : path;
  char error[1024];
  quarc_session *session = NULL;
  quarc_status status = quarc_session_create_with_weights(
      model, weights, &session, error, sizeof error);
  if (status != QUARC_OK)
    cli_error("%s%s", error,
              path && status == QUARC_ERROR_IO
                  ? " (the default, next to the executable; give --weights "
                    "FILE)"
                  : "");
  free(path);
  return session;
}

static int cli_main(const quarc_model_desc *model, int argc, char **argv) {
  cli_options opts = {0};
  opts.threads = 1;
  opts.input_files = calloc(model->num_inputs + 1, sizeof *opts.input_files);
  if (!opts.input_files) {
    cli_error("out of memory");
    return EXIT_RUNTIME;
  }
  int rc = parse_command_line(model, argc, argv, &opts);
  if (rc == CLI_CONTINUE && opts.help) {
    print_help(model, program_name(model, argc, argv));
    rc = EXIT_OK;
  } else if (rc == CLI_CONTINUE && opts.print_signature) {
    print_signature(stdout, model);
    rc = EXIT_OK;
  } else if (rc == CLI_CONTINUE) {
    quarc_session *session =
        create_session(model, &opts, argc > 0 ? argv[0] : NULL);
    if (!session) {
      rc = EXIT_RUNTIME;
    } else if (quarc_session_set_threads(session, (int32_t)opts.threads) !=
               QUARC_OK) {
      cli_error("%s", quarc_session_error(session));
      rc = EXIT_RUNTIME;
    } else {
      rc = run_model(session, &opts);
    }
    quarc_session_destroy(session);
  }
  free(opts.input_files);
  return rc;
}

int quarc_cli_main(const quarc_model_desc *model, int argc, char **argv) {
  if (!model) {
    cli_error("no model");
    return EXIT_RUNTIME;
  }
  int rc = check_model(model) ? cli_main(model, argc, argv) : EXIT_RUNTIME;
  /* The caller may leave with _exit, or a test may read the streams. */
  fflush(stdout);
  fflush(stderr);
  return rc;
}
