/* Independent reference for test/unit/config/keyfile.test.ts: loads each file
 * with GLib's own GKeyFile (the parser remote-viewer uses, same flags as
 * virt-viewer-file.c) and prints what GLib makes of every key as JSON lines.
 * Where GLib reports an error for a key (even while still returning text, as
 * GLib 2.74 does for a bad escape) the error is recorded. Debian ships libglib-2.0.so.0 without headers here, so the few prototypes
 * are declared by hand. Rebuild + regenerate:
 *   gcc -O1 -o /tmp/gkd gkeyfile-dump.c /usr/lib/x86_64-linux-gnu/libglib-2.0.so.0
 *   (cd .. && /tmp/gkd *.vv malformed/*.vv > glib-ref/glib-reference.jsonl)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { unsigned domain; int code; char *message; } GError;
typedef struct _GKeyFile GKeyFile;
GKeyFile *g_key_file_new(void);
int g_key_file_load_from_data(GKeyFile *, const char *, size_t, int, GError **);
char **g_key_file_get_groups(GKeyFile *, size_t *);
char **g_key_file_get_keys(GKeyFile *, const char *, size_t *, GError **);
char *g_key_file_get_value(GKeyFile *, const char *, const char *, GError **);
char *g_key_file_get_string(GKeyFile *, const char *, const char *, GError **);
char **g_key_file_get_string_list(GKeyFile *, const char *, const char *, size_t *, GError **);
int g_key_file_get_integer(GKeyFile *, const char *, const char *, GError **);
int g_key_file_get_boolean(GKeyFile *, const char *, const char *, GError **);
void g_error_free(GError *);

static void js(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}
static void err(GError *e) { printf("{\"error\":"); js(e->message); printf("}"); g_error_free(e); }

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    FILE *f = fopen(argv[i], "rb");
    if (!f) continue;
    static char buf[4 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    GKeyFile *kf = g_key_file_new();
    GError *e = NULL;
    printf("{\"file\":"); js(argv[i]);
    /* G_KEY_FILE_KEEP_COMMENTS | G_KEY_FILE_KEEP_TRANSLATIONS */
    if (!g_key_file_load_from_data(kf, buf, n, 1 | 2, &e)) { printf(",\"load\":"); err(e); printf("}\n"); continue; }
    printf(",\"groups\":{");
    size_t ng; char **groups = g_key_file_get_groups(kf, &ng);
    for (size_t g = 0; g < ng; g++) {
      if (g) putchar(',');
      js(groups[g]); printf(":{");
      size_t nk; char **keys = g_key_file_get_keys(kf, groups[g], &nk, NULL);
      for (size_t k = 0; k < nk; k++) {
        const char *G = groups[g], *K = keys[k];
        if (k) putchar(',');
        js(K); printf(":{\"raw\":"); js(g_key_file_get_value(kf, G, K, NULL));
        e = NULL; char *s = g_key_file_get_string(kf, G, K, &e);
        printf(",\"string\":"); if (s && !e) js(s); else err(e); /* GLib 2.74 returns the text AND an error for a bad escape: an error */
        e = NULL; size_t nl; char **l = g_key_file_get_string_list(kf, G, K, &nl, &e);
        printf(",\"list\":"); if (l) { putchar('['); for (size_t j = 0; j < nl; j++) { if (j) putchar(','); js(l[j]); } putchar(']'); } else err(e);
        e = NULL; int iv = g_key_file_get_integer(kf, G, K, &e);
        printf(",\"integer\":"); if (!e) printf("%d", iv); else err(e);
        e = NULL; int bv = g_key_file_get_boolean(kf, G, K, &e);
        printf(",\"boolean\":"); if (!e) printf(bv ? "true" : "false"); else err(e);
        putchar('}');
      }
      putchar('}');
    }
    printf("}}\n");
  }
  return 0;
}
