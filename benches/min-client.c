/* benches/min-client.c: the least an SMTP client can do for one message, as a floor for the
 * plain send in benches/bench.sh. One blocking TCP connection to 127.0.0.1:PORT, then the same
 * dialogue as ehlo's plain send (RFC 5321 §3.3: EHLO, MAIL, RCPT, DATA, the message, QUIT; one
 * round trip each), each reply read to its last line and its class checked. No option parsing,
 * no DNS, no TLS, no output; linked statically, so no dynamic loader either. Built and run by
 * bench.sh only.
 *
 *   min-client PORT FROM TO MESSAGE-FILE    (the file in CRLF lines, dot-stuffing not needed)
 *
 * Exit 0 when every reply is of the expected class, 1 otherwise (with a line on stderr). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int fd;
static char buf[8192];
static size_t have;

static void fail(const char *what) {
    fprintf(stderr, "min-client: %s\n", what);
    exit(1);
}

static void send_all(const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            fail("write failed");
        p += w;
        n -= (size_t)w;
    }
}

/* Read one reply (RFC 5321 §4.2.1: lines "ddd-text" then "ddd text"); return its code. */
static int reply(void) {
    for (;;) {
        char *line = buf, *end;
        while ((end = memmem(line, (size_t)(buf + have - line), "\r\n", 2)) != NULL) {
            if (end - line >= 3 && (end - line == 3 || line[3] == ' ')) {
                int code = atoi(line);
                size_t used = (size_t)(end + 2 - buf);
                memmove(buf, end + 2, have - used);
                have -= used;
                return code;
            }
            line = end + 2;
        }
        if (have == sizeof buf)
            fail("reply too long");
        ssize_t r = read(fd, buf + have, sizeof buf - have);
        if (r <= 0)
            fail("connection closed");
        have += (size_t)r;
    }
}

static void command(const char *line, int class) {
    send_all(line, strlen(line));
    if (reply() / 100 != class) {
        fprintf(stderr, "min-client: unexpected reply to %s", line);
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc != 5)
        fail("usage: min-client PORT FROM TO MESSAGE-FILE");
    char message[65536], line[1024];
    int m = open(argv[4], O_RDONLY);
    ssize_t len = m < 0 ? -1 : read(m, message, sizeof message);
    if (len < 0)
        fail("cannot read the message file");
    if ((size_t)len == sizeof message)
        fail("message file larger than 64 KiB");
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        fail("cannot create a socket");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0)
        fail("cannot connect");
    if (reply() / 100 != 2)
        fail("no 2xx greeting");
    command("EHLO min-client.test\r\n", 2);
    snprintf(line, sizeof line, "MAIL FROM:<%s>\r\n", argv[2]);
    command(line, 2);
    snprintf(line, sizeof line, "RCPT TO:<%s>\r\n", argv[3]);
    command(line, 2);
    command("DATA\r\n", 3);
    send_all(message, (size_t)len);
    command(".\r\n", 2);
    command("QUIT\r\n", 2);
    return 0;
}
