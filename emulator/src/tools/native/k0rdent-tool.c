/*
 * The emulated tools' process: `wg`, `wg-quick`, `k0sctl`, `helm`, `kubectl` and `az` are links to this
 * program, which hands its name, arguments, working folder, environment and (when asked) its standard
 * input to the local emulator over the Unix socket named by K0RDENT_EMULATOR_TOOLS, prints what the
 * emulator's run of that tool writes, and exits with its exit code. The tool's logic runs in the
 * emulator (the modules in emulator/src/tools); this process costs a few hundred microseconds, so a deployment's
 * many tool calls stay cheap. Killing it ends the run: the emulator stops the tool where it was.
 *
 * Frames, both ways: one type byte, a 4-byte big-endian length, then the payload.
 *   to the emulator:   'R' request: tool NUL cwd NUL pid NUL argc NUL args... NUL envc NUL env...
 *                      'I' a chunk of standard input, 'i' its end (empty)
 *   from the emulator: 'O' stdout bytes, 'E' stderr bytes, 'S' send standard input now (empty),
 *                      'X' exit code (4 bytes, big-endian)
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

extern char **environ;

static int fail(const char *tool, const char *what) {
  fprintf(stderr, "%s (emulated): %s: %s\n", tool, what, strerror(errno));
  return 1;
}

/* Writes all of `len` bytes, across partial writes and interruptions. */
static int write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Reads exactly `len` bytes; 0 on success, 1 at a clean end of stream before any byte, -1 on error. */
static int read_all(int fd, void *buf, size_t len) {
  char *p = buf;
  size_t got = 0;
  while (got < len) {
    ssize_t n = read(fd, p + got, len - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) return got == 0 ? 1 : -1;
    got += (size_t)n;
  }
  return 0;
}

static int send_frame(int fd, char type, const void *data, uint32_t len) {
  unsigned char head[5] = {(unsigned char)type, (unsigned char)(len >> 24), (unsigned char)(len >> 16),
                           (unsigned char)(len >> 8), (unsigned char)len};
  if (write_all(fd, head, sizeof head) < 0) return -1;
  return len == 0 ? 0 : write_all(fd, data, len);
}

/* A growable byte buffer for the request. */
struct buffer {
  char *data;
  size_t len, cap;
};

static int append(struct buffer *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (b->len + n + 1 > cap) cap *= 2;
    char *grown = realloc(b->data, cap);
    if (!grown) return -1;
    b->data = grown;
    b->cap = cap;
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len++] = '\0';
  return 0;
}

static int append_number(struct buffer *b, long value) {
  char text[32];
  int n = snprintf(text, sizeof text, "%ld", value);
  return append(b, text, (size_t)n);
}

static int send_stdin(int fd) {
  char chunk[65536];
  for (;;) {
    ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) return send_frame(fd, 'i', NULL, 0);
    if (send_frame(fd, 'I', chunk, (uint32_t)n) < 0) return -1;
  }
}

int main(int argc, char **argv) {
  const char *slash = strrchr(argv[0], '/');
  const char *tool = slash ? slash + 1 : argv[0];
  const char *socket_path = getenv("K0RDENT_EMULATOR_TOOLS");
  if (!socket_path || !*socket_path) {
    fprintf(stderr, "%s (emulated): K0RDENT_EMULATOR_TOOLS is not set: this tool has no emulator to act on\n",
            tool);
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);

  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(socket_path) >= sizeof addr.sun_path) {
    fprintf(stderr, "%s (emulated): socket path %s is too long\n", tool, socket_path);
    return 1;
  }
  strcpy(addr.sun_path, socket_path);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return fail(tool, "socket");
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    fprintf(stderr, "%s (emulated): cannot reach the emulator at %s: %s\n", tool, socket_path, strerror(errno));
    return 1;
  }

  struct buffer req = {0};
  char cwd[4096];
  if (!getcwd(cwd, sizeof cwd)) return fail(tool, "getcwd");
  int envc = 0;
  while (environ[envc]) envc++;
  int bad = append(&req, tool, strlen(tool)) || append(&req, cwd, strlen(cwd)) ||
            append_number(&req, (long)getpid()) || append_number(&req, argc - 1);
  for (int i = 1; i < argc && !bad; i++) bad = append(&req, argv[i], strlen(argv[i]));
  bad = bad || append_number(&req, envc);
  for (int i = 0; i < envc && !bad; i++) bad = append(&req, environ[i], strlen(environ[i]));
  if (bad) return fail(tool, "building the request");
  if (send_frame(fd, 'R', req.data, (uint32_t)req.len) < 0) return fail(tool, "sending the request");
  free(req.data);

  char *payload = NULL;
  size_t payload_cap = 0;
  for (;;) {
    unsigned char head[5];
    int r = read_all(fd, head, sizeof head);
    if (r != 0) {
      fprintf(stderr, "%s (emulated): the emulator closed the connection before the tool ended\n", tool);
      return 1;
    }
    uint32_t len = ((uint32_t)head[1] << 24) | ((uint32_t)head[2] << 16) | ((uint32_t)head[3] << 8) | head[4];
    if (len > payload_cap) {
      char *grown = realloc(payload, len);
      if (!grown) return fail(tool, "reading the answer");
      payload = grown;
      payload_cap = len;
    }
    if (len > 0 && read_all(fd, payload, len) != 0) return fail(tool, "reading the answer");
    switch (head[0]) {
      case 'O':
        if (write_all(STDOUT_FILENO, payload, len) < 0 && errno != EPIPE) return fail(tool, "stdout");
        break;
      case 'E':
        if (write_all(STDERR_FILENO, payload, len) < 0 && errno != EPIPE) return 1;
        break;
      case 'S':
        if (send_stdin(fd) < 0) return fail(tool, "forwarding standard input");
        break;
      case 'X':
        if (len < 4) return 1;
        return (int)(((uint32_t)(unsigned char)payload[0] << 24) | ((uint32_t)(unsigned char)payload[1] << 16) |
                     ((uint32_t)(unsigned char)payload[2] << 8) | (uint32_t)(unsigned char)payload[3]);
      default:
        fprintf(stderr, "%s (emulated): unknown frame %d from the emulator\n", tool, head[0]);
        return 1;
    }
  }
}
