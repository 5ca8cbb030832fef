// Cursor channel: shape, position, visibility, trail and the cursor cache.
// The cache lives here (shapes are small) so the renderer always gets whole shapes.
import type { ByteReader } from '../wire/byte-reader';
import { SpiceError } from '../wire/errors';
import { Channel, type Logger } from './base-channel';
import { Channel as ChannelType, CursorFlags, MsgCursor } from '../protocol/enums';
import type { CursorCommand, CursorShape, Point } from '../../../preload/contract';

export const MAX_CURSOR_CACHE = 256;
export const MAX_CURSOR_SIDE = 1024;

export class CursorChannel extends Channel {
  private readonly cache = new Map<bigint, CursorShape>();
  position: Point = { x: 0, y: 0 };
  visible = false;
  shape: CursorShape | null = null;

  constructor(
    id: number,
    log: Logger,
    private readonly sink: (cmd: CursorCommand) => void,
  ) {
    super(ChannelType.CURSOR, id, log);
    this.on(MsgCursor.INIT, (r) => {
      const pos = this.readPos(r);
      const length = r.u16('trail_length');
      const frequency = r.u16('trail_frequency');
      const visible = r.u8('visible') !== 0;
      this.setCursor(pos, visible, this.readCursor(r));
      this.sink({ t: 'trail', length, frequency });
    });
    this.on(MsgCursor.SET, (r) => {
      const pos = this.readPos(r);
      const visible = r.u8('visible') !== 0;
      this.setCursor(pos, visible, this.readCursor(r));
    });
    this.on(MsgCursor.MOVE, (r) => {
      this.position = this.readPos(r);
      this.sink({ t: 'move', pos: this.position });
    });
    this.on(MsgCursor.HIDE, () => {
      this.visible = false;
      this.sink({ t: 'hide' });
    });
    this.on(MsgCursor.TRAIL, (r) => this.sink({ t: 'trail', length: r.u16('length'), frequency: r.u16('frequency') }));
    this.on(MsgCursor.RESET, () => {
      this.cache.clear();
      this.visible = false;
      this.sink({ t: 'reset' });
    });
    this.on(MsgCursor.INVAL_ONE, (r) => {
      const id = r.u64('id');
      this.cache.delete(id);
      this.sink({ t: 'invalOne', id });
    });
    this.on(MsgCursor.INVAL_ALL, () => {
      this.cache.clear();
      this.sink({ t: 'invalAll' });
    });
  }

  channelCaps(): number[] {
    return [];
  }
  protected onLinked(): void {}

  protected override resetForNewServer(): void {
    this.cache.clear();
    this.sink({ t: 'reset' });
  }

  private readPos(r: ByteReader): Point {
    return { x: r.i16('position.x'), y: r.i16('position.y') };
  }

  /** Cursor {u16 flags; [CursorHeader]; data to end}; null when flags has NONE. */
  private readCursor(r: ByteReader): CursorShape | null {
    const flags = r.u16('cursor flags');
    if (flags & CursorFlags.NONE) return null;
    const unique = r.u64('cursor unique');
    const type = r.u8('cursor type');
    const width = r.u16('cursor width');
    const height = r.u16('cursor height');
    const hotX = r.u16('hot_spot_x');
    const hotY = r.u16('hot_spot_y');
    if (flags & CursorFlags.FROM_CACHE) {
      const cached = this.cache.get(unique);
      if (!cached) throw new SpiceError('PROTOCOL', `cursor ${unique} not in cache`);
      return cached;
    }
    if (width > MAX_CURSOR_SIDE || height > MAX_CURSOR_SIDE) throw new SpiceError('LIMIT', `cursor ${width}x${height} too large`);
    const shape: CursorShape = { unique, type, width, height, hotX, hotY, data: r.rest().slice() };
    if (flags & CursorFlags.CACHE_ME) {
      if (this.cache.size >= MAX_CURSOR_CACHE) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(unique, shape);
    }
    return shape;
  }

  private setCursor(pos: Point, visible: boolean, shape: CursorShape | null): void {
    this.position = pos;
    this.visible = visible && shape !== null;
    if (shape) this.shape = shape;
    this.sink({ t: 'set', pos, visible: this.visible, shape });
  }
}
