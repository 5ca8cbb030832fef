/*
 * mkpattern.c - host-side generator of the guest's full-screen test images.
 *
 *   mkpattern N WIDTH HEIGHT STRIDE OUT.raw
 *
 * Writes pattern N (1..3) as raw XRGB8888 little-endian (bytes B,G,R,0 per
 * pixel, STRIDE bytes per row, rows top-down): exactly what the guest copies
 * into /dev/fb0. Deterministic (no time, no libc rand), so the host tests can
 * compare a screendump against the same file.
 *   1: smooth gradients (R along x, G along y, B along the diagonal)
 *   2: 16px checkerboard in four colour pairs (one per quadrant) + 1px grid lines
 *   3: eight colour bars over the top 2/3, xorshift32 noise below
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t pattern(int n, int x, int y, int w, int h, uint32_t *rng)
{
    switch (n) {
    case 1: {
        uint32_t r = (uint32_t)(x * 255 / (w - 1));
        uint32_t g = (uint32_t)(y * 255 / (h - 1));
        uint32_t b = (uint32_t)((x + y) * 255 / (w + h - 2));
        return r << 16 | g << 8 | b;
    }
    case 2: {
        static const uint32_t pairs[4][2] = {
            { 0xffffff, 0x000000 }, { 0xff0000, 0x00ffff },
            { 0x00ff00, 0xff00ff }, { 0x0000ff, 0xffff00 },
        };
        if (x % 64 == 0 || y % 64 == 0) return 0x808080;  /* grid lines */
        int q = (x >= w / 2) + 2 * (y >= h / 2);
        return pairs[q][((x / 16) + (y / 16)) & 1];
    }
    default: {
        static const uint32_t bars[8] = {
            0xffffff, 0xffff00, 0x00ffff, 0x00ff00, 0xff00ff, 0xff0000, 0x0000ff, 0x000000,
        };
        if (y < h * 2 / 3) return bars[x * 8 / w];
        uint32_t s = *rng;  /* xorshift32: advances once per noise pixel, row-major */
        s ^= s << 13; s ^= s >> 17; s ^= s << 5;
        *rng = s;
        return s & 0xffffff;
    }
    }
}

int main(int argc, char **argv)
{
    if (argc != 6) { fprintf(stderr, "usage: mkpattern N WIDTH HEIGHT STRIDE OUT\n"); return 2; }
    int n = atoi(argv[1]), w = atoi(argv[2]), h = atoi(argv[3]), stride = atoi(argv[4]);
    if (n < 1 || n > 3 || w < 2 || h < 2 || stride < w * 4) { fprintf(stderr, "bad args\n"); return 2; }
    FILE *f = fopen(argv[5], "wb");
    if (!f) { perror(argv[5]); return 1; }
    unsigned char *row = calloc(1, (size_t)stride);
    uint32_t rng = 0x12345678u;
    for (int y = 0; y < h; y++) {
        memset(row, 0, (size_t)stride);
        for (int x = 0; x < w; x++) {
            uint32_t p = pattern(n, x, y, w, h, &rng);
            row[x * 4 + 0] = (unsigned char)(p & 0xff);
            row[x * 4 + 1] = (unsigned char)(p >> 8 & 0xff);
            row[x * 4 + 2] = (unsigned char)(p >> 16 & 0xff);
            row[x * 4 + 3] = 0;
        }
        if (fwrite(row, 1, (size_t)stride, f) != (size_t)stride) { perror("write"); return 1; }
    }
    free(row);
    return fclose(f) != 0;
}
