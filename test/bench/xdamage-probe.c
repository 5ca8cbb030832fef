/* xdamage-probe: one line per screen change on $DISPLAY's root window, the
 * CLOCK_MONOTONIC time in ns (the clock of Node's process.hrtime). Built by
 * test/bench/e2e.bench.ts with the host gcc (-lX11 -lXdamage) at run time.
 * NonEmpty reports: one event when the damage goes from empty to not empty,
 * then we subtract it, so a burst of drawing gives a few events, not one per
 * rectangle (the bench coalesces what is closer than a few ms). */
#include <X11/Xlib.h>
#include <X11/extensions/Xdamage.h>
#include <stdio.h>
#include <time.h>

int main(void) {
  Display *d = XOpenDisplay(NULL);
  if (!d) { fprintf(stderr, "xdamage-probe: cannot open display\n"); return 1; }
  int ev, err;
  if (!XDamageQueryExtension(d, &ev, &err)) { fprintf(stderr, "xdamage-probe: no DAMAGE extension\n"); return 1; }
  Damage dmg = XDamageCreate(d, DefaultRootWindow(d), XDamageReportNonEmpty);
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    XEvent e;
    XNextEvent(d, &e);
    if (e.type != ev + XDamageNotify) continue;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    XDamageSubtract(d, dmg, None, None);
    XFlush(d);
    printf("%lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
    fflush(stdout);
  }
}
