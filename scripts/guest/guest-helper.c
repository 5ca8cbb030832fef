/*
 * guest-helper.c - tiny static helper for the test guest's /init (busybox has
 * no evtest and no KDSETMODE applet).
 *
 *   guest-helper evecho [readyfile]  echo evdev events as "GUEST KEY|BTN|REL|ABS <code> <value>"
 *                                    lines on stdout (one write() per line, unbuffered);
 *                                    rescans /dev/input so hot-plugged devices (usb-tablet)
 *                                    are picked up; touches readyfile after the first scan.
 *   guest-helper kd text|graphics    KDSETMODE on /dev/tty0: in graphics mode fbcon stops
 *                                    drawing, so a pattern written to /dev/fb0 stays intact.
 *
 * Built on the host with `gcc -static -Os` by scripts/build-guest.sh.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <linux/kd.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DEV 32

struct dev { int fd; int num; };

static void out(const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(1, s, n);
        if (w < 0) { if (errno == EINTR) continue; return; }
        s += w; n -= (size_t)w;
    }
}

static int have(struct dev *d, int nd, int num)
{
    for (int i = 0; i < nd; i++) if (d[i].num == num) return 1;
    return 0;
}

/* open /dev/input/eventN nodes not opened yet */
static int scan(struct dev *d, int nd)
{
    DIR *dir = opendir("/dev/input");
    if (!dir) return nd;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL && nd < MAX_DEV) {
        if (strncmp(e->d_name, "event", 5) != 0) continue;
        int num = atoi(e->d_name + 5);
        if (have(d, nd, num)) continue;
        char path[300], name[128] = "?", line[256];
        snprintf(path, sizeof path, "/dev/input/%s", e->d_name);
        int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) continue;
        ioctl(fd, EVIOCGNAME(sizeof name - 1), name);
        d[nd].fd = fd; d[nd].num = num; nd++;
        int n = snprintf(line, sizeof line, "GUEST input %s: %s\n", e->d_name, name);
        out(line, (size_t)n);
    }
    closedir(dir);
    return nd;
}

static const char *kind(const struct input_event *ev)
{
    switch (ev->type) {
    case EV_KEY:
        /* BTN_MISC..KEY_OK-1 and the trigger-happy range are buttons */
        if ((ev->code >= BTN_MISC && ev->code < KEY_OK) || ev->code >= BTN_TRIGGER_HAPPY)
            return "BTN";
        return "KEY";
    case EV_REL: return "REL";
    case EV_ABS: return "ABS";
    default: return NULL;  /* EV_SYN, EV_MSC scancodes, LEDs: not echoed */
    }
}

static int evecho(const char *readyfile)
{
    struct dev d[MAX_DEV];
    struct pollfd p[MAX_DEV];
    int nd = scan(d, 0);
    if (readyfile) { int fd = open(readyfile, O_WRONLY | O_CREAT, 0644); if (fd >= 0) close(fd); }
    for (;;) {
        for (int i = 0; i < nd; i++) { p[i].fd = d[i].fd; p[i].events = POLLIN; p[i].revents = 0; }
        int r = poll(p, (nfds_t)nd, 500);
        if (r < 0 && errno != EINTR) return 1;
        for (int i = 0; i < nd; i++) {
            if (!(p[i].revents & (POLLIN | POLLERR | POLLHUP))) continue;
            struct input_event ev[64];
            ssize_t n = read(d[i].fd, ev, sizeof ev);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (n <= 0) { close(d[i].fd); d[i].fd = -1; continue; }  /* unplugged */
            for (size_t k = 0; k < (size_t)n / sizeof ev[0]; k++) {
                const char *kd = kind(&ev[k]);
                if (!kd) continue;
                char line[64];
                int m = snprintf(line, sizeof line, "GUEST %s %u %d\n", kd, ev[k].code, ev[k].value);
                out(line, (size_t)m);
            }
        }
        int j = 0;  /* drop closed devices so the node can be reopened */
        for (int i = 0; i < nd; i++) if (d[i].fd >= 0) d[j++] = d[i];
        nd = scan(d, j);
    }
}

static int kdmode(const char *mode)
{
    int fd = open("/dev/tty0", O_RDWR | O_NOCTTY);
    if (fd < 0) { perror("open /dev/tty0"); return 1; }
    int r = ioctl(fd, KDSETMODE, strcmp(mode, "graphics") == 0 ? KD_GRAPHICS : KD_TEXT);
    if (r < 0) perror("KDSETMODE");
    close(fd);
    return r < 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "evecho") == 0) return evecho(argc > 2 ? argv[2] : NULL);
    if (argc == 3 && strcmp(argv[1], "kd") == 0) return kdmode(argv[2]);
    fprintf(stderr, "usage: guest-helper evecho [readyfile] | kd text|graphics\n");
    return 2;
}
