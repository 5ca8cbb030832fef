/*
 * guest-helper.c - tiny static helper for the test guest's /init (busybox has
 * no evtest and no KDSETMODE applet).
 *
 *   guest-helper evecho [readyfile]  echo evdev events as "GUEST KEY|BTN|REL|ABS <code> <value>"
 *                                    ("GUEST SYNDROPPED 3 0" when the kernel's buffer overflowed)
 *                                    lines on stdout (one write() per line, unbuffered);
 *                                    rescans /dev/input so hot-plugged devices (usb-tablet)
 *                                    are picked up; touches readyfile after the first scan.
 *   guest-helper kd text|graphics    KDSETMODE on /dev/tty0: in graphics mode fbcon stops
 *                                    drawing, so a pattern written to /dev/fb0 stays intact.
 *   guest-helper port <name> <ctlfifo>  virtio-serial test port daemon (see port_daemon()).
 *   guest-helper eject <dev>         CDROMEJECT on a CD drive (busybox has no eject applet).
 *   guest-helper tone <hz> <ms>      writes a sine (S16 LE stereo, 48 kHz, amplitude 1/2) to stdout
 *                                    for aplay (sound flavour of the guest).
 *   guest-helper avsync <n> <period_ms> <beep_ms> <hz>   (sound flavour) A/V sync source: writes
 *                                    S16 LE stereo 48 kHz to stdout for aplay: AVSYNC_LEAD_MS of
 *                                    silence, then n beeps of <hz> (<beep_ms> long, every
 *                                    <period_ms>), then silence; a child animates a full-width band at
 *                                    the top of /dev/fb0 (dark greys, ~25 frames/s, so spice-server
 *                                    streams it) and turns it white while the card plays a beep: it
 *                                    polls the card's hw_ptr (/proc/asound/card0/pcm0p/sub0/status)
 *                                    and flashes when it passes a beep's first frame, printing
 *                                    "GUEST AVFLASH <k> <late_ms>" (how far hw_ptr had passed it).
 *   guest-helper freq                reads S16 LE stereo 48 kHz from stdin (arecord) and prints
 *                                    "<hz> <rms> <mean hz>" of the left channel after the first
 *                                    200 ms: hz from the median period between interpolated rising
 *                                    zero crossings, mean hz from their count over the whole span.
 *   guest-helper http <method> <path> <outfile> [infile]   one HTTP/1.1 request to spice-webdavd's
 *                                    port 127.0.0.1:9843 (webdav flavour): infile as the body,
 *                                    the response body to outfile (Content-Length or chunked: the
 *                                    connection is not closed by the far side); prints
 *                                    "<status> <body bytes>", exits 1 on a transport error.
 *   guest-helper gen <bytes> <seed> <outfile>   deterministic bytes (xorshift) for a PUT.
 *
 * Built on the host with `gcc -static -Os` by scripts/build-guest.sh.
 */
#define _GNU_SOURCE  /* F_SETPIPE_SZ */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/cdrom.h>
#include <linux/fb.h>
#include <linux/input.h>
#include <linux/kd.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_DEV 32

struct dev { int fd; int num; };

/* where out() writes: stdout, or evecho's relay pipe */
static int out_fd = 1;

static void out(const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(out_fd, s, n);
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
    /* the kernel's event buffer overflowed because we read too slowly: events were
     * discarded inside the guest, which tests must not blame on the host side */
    case EV_SYN: return ev->code == SYN_DROPPED ? "SYNDROPPED" : NULL;
    default: return NULL;  /* EV_MSC scancodes, LEDs: not echoed */
    }
}

/*
 * The serial console is slow (115200 baud, shared with the port daemon), and
 * the kernel keeps only a few dozen events per evdev reader: if this process
 * blocked writing lines, a burst of input would overflow that buffer and be
 * dropped inside the guest (SYN_DROPPED). So events are read at once and their
 * lines go through a 1 MiB pipe to a child that writes them to the console,
 * one write() per line.
 */
static void start_relay(void)
{
    int p[2];
    if (pipe(p) < 0) return;                 /* fall back to writing directly */
    fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
    pid_t pid = fork();
    if (pid < 0) { close(p[0]); close(p[1]); return; }
    if (pid == 0) {
        close(p[1]);
        char buf[8192];
        size_t have_n = 0;
        for (;;) {
            ssize_t r = read(p[0], buf + have_n, sizeof buf - have_n);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) _exit(0);
            have_n += (size_t)r;
            size_t start = 0;
            for (size_t i = 0; i < have_n; i++) {
                if (buf[i] != '\n') continue;
                out(buf + start, i + 1 - start);
                start = i + 1;
            }
            if (start == 0 && have_n == sizeof buf) { out(buf, have_n); start = have_n; }
            memmove(buf, buf + start, have_n - start);
            have_n -= start;
        }
    }
    close(p[0]);
    out_fd = p[1];
}

static int evecho(const char *readyfile)
{
    start_relay();
    /* read events the moment they arrive, even while the guest is busy (e.g. a
     * TCG guest right after a migration, retranslating all its code) */
    struct sched_param sp = { .sched_priority = 50 };
    sched_setscheduler(0, SCHED_FIFO, &sp);
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

/* ---- virtio-serial test port ------------------------------------------------
 *
 * guest-helper port <name> <ctlfifo>   (stdout = the serial console)
 *
 * Finds the virtio-serial port called <name> (/sys/class/virtio-ports/vportNpM/name
 * -> /dev/vportNpM; rescanned every 500 ms until it exists) and keeps it open:
 *   reader  counts every byte the host writes and keeps FNV-1a 32 over them
 *           (h = 0x811c9dc5; per byte: h ^= b; h *= 0x01000193, mod 2^32; printed
 *           as 8 lowercase hex digits, 811c9dc5 for no bytes). Prints
 *           "GUEST PORT RX <total> <fnv>" when >= 1000 bytes arrived since the last
 *           report, or 500 ms after the last report if anything arrived since
 *           (never two reports within 50 ms).
 *   writer  "portsend <n> <period_ms>" writes records "SEQ <k>\n", k = 0..n-1, one
 *           every period_ms; a record that cannot be written (host side closed:
 *           EAGAIN) is retried until it is, the schedule then continues from there
 *           without a burst; never dropped silently: a record lost to a hard error
 *           is reported as "GUEST PORT DROP <k>". "GUEST PORT TXDONE <n>" at the end.
 * Commands arrive as lines on <ctlfifo> (written by /init):
 *   portstat                -> "GUEST OK portstat <total> <fnv>"
 *   portsend <n> <period>   -> "GUEST OK portsend" once started | "GUEST ERR portsend <why>"
 * Also prints "GUEST PORT OPEN <dev>" when the port was opened.
 *
 * The virtio_console driver reports POLLHUP while no host side is connected and
 * read() then returns 0: the port is then polled every 50 ms instead of spinning.
 */

#define FNV_INIT 0x811c9dc5u
#define FNV_PRIME 0x01000193u

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n >= sizeof line) n = sizeof line - 1;
    out(line, (size_t)n);   /* one write() per line: lines from other writers never interleave */
}

/* /dev path of the virtio port named name, or 0 if there is none (yet) */
static int find_port(const char *name, char *dev, size_t devsz)
{
    DIR *dir = opendir("/sys/class/virtio-ports");
    if (!dir) return 0;
    struct dirent *e;
    int found = 0;
    while (!found && (e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[320], buf[128];
        snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0) continue;
        buf[n] = 0;
        buf[strcspn(buf, "\n")] = 0;
        if (strcmp(buf, name) == 0) {
            snprintf(dev, devsz, "/dev/%s", e->d_name);
            found = 1;
        }
    }
    closedir(dir);
    return found;
}

struct port_state {
    int fd;                 /* -1 while the port is missing */
    int host_closed;        /* last poll/read said no host side: recheck in 50 ms */
    uint64_t rx_total, rx_reported;
    uint32_t rx_fnv;
    int64_t rx_report_at;   /* time of the last RX report */
    /* writer */
    long tx_n, tx_next;     /* records wanted, next record number */
    int tx_period;
    int64_t tx_due;         /* when record tx_next may be written */
    char tx_buf[32];
    size_t tx_len, tx_off;  /* pending record bytes (tx_off already written) */
};

static void rx_report(struct port_state *s, int64_t t)
{
    say("GUEST PORT RX %llu %08x\n", (unsigned long long)s->rx_total, s->rx_fnv);
    s->rx_reported = s->rx_total;
    s->rx_report_at = t;
}

static void port_command(struct port_state *s, char *line)
{
    char *cmd = strtok(line, " \t");
    if (!cmd) return;
    if (strcmp(cmd, "portstat") == 0) {
        if (s->fd < 0) { say("GUEST ERR portstat no port\n"); return; }
        say("GUEST OK portstat %llu %08x\n", (unsigned long long)s->rx_total, s->rx_fnv);
    } else if (strcmp(cmd, "portsend") == 0) {
        char *a = strtok(NULL, " \t"), *b = strtok(NULL, " \t"), *end1 = NULL, *end2 = NULL;
        long n = a ? strtol(a, &end1, 10) : -1, period = b ? strtol(b, &end2, 10) : -1;
        if (!a || !b || *end1 || *end2 || n < 0 || n > 100000000 || period < 0 || period > 3600000) {
            say("GUEST ERR portsend usage: portsend <n> <period_ms>\n"); return;
        }
        if (s->fd < 0) { say("GUEST ERR portsend no port\n"); return; }
        if (s->tx_next < s->tx_n || s->tx_len) { say("GUEST ERR portsend busy\n"); return; }
        s->tx_n = n; s->tx_next = 0; s->tx_period = (int)period; s->tx_due = now_ms();
        say("GUEST OK portsend\n");
        if (n == 0) say("GUEST PORT TXDONE 0\n");
    } else {
        say("GUEST ERR %s unknown port command\n", cmd);
    }
}

/* write the pending record; returns 0 when it must wait (EAGAIN) */
static int tx_flush(struct port_state *s, int64_t t)
{
    while (s->tx_off < s->tx_len) {
        ssize_t w = write(s->fd, s->tx_buf + s->tx_off, s->tx_len - s->tx_off);
        if (w > 0) { s->tx_off += (size_t)w; continue; }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) return 0;
        /* hard error (port unplugged) or 0 (virtqueue full: the host stopped taking
         * our output): this record is lost, say so and why */
        say("GUEST PORT DROP %ld %s\n", s->tx_next, w < 0 ? strerror(errno) : "write returned 0");
        s->tx_off = s->tx_len;
        break;
    }
    s->tx_len = s->tx_off = 0;
    s->tx_next++;
    int64_t due = s->tx_due + s->tx_period;
    s->tx_due = due > t ? due : t;   /* late (blocked or paused): no catch-up burst */
    if (s->tx_next == s->tx_n) say("GUEST PORT TXDONE %ld\n", s->tx_n);
    return 1;
}

static int port_daemon(const char *name, const char *ctlpath)
{
    struct port_state s;
    memset(&s, 0, sizeof s);
    s.fd = -1;
    s.rx_fnv = FNV_INIT;
    int ctl = open(ctlpath, O_RDWR | O_NONBLOCK | O_CLOEXEC);  /* RDWR: never EOF between writers */
    if (ctl < 0) { say("GUEST ERR port cannot open %s\n", ctlpath); return 1; }
    char cbuf[512];
    size_t clen = 0;
    int64_t next_scan = 0;
    char dev[300];
    for (;;) {
        int64_t t = now_ms();
        if (s.fd < 0 && t >= next_scan) {
            if (find_port(name, dev, sizeof dev)) {
                s.fd = open(dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
                if (s.fd >= 0) say("GUEST PORT OPEN %s\n", dev);
            }
            next_scan = t + 500;
        }
        /* start the next record when it is due */
        if (s.fd >= 0 && !s.tx_len && s.tx_next < s.tx_n && t >= s.tx_due) {
            s.tx_len = (size_t)snprintf(s.tx_buf, sizeof s.tx_buf, "SEQ %ld\n", s.tx_next);
            s.tx_off = 0;
        }
        if (s.fd >= 0 && s.tx_len && !s.host_closed) tx_flush(&s, t);

        int timeout = 500;
        if (s.fd < 0) timeout = (int)(next_scan - t);
        if (s.host_closed) timeout = 50;
        if (s.fd >= 0 && !s.tx_len && s.tx_next < s.tx_n) {
            int64_t d = s.tx_due - t;
            if (d < timeout) timeout = d < 0 ? 0 : (int)d;
        }
        if (s.rx_total != s.rx_reported) {
            int64_t d = s.rx_report_at + (s.rx_total - s.rx_reported >= 1000 ? 50 : 500) - t;
            if (d < timeout) timeout = d < 0 ? 0 : (int)d;
        }
        if (timeout < 0) timeout = 0;

        struct pollfd p[2];
        nfds_t np = 1;
        p[0].fd = ctl; p[0].events = POLLIN; p[0].revents = 0;
        if (s.fd >= 0 && !s.host_closed) {
            p[1].fd = s.fd; p[1].events = POLLIN | (s.tx_len ? POLLOUT : 0); p[1].revents = 0;
            np = 2;
        }
        int r = poll(p, np, timeout);
        if (r < 0 && errno != EINTR) { say("GUEST ERR port poll %s\n", strerror(errno)); return 1; }
        t = now_ms();
        s.host_closed = 0;   /* re-checked by this round's poll/read */

        if (np == 2 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            unsigned char buf[4096];
            for (;;) {
                ssize_t n = read(s.fd, buf, sizeof buf);
                if (n > 0) {
                    for (ssize_t i = 0; i < n; i++) { s.rx_fnv ^= buf[i]; s.rx_fnv *= FNV_PRIME; }
                    s.rx_total += (uint64_t)n;
                    continue;
                }
                if (n == 0) { s.host_closed = 1; break; }          /* no host side connected */
                if (errno == EINTR) continue;
                if (errno == EAGAIN) break;
                say("GUEST PORT ERROR %s\n", strerror(errno));     /* unplugged: find it again */
                close(s.fd); s.fd = -1; next_scan = t + 500;
                break;
            }
        }
        if (np == 2 && s.fd >= 0 && (p[1].revents & POLLHUP) && !(p[1].revents & POLLOUT)) s.host_closed = 1;
        if (s.rx_total != s.rx_reported) {
            int64_t gap = t - s.rx_report_at;
            if ((s.rx_total - s.rx_reported >= 1000 && gap >= 50) || gap >= 500) rx_report(&s, t);
        }

        if (p[0].revents & POLLIN) {
            for (;;) {
                ssize_t n = read(ctl, cbuf + clen, sizeof cbuf - 1 - clen);
                if (n <= 0) break;
                clen += (size_t)n;
                char *nl;
                while ((nl = memchr(cbuf, '\n', clen)) != NULL) {
                    *nl = 0;
                    port_command(&s, cbuf);
                    size_t used = (size_t)(nl + 1 - cbuf);
                    memmove(cbuf, nl + 1, clen - used);
                    clen -= used;
                }
                if (clen == sizeof cbuf - 1) clen = 0;   /* over-long line: discard */
            }
        }
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

static int eject(const char *dev)
{
    int fd = open(dev, O_RDONLY | O_NONBLOCK);
    if (fd < 0) { perror(dev); return 1; }
    int r = ioctl(fd, CDROMEJECT, 0);
    if (r < 0) perror("CDROMEJECT");
    close(fd);
    return r < 0;
}

#define SOUND_RATE 48000

static int tone(double hz, long ms)
{
    static int16_t buf[2 * 480];
    long total = SOUND_RATE * ms / 1000;
    double step = 2 * M_PI * hz / SOUND_RATE;
    for (long n = 0; n < total;) {
        int k = 0;
        for (; k < 480 && n < total; k++, n++) {
            int16_t v = (int16_t)lrint(16383.0 * sin(step * (double)n));
            buf[2 * k] = v;
            buf[2 * k + 1] = v;
        }
        const char *p = (const char *)buf;
        size_t left = (size_t)k * 4;
        while (left) {
            ssize_t w = write(1, p, left);
            if (w < 0) { if (errno == EINTR) continue; perror("tone write"); return 1; }
            p += w; left -= (size_t)w;
        }
    }
    return 0;
}

/* ---- avsync: a flash and a beep at the same instant, as the sound card sees it */
#define AVSYNC_LEAD_MS 3000
#define AVSYNC_TAIL_MS 1000
#define AVSYNC_BAND_ROWS 16

static long long card_hw_ptr(void)
{
    char line[128];
    long long v = -1;
    FILE *f = fopen("/proc/asound/card0/pcm0p/sub0/status", "r");
    if (!f) return -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "hw_ptr", 6) == 0) {
            char *c = strchr(line, ':');
            if (c) v = atoll(c + 1);
        }
    }
    fclose(f);
    return v;
}

static void band_fill(uint8_t *fb, const struct fb_var_screeninfo *var, unsigned line, uint32_t rgb)
{
    for (unsigned y = 0; y < AVSYNC_BAND_ROWS && y < var->yres; y++) {
        uint32_t *row = (uint32_t *)(fb + (size_t)y * line);
        for (unsigned x = 0; x < var->xres; x++) row[x] = rgb;
    }
}

static int avsync_video(long n, long period_ms, long beep_ms)
{
    int fd = open("/dev/fb0", O_RDWR);
    if (fd < 0) { perror("avsync fb0"); return 1; }
    struct fb_var_screeninfo var;
    struct fb_fix_screeninfo fix;
    if (ioctl(fd, FBIOGET_VSCREENINFO, &var) < 0 || ioctl(fd, FBIOGET_FSCREENINFO, &fix) < 0 || var.bits_per_pixel != 32) {
        fprintf(stderr, "avsync: fb0 is not 32 bpp\n");
        return 1;
    }
    uint8_t *fb = mmap(NULL, (size_t)fix.line_length * AVSYNC_BAND_ROWS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (fb == MAP_FAILED) { perror("avsync mmap"); return 1; }
    const long long lead = (long long)SOUND_RATE * AVSYNC_LEAD_MS / 1000;
    const long long per = (long long)SOUND_RATE * period_ms / 1000;
    const long long len = (long long)SOUND_RATE * beep_ms / 1000;
    const long long end = lead + n * per + (long long)SOUND_RATE * AVSYNC_TAIL_MS / 1000;
    long flashed = -1;
    int64_t next_frame = now_ms();
    unsigned frame = 0;
    int white = 0, opened = 0;
    const int64_t t0 = now_ms();
    for (;;) {
        long long hw = card_hw_ptr();
        if (hw >= end) break;
        /* the card closed (aplay ended or failed), or never opened */
        if (hw >= 0) opened = 1;
        else if (opened || now_ms() - t0 > 20000) break;
        long k = hw >= lead ? (long)((hw - lead) / per) : -1;
        int in_beep = k >= 0 && k < n && hw - lead - k * per < len;
        int64_t t = now_ms();
        if (in_beep && k > flashed) {
            /* the beep's first frame has reached the card: flash now */
            band_fill(fb, &var, fix.line_length, 0xffffff);
            flashed = k;
            white = 1;
            next_frame = t + 40;
            say("GUEST AVFLASH %ld %.1f\n", k, (double)(hw - lead - k * per) * 1000.0 / SOUND_RATE);
        } else if (t >= next_frame || (white && !in_beep)) {
            /* every frame differs from the last (the display only sends what changed): a stream */
            frame++;
            white = in_beep;
            band_fill(fb, &var, fix.line_length, in_beep ? (frame & 1 ? 0xfefefe : 0xffffff) : (frame & 1 ? 0x202020 : 0x282828));
            next_frame = t + 40;
        }
        usleep(1000);
    }
    band_fill(fb, &var, fix.line_length, 0);
    return 0;
}

static int avsync(long n, long period_ms, long beep_ms, double hz)
{
    if (n <= 0 || period_ms <= beep_ms || beep_ms <= 0) { fprintf(stderr, "avsync: bad arguments\n"); return 1; }
    pid_t child = fork();
    if (child < 0) { perror("avsync fork"); return 1; }
    if (child == 0) {
        /* stdout is aplay's pipe: the child's lines go to the serial console */
        close(1);
        out_fd = open("/dev/ttyS0", O_WRONLY | O_NOCTTY);
        _exit(avsync_video(n, period_ms, beep_ms));
    }
    static int16_t buf[2 * 480];
    const long long lead = (long long)SOUND_RATE * AVSYNC_LEAD_MS / 1000;
    const long long per = (long long)SOUND_RATE * period_ms / 1000;
    const long long len = (long long)SOUND_RATE * beep_ms / 1000;
    const long long total = lead + n * per + (long long)SOUND_RATE * (AVSYNC_TAIL_MS + 500) / 1000;
    const double step = 2 * M_PI * hz / SOUND_RATE;
    for (long long i = 0; i < total;) {
        int k = 0;
        for (; k < 480 && i < total; k++, i++) {
            long long b = i - lead;
            int16_t v = 0;
            if (b >= 0 && b / per < n && b % per < len) v = (int16_t)lrint(16383.0 * sin(step * (double)(b % per)));
            buf[2 * k] = v;
            buf[2 * k + 1] = v;
        }
        const char *p = (const char *)buf;
        size_t left = (size_t)k * 4;
        while (left) {
            ssize_t w = write(1, p, left);
            if (w < 0) { if (errno == EINTR) continue; perror("avsync write"); return 1; }
            p += w; left -= (size_t)w;
        }
    }
    close(1);
    int st = 0;
    waitpid(child, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median period between rising zero crossings: a dropped or repeated
 * stretch of samples disturbs one period, not the estimate. */
static int freq(void)
{
    static double periods[SOUND_RATE * 60 / 20];   /* up to 60 s of a tone >= 20 Hz */
    const long max_periods = (long)(sizeof periods / sizeof periods[0]);
    int16_t fr[2];
    long n = 0, np = 0, crossings = 0;
    double first = -1, last = -1, sq = 0;
    int prev = 0, have_prev = 0;
    const long skip = SOUND_RATE / 5;
    while (fread(fr, sizeof fr, 1, stdin) == 1) {
        int v = fr[0];
        if (n >= skip) {
            sq += (double)v * v;
            if (have_prev && prev < 0 && v >= 0) {
                double t = (double)(n - 1) + (double)-prev / (double)(v - prev);
                if (first < 0) first = t;
                else {
                    crossings++;
                    if (np < max_periods) periods[np++] = t - last;
                }
                last = t;
            }
            prev = v; have_prev = 1;
        }
        n++;
    }
    long used = n > skip ? n - skip : 0;
    double mean_hz = crossings > 0 ? crossings * (double)SOUND_RATE / (last - first) : 0;
    double median_hz = 0;
    if (np > 0) {
        qsort(periods, (size_t)np, sizeof periods[0], cmp_double);
        median_hz = SOUND_RATE / periods[np / 2];
    }
    printf("%.2f %.0f %.2f\n", median_hz, used ? sqrt(sq / (double)used) : 0.0, mean_hz);
    return 0;
}

/* ---- http: one request to spice-webdavd ------------------------------------ */
static int http_fd = -1;
static char http_buf[65536];
static size_t http_len, http_pos;

static int http_fill(void)
{
    if (http_pos < http_len) return 1;
    ssize_t n = read(http_fd, http_buf, sizeof http_buf);
    if (n <= 0) return 0;
    http_len = (size_t)n;
    http_pos = 0;
    return 1;
}

/* one line without CR LF into line (truncated to sz-1); 0 at EOF */
static int http_line(char *line, size_t sz)
{
    size_t k = 0;
    for (;;) {
        if (!http_fill()) return 0;
        char c = http_buf[http_pos++];
        if (c == '\n') break;
        if (c != '\r' && k + 1 < sz) line[k++] = c;
    }
    line[k] = 0;
    return 1;
}

/* copies n body bytes to out; 0 when the stream ended first */
static int http_copy(int out, uint64_t n, uint64_t *total)
{
    while (n) {
        if (!http_fill()) return 0;
        size_t k = http_len - http_pos;
        if (k > n) k = (size_t)n;
        if (write(out, http_buf + http_pos, k) != (ssize_t)k) return 0;
        http_pos += k;
        n -= k;
        *total += k;
    }
    return 1;
}

static int http(const char *method, const char *path, const char *outfile, const char *infile)
{
    alarm(120);
    int in = -1;
    off_t inlen = 0;
    if (infile) {
        in = open(infile, O_RDONLY);
        if (in < 0) { perror(infile); return 1; }
        inlen = lseek(in, 0, SEEK_END);
        lseek(in, 0, SEEK_SET);
    }
    http_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(9843) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (http_fd < 0 || connect(http_fd, (struct sockaddr *)&a, sizeof a) < 0) { perror("connect"); return 1; }
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: localhost:9843\r\nConnection: close\r\n%s%s"
                     "Content-Length: %lld\r\n\r\n",
                     method, path, strcmp(method, "PROPFIND") == 0 ? "Depth: 1\r\n" : "",
                     strcmp(method, "MOVE") == 0 || strcmp(method, "COPY") == 0 ? "Destination: /moved\r\n" : "",
                     (long long)inlen);
    if (write(http_fd, req, n) != n) { perror("write"); return 1; }
    if (in >= 0) {
        char b[65536];
        ssize_t k;
        while ((k = read(in, b, sizeof b)) > 0)
            if (write(http_fd, b, k) != k) { perror("write body"); return 1; }
        close(in);
    }
    char line[4096];
    int status = 0;
    if (!http_line(line, sizeof line) || sscanf(line, "HTTP/1.%*d %d", &status) != 1) {
        fprintf(stderr, "bad status line\n");
        return 1;
    }
    long long clen = -1;
    int chunked = 0;
    for (;;) {
        if (!http_line(line, sizeof line)) { fprintf(stderr, "headers cut\n"); return 1; }
        if (!line[0]) break;
        if (strncasecmp(line, "content-length:", 15) == 0) clen = atoll(line + 15);
        if (strncasecmp(line, "transfer-encoding:", 18) == 0 && strstr(line, "chunked")) chunked = 1;
    }
    int out = open(outfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0) { perror(outfile); return 1; }
    uint64_t total = 0;
    int ok = 1;
    if (strcmp(method, "HEAD") == 0 || status == 204 || status == 304 || (status >= 100 && status < 200)) {
        /* no body */
    } else if (chunked) {
        for (;;) {
            if (!http_line(line, sizeof line)) { ok = 0; break; }
            unsigned long long sz = strtoull(line, NULL, 16);
            if (!sz) { http_line(line, sizeof line); break; }
            if (!http_copy(out, sz, &total) || !http_line(line, sizeof line)) { ok = 0; break; }
        }
    } else if (clen >= 0) {
        ok = http_copy(out, (uint64_t)clen, &total);
    } else {
        while (http_fill()) { if (!http_copy(out, http_len - http_pos, &total)) break; }
    }
    close(out);
    close(http_fd);
    if (!ok) { fprintf(stderr, "body cut after %llu bytes\n", (unsigned long long)total); return 1; }
    printf("%d %llu\n", status, (unsigned long long)total);
    return 0;
}

static int gen(long long bytes, unsigned seed, const char *outfile)
{
    int out = open(outfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0) { perror(outfile); return 1; }
    uint32_t x = seed ? seed : 1;
    unsigned char b[65536];
    while (bytes > 0) {
        size_t k = bytes < (long long)sizeof b ? (size_t)bytes : sizeof b;
        for (size_t i = 0; i < k; i++) { x ^= x << 13; x ^= x >> 17; x ^= x << 5; b[i] = (unsigned char)x; }
        if (write(out, b, k) != (ssize_t)k) { perror("write"); return 1; }
        bytes -= (long long)k;
    }
    return close(out) ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "eject") == 0) return eject(argv[2]);
    if ((argc == 5 || argc == 6) && strcmp(argv[1], "http") == 0) return http(argv[2], argv[3], argv[4], argc == 6 ? argv[5] : NULL);
    if (argc == 5 && strcmp(argv[1], "gen") == 0) return gen(atoll(argv[2]), (unsigned)atol(argv[3]), argv[4]);
    if (argc == 4 && strcmp(argv[1], "tone") == 0) return tone(atof(argv[2]), atol(argv[3]));
    if (argc == 2 && strcmp(argv[1], "freq") == 0) return freq();
    if (argc == 6 && strcmp(argv[1], "avsync") == 0) return avsync(atol(argv[2]), atol(argv[3]), atol(argv[4]), atof(argv[5]));
    if (argc >= 2 && strcmp(argv[1], "evecho") == 0) return evecho(argc > 2 ? argv[2] : NULL);
    if (argc == 3 && strcmp(argv[1], "kd") == 0) return kdmode(argv[2]);
    if (argc == 4 && strcmp(argv[1], "port") == 0) return port_daemon(argv[2], argv[3]);
    fprintf(stderr, "usage: guest-helper evecho [readyfile] | kd text|graphics | port <name> <ctlfifo> | eject <dev> | tone <hz> <ms> | freq\n");
    return 2;
}
