// Guest cursor: turns SPICE cursor shapes into RGBA and shows them — as a
// CSS cursor over the screen in client mouse mode (no lag), or as an overlay
// canvas at the guest's pointer position in server mode (pointer locked).
import type { CursorCommand, CursorShape } from '../../preload/contract';

const CursorType = { ALPHA: 0, MONO: 1, COLOR32: 6 } as const;
/** Chromium ignores CSS cursors larger than this. */
const MAX_CSS_CURSOR = 128;

/** Cursor shape → straight-alpha RGBA bytes, or null for types we do not draw. */
export function cursorToRgba(shape: CursorShape): Uint8ClampedArray<ArrayBuffer> | null {
  const { width: w, height: h, data } = shape;
  if (w <= 0 || h <= 0 || w > 512 || h > 512) return null;
  const out = new Uint8ClampedArray(w * h * 4);
  const maskStride = (w + 7) >> 3;
  const bit = (buf: Uint8Array, off: number, x: number, y: number): number => (buf[off + y * maskStride + (x >> 3)] >> (7 - (x & 7))) & 1;
  if (shape.type === CursorType.ALPHA) {
    // B,G,R,A bytes per pixel (0xAARRGGBB little-endian).
    if (data.length < w * h * 4) return null;
    for (let i = 0; i < w * h; i++) {
      out[i * 4] = data[i * 4 + 2];
      out[i * 4 + 1] = data[i * 4 + 1];
      out[i * 4 + 2] = data[i * 4];
      out[i * 4 + 3] = data[i * 4 + 3];
    }
    return out;
  }
  if (shape.type === CursorType.MONO) {
    // AND mask then XOR mask, 1 bpp MSB first.
    if (data.length < 2 * maskStride * h) return null;
    const xorOff = maskStride * h;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const and = bit(data, 0, x, y);
        const xor = bit(data, xorOff, x, y);
        const o = (y * w + x) * 4;
        if (and && !xor) continue; // transparent
        // 0/0 black, 0/1 white, 1/1 "invert screen": drawn black (no XOR in CSS).
        const v = !and && xor ? 255 : 0;
        out[o] = out[o + 1] = out[o + 2] = v;
        out[o + 3] = 255;
      }
    }
    return out;
  }
  if (shape.type === CursorType.COLOR32) {
    // xRGB pixels then an AND mask (1 = transparent).
    if (data.length < w * h * 4 + maskStride * h) return null;
    const andOff = w * h * 4;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        if (bit(data, andOff, x, y)) continue;
        out[i * 4] = data[i * 4 + 2];
        out[i * 4 + 1] = data[i * 4 + 1];
        out[i * 4 + 2] = data[i * 4];
        out[i * 4 + 3] = 255;
      }
    }
    return out;
  }
  return null;
}

interface Shown {
  shape: CursorShape;
  canvas: HTMLCanvasElement;
  css: string;
}

export class GuestCursor {
  private shown: Shown | null = null;
  private visible = true;
  private pos = { x: 0, y: 0 };
  private mode: 'client' | 'server' = 'client';
  private locked = false;

  constructor(
    private readonly screen: HTMLCanvasElement,
    private readonly overlay: HTMLCanvasElement,
  ) {
    this.render();
  }

  setMode(mode: 'client' | 'server', pointerLocked: boolean): void {
    this.mode = mode;
    this.locked = pointerLocked;
    this.render();
  }

  apply(cmds: CursorCommand[]): void {
    for (const c of cmds) {
      switch (c.t) {
        case 'set':
          this.pos = c.pos;
          this.visible = c.visible;
          if (c.shape) this.shown = this.build(c.shape);
          break;
        case 'move':
          this.pos = c.pos;
          break;
        case 'hide':
          this.visible = false;
          break;
        case 'reset':
          this.shown = null;
          this.visible = true;
          break;
        case 'invalOne':
          if (this.shown && this.shown.shape.unique === c.id) this.shown = null;
          break;
        case 'invalAll':
        case 'trail':
          break;
      }
    }
    this.render();
  }

  private build(shape: CursorShape): Shown | null {
    const rgba = cursorToRgba(shape);
    if (!rgba) return null;
    const canvas = this.overlay.ownerDocument.createElement('canvas');
    canvas.width = shape.width;
    canvas.height = shape.height;
    canvas.getContext('2d')?.putImageData(new ImageData(rgba, shape.width, shape.height), 0, 0);
    const css =
      shape.width <= MAX_CSS_CURSOR && shape.height <= MAX_CSS_CURSOR
        ? `url(${canvas.toDataURL('image/png')}) ${Math.min(shape.hotX, shape.width - 1)} ${Math.min(shape.hotY, shape.height - 1)}, default`
        : 'default';
    return { shape, canvas, css };
  }

  private render(): void {
    const useOverlay = this.mode === 'server' || (this.shown !== null && this.shown.css === 'default');
    if (!this.visible) {
      this.screen.style.cursor = 'none';
      this.overlay.hidden = true;
      return;
    }
    if (!this.shown) {
      this.screen.style.cursor = this.mode === 'server' && this.locked ? 'none' : 'default';
      this.overlay.hidden = true;
      return;
    }
    if (!useOverlay) {
      this.screen.style.cursor = this.shown.css;
      this.overlay.hidden = true;
      return;
    }
    // Server mode: the guest owns the pointer position.
    this.screen.style.cursor = 'none';
    const { shape, canvas } = this.shown;
    this.overlay.width = shape.width;
    this.overlay.height = shape.height;
    this.overlay.getContext('2d')?.drawImage(canvas, 0, 0);
    const sx = this.screen.width ? this.screen.clientWidth / this.screen.width : 1;
    const sy = this.screen.height ? this.screen.clientHeight / this.screen.height : 1;
    this.overlay.style.left = `${this.screen.offsetLeft + (this.pos.x - shape.hotX) * sx}px`;
    this.overlay.style.top = `${this.screen.offsetTop + (this.pos.y - shape.hotY) * sy}px`;
    this.overlay.hidden = false;
  }
}
