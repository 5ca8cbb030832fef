// The display channel's client-side caches: the pixmap cache keyed by image
// descriptor id (CACHE_ME / CACHE_REPLACE_ME / FROM_CACHE / FROM_CACHE_LOSSLESS,
// with spice-gtk's lossy flag) bounded in bytes with least-recently-used
// eviction, and the palette cache behind PaletteLookup.
import type { DecodedImage, PaletteLookup } from './types';

/**
 * spice-gtk IMAGES_CACHE_SIZE_DEFAULT (80 MiB); DISPLAY_INIT announces it as
 * pixmap_cache_size = bytes / 4 pixels, so a server that keeps to its own
 * accounting never makes us evict.
 */
export const DEFAULT_IMAGE_CACHE_BYTES = 80 * 1024 * 1024;

interface Entry {
  image: DecodedImage;
  lossy: boolean;
  bytes: number;
}

export class ImageCache {
  private readonly entries = new Map<bigint, Entry>();
  private bytes = 0;
  /** Entries dropped to stay under maxBytes (a well-behaved server causes none). */
  evictions = 0;

  constructor(readonly maxBytes: number = DEFAULT_IMAGE_CACHE_BYTES) {}

  get size(): number {
    return this.entries.size;
  }
  get totalBytes(): number {
    return this.bytes;
  }

  /** image_put / image_put_lossy: a new id, or overwrite of an existing one. */
  put(id: bigint, image: DecodedImage, lossy = false): void {
    this.remove(id);
    const bytes = image.pixels.byteLength;
    const e: Entry = { image, lossy, bytes };
    this.entries.set(id, e);
    this.bytes += bytes;
    this.evict(id);
  }

  /** image_replace_lossy: the lossless version of a lossy entry (or a fresh entry). */
  replace(id: bigint, image: DecodedImage): void {
    this.put(id, image, false);
  }

  /** FROM_CACHE: any entry, lossy or not. */
  get(id: bigint): DecodedImage | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    this.entries.delete(id); // refresh LRU position
    this.entries.set(id, e);
    return e.image;
  }

  /** FROM_CACHE_LOSSLESS: only an entry that is not lossy. */
  getLossless(id: bigint): DecodedImage | undefined {
    const e = this.entries.get(id);
    if (!e || e.lossy) return undefined;
    return this.get(id);
  }

  isLossy(id: bigint): boolean | undefined {
    return this.entries.get(id)?.lossy;
  }

  remove(id: bigint): boolean {
    const e = this.entries.get(id);
    if (!e) return false;
    this.entries.delete(id);
    this.bytes -= e.bytes;
    return true;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  private evict(keep: bigint): void {
    for (const [id] of this.entries) {
      if (this.bytes <= this.maxBytes) return;
      if (id === keep) continue;
      this.remove(id);
      this.evictions++;
    }
  }
}

/** Palette cache (PAL_CACHE_ME / PAL_FROM_CACHE / INVAL_PALETTE / INVAL_ALL_PALETTES). */
export class PaletteCache implements PaletteLookup {
  private readonly map = new Map<bigint, Uint32Array>();
  get(id: bigint): Uint32Array | undefined {
    return this.map.get(id);
  }
  put(id: bigint, ents: Uint32Array): void {
    this.map.set(id, ents);
  }
  remove(id: bigint): boolean {
    return this.map.delete(id);
  }
  clear(): void {
    this.map.clear();
  }
  get size(): number {
    return this.map.size;
  }
}
