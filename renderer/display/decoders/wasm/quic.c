// QUIC image decoder in C for WebAssembly: a line-for-line port of the
// bitstream decoder in ../quic.ts (which documents the format and is the
// spec this file follows; change both together). Freestanding: no libc, no
// imports. The caller (quic.ts) validates the header, size limits and the
// minimum stream length, then:
//   in = quic_prepare(inBytes, width, height, type)  grows memory, returns where to copy the stream
//   err = quic_decode()                              0, or QUIC_ERR_* (nothing is read past the input)
//   quic_output()                                    width*height 0xAARRGGBB pixels
// Build: scripts/build-wasm.mjs (clang --target=wasm32 -nostdlib, wasm-ld).

typedef unsigned int u32;
typedef unsigned char u8;

#define QUIC_ERR_TRUNCATED 1
#define QUIC_ERR_RUN 2
#define QUIC_ERR_STATE 3

#define TYPE_GRAY 1
#define TYPE_RGB16 2
#define TYPE_RGB24 3
#define TYPE_RGB32 4
#define TYPE_RGBA 5

#define DEF_MAXCLEN 26
#define DEF_WMIMAX 6
#define DEF_WMINEXT 2048
#define NCOUNTERS 8
#define MELC_LAST_STATE 31

#define INLINE static inline __attribute__((always_inline))

static const int WM_TRIGGER[7] = {110, 550, 900, 800, 550, 400, 350};
static const int MELC_J[32] = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3,
                               4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 13, 14, 15};

static const u32 TABRAND_CHAOS[256] = {
    0x02c57542, 0x35427717, 0x2f5a2153, 0x9244f155, 0x7bd26d07, 0x354c6052, 0x57329b28, 0x2993868e,
    0x6cd8808c, 0x147b46e0, 0x99db66af, 0xe32b4cac, 0x1b671264, 0x9d433486, 0x62a4c192, 0x06089a4b,
    0x9e3dce44, 0xdaabee13, 0x222425ea, 0xa46f331d, 0xcd589250, 0x8bb81d7f, 0xc8b736b9, 0x35948d33,
    0xd7ac7fd0, 0x5fbe2803, 0x2cfbc105, 0x013dbc4e, 0x7a37820f, 0x39f88e9e, 0xedd58794, 0xc5076689,
    0xfcada5a4, 0x64c2f46d, 0xb3ba3243, 0x8974b4f9, 0x5a05aebd, 0x20afcd00, 0x39e2b008, 0x88a18a45,
    0x600bde29, 0xf3971ace, 0xf37b0a6b, 0x7041495b, 0x70b707ab, 0x06beffbb, 0x4206051f, 0xe13c4ee3,
    0xc1a78327, 0x91aa067c, 0x8295f72a, 0x732917a6, 0x1d871b4d, 0x4048f136, 0xf1840e7e, 0x6a6048c1,
    0x696cb71a, 0x7ff501c3, 0x0fc6310b, 0x57e0f83d, 0x8cc26e74, 0x11a525a2, 0x946934c7, 0x7cd888f0,
    0x8f9d8604, 0x4f86e73b, 0x04520316, 0xdeeea20c, 0xf1def496, 0x67687288, 0xf540c5b2, 0x22401484,
    0x3478658a, 0xc2385746, 0x01979c2c, 0x5dad73c8, 0x0321f58b, 0xf0fedbee, 0x92826ddf, 0x284bec73,
    0x5b1a1975, 0x03df1e11, 0x20963e01, 0xa17cf12b, 0x740d776e, 0xa7a6bf3c, 0x01b5cce4, 0x1118aa76,
    0xfc6fac0a, 0xce927e9b, 0x00bf2567, 0x806f216c, 0xbca69056, 0x795bd3e9, 0xc9dc4557, 0x8929b6c2,
    0x789d52ec, 0x3f3fbf40, 0xb9197368, 0xa38c15b5, 0xc3b44fa8, 0xca8333b0, 0xb7e8d590, 0xbe807feb,
    0xbf5f8360, 0xd99e2f5c, 0x372928e1, 0x7c757c4c, 0x0db5b154, 0xc01ede02, 0x1fc86e78, 0x1f3985be,
    0xb4805c77, 0x00c880fa, 0x974c1b12, 0x35ab0214, 0xb2dc840d, 0x5b00ae37, 0xd313b026, 0xb260969d,
    0x7f4c8879, 0x1734c4d3, 0x49068631, 0xb9f6a021, 0x6b863e6f, 0xcee5debf, 0x29f8c9fb, 0x53dd6880,
    0x72b61223, 0x1f67a9fd, 0x0a0f6993, 0x13e59119, 0x11cca12e, 0xfe6b6766, 0x16b6effc, 0x97918fc4,
    0xc2b8a563, 0x94f2f741, 0x0bfa8c9a, 0xd1537ae8, 0xc1da349c, 0x873c60ca, 0x95005b85, 0x9b5c080e,
    0xbc8abbd9, 0xe1eab1d2, 0x6dac9070, 0x4ea9ebf1, 0xe0cf30d4, 0x1ef5bd7b, 0xd161043e, 0x5d2fa2e2,
    0xff5d3cae, 0x86ed9f87, 0x2aa1daa1, 0xbd731a34, 0x9e8f4b22, 0xb1c2c67a, 0xc21758c9, 0xa182215d,
    0xccb01948, 0x8d168df7, 0x04238cfe, 0x368c3dbc, 0x0aeadca5, 0xbad21c24, 0x0a71fee5, 0x9fc5d872,
    0x54c152c6, 0xfc329483, 0x6783384a, 0xeddb3e1c, 0x65f90e30, 0x884ad098, 0xce81675a, 0x4b372f7d,
    0x68bf9a39, 0x43445f1e, 0x40f8d8cb, 0x90d5acb6, 0x4cd07282, 0x349eeb06, 0x0c9d5332, 0x520b24ef,
    0x80020447, 0x67976491, 0x2f931ca3, 0xfe9b0535, 0xfcd30220, 0x61a9e6cc, 0xa487d8d7, 0x3f7c5dd1,
    0x7d0127c5, 0x48f51d15, 0x60dea871, 0xc9a91cb7, 0x58b53bb3, 0x9d5e0b2d, 0x624a78b4, 0x30dbee1b,
    0x9bdf22e7, 0x1df5c299, 0x2d5643a7, 0xf4dd35ff, 0x03ca8fd6, 0x53b47ed8, 0x6f2c19aa, 0xfeb0c1f4,
    0x49e54438, 0x2f2577e6, 0xbf876969, 0x72440ea9, 0xfa0bafb8, 0x74f5b3a0, 0x7dd357cd, 0x89ce1358,
    0x6ef2cdda, 0x1e7767f3, 0xa6be9fdb, 0x4f5f88f8, 0xba994a3a, 0x08ca6b65, 0xe0893818, 0x9e00a16a,
    0xf42bfc8f, 0x9972eedc, 0x749c8b51, 0x32c05f5e, 0xd706805f, 0x6bfbb7cf, 0xd9210a10, 0x31a1db97,
    0x923a9559, 0x37a7a1f6, 0x059f8861, 0xca493e62, 0x65157e81, 0x8f6467dd, 0xab85ff9f, 0x9331aff2,
    0x8616b9f5, 0xedbd5695, 0xee7e29b1, 0x313ac44f, 0xb903112f, 0x432ef649, 0xdc0a36c0, 0x61cf2bba,
    0x81474925, 0xa8b6c7ad, 0xee5931de, 0xb2f8158d, 0x59fb7409, 0x2e3dfaed, 0x9af25a3f, 0xe1fed4d5,
};

/** Code tables of one bits-per-channel family (see Family in quic.ts). */
typedef struct {
  int bpc, mask, drop, nBuckets;
  int apl[NCOUNTERS], grMask[NCOUNTERS], nGR[NCOUNTERS], cwlen[NCOUNTERS], suf[NCOUNTERS];
  u8 codeLen[256 * NCOUNTERS];
  int l2u[256];
  u8 bucketOf[256];
  int bucketFirst[256], bucketLast[256];
  u32 expand[256];
} Family;

typedef struct {
  int waitcnt, tabrandSeed, wmidx, wmileft, melcstate, melclen, melcorder;
} State;

typedef struct {
  int counters[256 * NCOUNTERS];
  u8 bestcode[256];
  u8 ctxBest[256];
  u8 *corr; /* width + 1 entries: [0] is correlate_row[-1] */
} Channel;

/** Bit reader: word = next 32 bits MSB first; low `avail` bits of `next` not yet in word. */
typedef struct {
  const u32 *words;
  u32 nwords, pos;
  u32 word, next;
  int avail;
} Reader;

static Family fam8, fam5;
static int famReady;
static State stRgb, stA;
static Channel chR, chG, chB, chA;
static Reader rd;

static u32 gType, gWidth, gHeight, gInBytes;
static u8 *gIn;
static u32 *gOut;
static u8 *gPlane;
static u8 *gCorr;

extern unsigned char __heap_base;

static int ceilLog2(int val) {
  if (val <= 1) return 0;
  int r = 1;
  int v = val - 1;
  while ((v >>= 1)) r++;
  return r;
}

static void buildFamily(Family *f, int bpc) {
  int levels = 1 << bpc;
  f->bpc = bpc;
  f->mask = levels - 1;
  f->drop = 8 - bpc;
  for (int l = 0; l < NCOUNTERS; l++) f->apl[l] = f->grMask[l] = f->nGR[l] = f->cwlen[l] = f->suf[l] = 0;
  for (int k = 0; k < 256 * NCOUNTERS; k++) f->codeLen[k] = 0;
  for (int l = 0; l < bpc; l++) {
    int apl = DEF_MAXCLEN - bpc;
    int cap = (1 << (bpc - l)) - 1;
    if (apl > cap) apl = cap;
    int nGR = apl << l;
    int suffixLen = ceilLog2(levels - nGR);
    f->apl[l] = apl;
    f->grMask[l] = (1 << l) - 1;
    f->nGR[l] = nGR;
    f->cwlen[l] = apl + suffixLen;
    f->suf[l] = (1 << suffixLen) - 1;
    for (int n = 0; n < 256; n++) f->codeLen[n * NCOUNTERS + l] = (u8)(n < nGR ? (n >> l) + l + 1 : apl + suffixLen);
  }
  for (int s = 0; s < 256; s++) f->l2u[s] = 0;
  for (int s = 0; s < levels; s++) f->l2u[s] = (s & 1) ? f->mask - (s >> 1) : s >> 1;

  u8 bucketOfLevel[256];
  int nBuckets = 0, bend = 0, bsize = 1, repcntr = 2;
  do {
    int bstart = nBuckets ? bend + 1 : 0;
    if (!--repcntr) {
      repcntr = 1;
      bsize *= 2;
    }
    bend = bstart + bsize - 1;
    if (bend + bsize >= levels) bend = levels - 1;
    for (int v = bstart; v <= bend; v++) bucketOfLevel[v] = (u8)nBuckets;
    f->bucketFirst[nBuckets] = bstart;
    f->bucketLast[nBuckets] = bend;
    nBuckets++;
  } while (bend < levels - 1);
  f->nBuckets = nBuckets;
  for (int v = 0; v < 256; v++) f->bucketOf[v] = bucketOfLevel[v & f->mask];
  for (int v = 0; v < 256; v++) f->expand[v] = bpc == 8 ? (u32)v : (u32)(((v << 3) | ((v & 0x1f) >> 2)) & 0xff);
}

static void initState(State *st) {
  st->waitcnt = 0;
  st->tabrandSeed = 0xff;
  st->wmidx = 0;
  st->wmileft = DEF_WMINEXT;
  st->melcstate = 0;
  st->melclen = MELC_J[0];
  st->melcorder = 1 << MELC_J[0];
}

static void initChannel(Channel *ch, const Family *f, u8 *corr) {
  for (int k = 0; k < f->nBuckets * NCOUNTERS; k++) ch->counters[k] = 0;
  for (int k = 0; k < 256; k++) ch->bestcode[k] = (u8)(f->bpc - 1);
  for (int k = 0; k < 256; k++) ch->ctxBest[k] = (u8)(f->bpc - 1);
  ch->corr = corr;
}

INLINE u32 clz32(u32 w) { return w ? (u32)__builtin_clz(w) : 32u; }

/** decode_eatbits for the cold paths; 0 or QUIC_ERR_TRUNCATED. */
static int eatBits(Reader *s, int len) {
  u32 word = s->word << len;
  int avail = s->avail;
  if (avail >= len) {
    s->avail = avail - len;
    word |= s->next >> (avail - len);
  } else {
    int d = len - avail;
    word |= s->next << d;
    if (s->pos >= s->nwords) return QUIC_ERR_TRUNCATED;
    u32 next = s->words[s->pos++];
    s->next = next;
    s->avail = 32 - d;
    word |= next >> (32 - d);
  }
  s->word = word;
  return 0;
}

/** decode_state_run: run length >= 0, or -QUIC_ERR_*. */
static int decodeRun(Reader *s, State *st, int limit) {
  int run = 0;
  for (;;) {
    int ones = (int)clz32(~s->word);
    if (ones > 8) ones = 8;
    for (int h = 0; h < ones; h++) {
      run += st->melcorder;
      if (st->melcstate < MELC_LAST_STATE) {
        st->melclen = MELC_J[++st->melcstate];
        st->melcorder = 1 << st->melclen;
      }
    }
    if (run > limit) return -QUIC_ERR_RUN;
    if (ones != 8) {
      if (eatBits(s, ones + 1)) return -QUIC_ERR_TRUNCATED;
      break;
    }
    if (eatBits(s, 8)) return -QUIC_ERR_TRUNCATED;
  }
  if (st->melclen) {
    run += (int)(s->word >> (32 - st->melclen));
    if (eatBits(s, st->melclen)) return -QUIC_ERR_TRUNCATED;
  }
  if (st->melcstate) {
    st->melclen = MELC_J[--st->melcstate];
    st->melcorder = 1 << st->melclen;
  }
  if (run > limit) return -QUIC_ERR_RUN;
  return run;
}

/** update_model: charge curval to every code of the bucket, keep the cheapest, halve on overflow. */
static void updateModel(Channel *ch, const Family *f, int bucket, int curval, int trigger) {
  int *counters = ch->counters + bucket * NCOUNTERS;
  const u8 *codeLen = f->codeLen + curval * NCOUNTERS;
  int bpc = f->bpc;
  int best = bpc - 1;
  int bestLen = (counters[best] += codeLen[best]);
  for (int l = bpc - 2; l >= 0; l--) {
    int len = (counters[l] += codeLen[l]);
    if (len < bestLen) {
      best = l;
      bestLen = len;
    }
  }
  if (ch->bestcode[bucket] != best) {
    ch->bestcode[bucket] = (u8)best;
    for (int v = f->bucketFirst[bucket]; v <= f->bucketLast[bucket]; v++) ch->ctxBest[v] = (u8)best;
  }
  if (bestLen > trigger) {
    for (int l = 0; l < bpc; l++) counters[l] >>= 1;
  }
}

#define SAVE_READER() \
  do { s->word = word; s->next = next; s->avail = avail; s->pos = pos; } while (0)
#define LOAD_READER() \
  do { word = s->word; next = s->next; avail = s->avail; pos = s->pos; } while (0)

/* One Golomb-Rice codeword of a channel with context K (in: correlate_row[i-1], out: the new
   value), bestcode table BEST, predictor P; sets A to the channel value. */
#define DECODE_CHANNEL(K, BEST, CORR, A, P)                                   \
  do {                                                                        \
    int l_ = BEST[K & mask];                                                  \
    int z_ = (int)clz32(word);                                                \
    int len_;                                                                 \
    if (z_ < apl[l_]) {                                                       \
      len_ = z_ + 1 + l_;                                                     \
      K = (z_ << l_) | (int)((word >> (32 - len_)) & (u32)grMask[l_]);        \
    } else {                                                                  \
      len_ = cwlen[l_];                                                       \
      K = (nGR[l_] + (int)((word >> (32 - len_)) & (u32)suf[l_])) & 0xff;     \
    }                                                                         \
    CORR[i + 1] = (u8)K;                                                      \
    A = (l2u[K] + (P)) & mask;                                                \
    word <<= len_;                                                            \
    if (avail >= len_) {                                                      \
      avail -= len_;                                                          \
      word |= next >> avail;                                                  \
    } else {                                                                  \
      int d_ = len_ - avail;                                                  \
      word |= next << d_;                                                     \
      if (pos >= nwords) return QUIC_ERR_TRUNCATED;                           \
      next = words[pos++];                                                    \
      avail = 32 - d_;                                                        \
      word |= next >> avail;                                                  \
    }                                                                         \
  } while (0)

/** One row of the r, g, b group (see decodeRgbRow in quic.ts); prevBase < 0 on row 0. */
INLINE int rgbRow(const Family *f, const int wide, const int row0, u32 *out, int base, int prevBase, int width) {
  Reader *s = &rd;
  State *st = &stRgb;
  const int *l2u = f->l2u;
  const int *apl = f->apl, *grMask = f->grMask, *nGR = f->nGR, *cwlen = f->cwlen, *suf = f->suf;
  const u32 *expand = f->expand;
  const int mask = f->mask;
  const int shR = 16 + f->drop, shG = 8 + f->drop, shB = f->drop;
  u8 *cR = chR.corr, *cG = chG.corr, *cB = chB.corr;
  const u8 *bR = chR.ctxBest, *bG = chG.ctxBest, *bB = chB.ctxBest;
  const u32 *words = s->words;
  const u32 nwords = s->nwords;
  u32 word, next, pos;
  int avail;
  LOAD_READER();
  int waitcnt = st->waitcnt, seed = st->tabrandSeed, wmidx = st->wmidx, wmileft = st->wmileft;

  if (row0) {
    cR[0] = cG[0] = cB[0] = 0;
  } else {
    cR[0] = cR[1];
    cG[0] = cG[1];
    cB[0] = cB[1];
  }

  int x = 0, left = width;
  while (left > 0) {
    const int widen = wmidx < DEF_WMIMAX && wmileft <= left;
    const int end = x + (widen ? wmileft : left);
    const u32 waitmask = (1u << wmidx) - 1;
    const int trigger = WM_TRIGGER[wmidx];
    int i = x;
    int stopidx = i + waitcnt;
    int runIndex = 0;
    int endedByRun = 0;

    int aR = 0, aG = 0, aB = 0;
    if (i > 0 || !row0) {
      u32 p = i > 0 ? out[base + i - 1] : out[prevBase];
      aR = (int)(p >> shR) & mask;
      aG = (int)(p >> shG) & mask;
      aB = (int)(p >> shB) & mask;
    }
    u32 cur1 = i > 0 ? out[base + i - 1] : 0;
    u32 cur2 = i > 1 ? out[base + i - 2] : 0;
    u32 upPrev = i > 0 && !row0 ? out[prevBase + i - 1] : 0;
    int kR = cR[i], kG = cG[i], kB = cB[i];

    while (i < end) {
      int pR = aR, pG = aG, pB = aB;
      if (!row0) {
        const u32 up = out[prevBase + i];
        if (((upPrev ^ up) & 0xffffff) == 0 && i > 2 && runIndex != i && ((cur1 ^ cur2) & 0xffffff) == 0) {
          waitcnt = stopidx - i;
          runIndex = i;
          SAVE_READER();
          int run = decodeRun(s, st, end - i);
          if (run < 0) return -run;
          LOAD_READER();
          if (run > 0) {
            u32 *o = out + base + i;
            for (int k = 0; k < run; k++) o[k] = cur1;
            i += run;
            if (i == end) {
              endedByRun = 1;
              break;
            }
            cur2 = cur1;
            upPrev = out[prevBase + i - 1];
            kR = cR[i];
            kG = cG[i];
            kB = cB[i];
          }
          stopidx = i + waitcnt;
          continue;
        }
        upPrev = up;
        pR = (aR + ((int)(up >> shR) & mask)) >> 1;
        pG = (aG + ((int)(up >> shG) & mask)) >> 1;
        pB = (aB + ((int)(up >> shB) & mask)) >> 1;
      }

      DECODE_CHANNEL(kR, bR, cR, aR, pR);
      DECODE_CHANNEL(kG, bG, cG, aG, pG);
      DECODE_CHANNEL(kB, bB, cB, aB, pB);
      cur2 = cur1;
      cur1 = wide ? 0xff000000u | (expand[aR] << 16) | (expand[aG] << 8) | expand[aB]
                  : 0xff000000u | ((u32)aR << 16) | ((u32)aG << 8) | (u32)aB;
      out[base + i] = cur1;

      if (i == stopidx) {
        updateModel(&chR, f, f->bucketOf[cR[i]], cR[i + 1], trigger);
        updateModel(&chG, f, f->bucketOf[cG[i]], cG[i + 1], trigger);
        updateModel(&chB, f, f->bucketOf[cB[i]], cB[i + 1], trigger);
        i++;
        seed = (seed + 1) & 0xff;
        stopidx = i + (int)(TABRAND_CHAOS[seed] & waitmask);
      } else {
        i++;
      }
    }
    if (!endedByRun) waitcnt = stopidx - end;

    const int n = end - x;
    left -= n;
    x = end;
    if (widen) {
      wmidx++;
      wmileft = DEF_WMINEXT;
    } else if (wmidx < DEF_WMIMAX) {
      wmileft -= n;
    }
  }

  SAVE_READER();
  st->waitcnt = waitcnt;
  st->tabrandSeed = seed;
  st->wmidx = wmidx;
  st->wmileft = wmileft;
  return 0;
}

/** One row of a single 8-bit channel with its own state (GRAY, or RGBA's alpha); see decodeOneRow. */
static int oneRow(State *st, Channel *ch, u8 *plane, int base, int prevBase, int width) {
  Reader *s = &rd;
  const Family *f = &fam8;
  const int *l2u = f->l2u;
  const int *apl = f->apl, *grMask = f->grMask, *nGR = f->nGR, *cwlen = f->cwlen, *suf = f->suf;
  const int mask = 0xff;
  u8 *corr = ch->corr;
  const u8 *best = ch->ctxBest;
  const u32 *words = s->words;
  const u32 nwords = s->nwords;
  u32 word, next, pos;
  int avail;
  LOAD_READER();
  int waitcnt = st->waitcnt, seed = st->tabrandSeed, wmidx = st->wmidx, wmileft = st->wmileft;
  const int row0 = prevBase < 0;

  corr[0] = row0 ? 0 : corr[1];

  int x = 0, left = width;
  while (left > 0) {
    const int widen = wmidx < DEF_WMIMAX && wmileft <= left;
    const int end = x + (widen ? wmileft : left);
    const u32 waitmask = (1u << wmidx) - 1;
    const int trigger = WM_TRIGGER[wmidx];
    int i = x;
    int stopidx = i + waitcnt;
    int runIndex = 0;
    int endedByRun = 0;
    int a = i > 0 ? plane[base + i - 1] : row0 ? 0 : plane[prevBase];

    while (i < end) {
      int p = a;
      if (!row0) {
        const int up = plane[prevBase + i];
        if (i > 2 && runIndex != i && plane[prevBase + i - 1] == up && plane[base + i - 1] == plane[base + i - 2]) {
          waitcnt = stopidx - i;
          runIndex = i;
          SAVE_READER();
          int run = decodeRun(s, st, end - i);
          if (run < 0) return -run;
          LOAD_READER();
          u8 *o = plane + base + i;
          for (int k = 0; k < run; k++) o[k] = (u8)a;
          i += run;
          if (i == end) {
            endedByRun = 1;
            break;
          }
          stopidx = i + waitcnt;
          continue;
        }
        p = (a + up) >> 1;
      }

      int k = corr[i];
      DECODE_CHANNEL(k, best, corr, a, p);
      plane[base + i] = (u8)a;

      if (i == stopidx) {
        updateModel(ch, f, f->bucketOf[corr[i]], corr[i + 1], trigger);
        i++;
        seed = (seed + 1) & 0xff;
        stopidx = i + (int)(TABRAND_CHAOS[seed] & waitmask);
      } else {
        i++;
      }
    }
    if (!endedByRun) waitcnt = stopidx - end;

    const int n = end - x;
    left -= n;
    x = end;
    if (widen) {
      wmidx++;
      wmileft = DEF_WMINEXT;
    } else if (wmidx < DEF_WMIMAX) {
      wmileft -= n;
    }
  }

  SAVE_READER();
  st->waitcnt = waitcnt;
  st->tabrandSeed = seed;
  st->wmidx = wmidx;
  st->wmileft = wmileft;
  return 0;
}

/* Compiled four times: 8 or 5 bits per channel, row 0 (no row above) or not. */
static __attribute__((noinline)) int rgbRow8(u32 *out, int base, int prevBase, int width) {
  return prevBase < 0 ? rgbRow(&fam8, 0, 1, out, base, prevBase, width) : rgbRow(&fam8, 0, 0, out, base, prevBase, width);
}
static __attribute__((noinline)) int rgbRow5(u32 *out, int base, int prevBase, int width) {
  return prevBase < 0 ? rgbRow(&fam5, 1, 1, out, base, prevBase, width) : rgbRow(&fam5, 1, 0, out, base, prevBase, width);
}

static u32 alignUp(u32 v) { return (v + 15u) & ~15u; }

/**
 * Lays out input, output and scratch for one image and grows memory to fit.
 * Returns the address to copy the stream's inBytes to, or 0 if memory cannot grow.
 */
__attribute__((export_name("quic_prepare"))) u32 quic_prepare(u32 inBytes, u32 width, u32 height, u32 type) {
  if (!famReady) {
    buildFamily(&fam8, 8);
    buildFamily(&fam5, 5);
    famReady = 1;
  }
  unsigned long long px = (unsigned long long)width * height;
  unsigned long long p = alignUp((u32)(unsigned long)&__heap_base);
  unsigned long long in = p;
  p += ((unsigned long long)inBytes + 15u) & ~15ull;
  unsigned long long out = p;
  p += px * 4 + 16;
  unsigned long long plane = p;
  if (type == TYPE_GRAY || type == TYPE_RGBA) p += (px + 15u) & ~15ull;
  unsigned long long corr = p;
  p += 4ull * (((unsigned long long)width + 1 + 15u) & ~15ull);
  if (p > 0xffff0000ull) return 0;
  unsigned long long have = (unsigned long long)__builtin_wasm_memory_size(0) * 65536ull;
  if (p > have) {
    unsigned long long pages = (p - have + 65535ull) / 65536ull;
    if (__builtin_wasm_memory_grow(0, (unsigned long)pages) == (unsigned long)-1) return 0;
  }
  gType = type;
  gWidth = width;
  gHeight = height;
  gInBytes = inBytes;
  gIn = (u8 *)(unsigned long)in;
  gOut = (u32 *)(unsigned long)out;
  gPlane = (u8 *)(unsigned long)plane;
  gCorr = (u8 *)(unsigned long)corr;
  return (u32)in;
}

__attribute__((export_name("quic_output"))) u32 quic_output(void) { return (u32)(unsigned long)gOut; }

/** Decodes the prepared stream into quic_output(); 0 or QUIC_ERR_*. */
__attribute__((export_name("quic_decode"))) int quic_decode(void) {
  if (!gIn || gType < TYPE_GRAY || gType > TYPE_RGBA || gWidth == 0 || gHeight == 0) return QUIC_ERR_STATE;
  const int width = (int)gWidth, height = (int)gHeight;
  const u32 nwords = gInBytes >> 2;
  if (nwords < 6) return QUIC_ERR_TRUNCATED;
  const u32 *words = (const u32 *)gIn;
  rd.words = words;
  rd.nwords = nwords;
  rd.word = words[5];
  rd.next = words[5];
  rd.avail = 0;
  rd.pos = 6;
  const u32 cstride = ((u32)width + 1 + 15u) & ~15u;
  const Family *f = gType == TYPE_RGB16 ? &fam5 : &fam8;
  const u32 px = (u32)width * (u32)height;
  int err = 0;

  if (gType == TYPE_GRAY) {
    initState(&stA);
    initChannel(&chA, f, gCorr);
    for (int y = 0, base = 0; y < height; y++, base += width) {
      if ((err = oneRow(&stA, &chA, gPlane, base, base - width, width))) return err;
    }
    for (u32 k = 0; k < px; k++) gOut[k] = 0xff000000u | ((u32)gPlane[k] * 0x010101u);
    return 0;
  }

  initState(&stRgb);
  initChannel(&chR, f, gCorr);
  initChannel(&chG, f, gCorr + cstride);
  initChannel(&chB, f, gCorr + 2 * cstride);
  if (gType != TYPE_RGBA) {
    for (int y = 0, base = 0; y < height; y++, base += width) {
      err = gType == TYPE_RGB16 ? rgbRow5(gOut, base, base - width, width) : rgbRow8(gOut, base, base - width, width);
      if (err) return err;
    }
    return 0;
  }

  initState(&stA);
  initChannel(&chA, f, gCorr + 3 * cstride);
  for (int y = 0, base = 0; y < height; y++, base += width) {
    if ((err = rgbRow8(gOut, base, base - width, width))) return err;
    if ((err = oneRow(&stA, &chA, gPlane, base, base - width, width))) return err;
  }
  for (u32 k = 0; k < px; k++) gOut[k] = (gOut[k] & 0xffffffu) | ((u32)gPlane[k] << 24);
  return 0;
}
