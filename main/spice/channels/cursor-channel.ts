// Cursor channel: shape, position, visibility, trail and the cursor cache.
// The cache lives here (shapes are small) so the renderer always gets whole shapes.
import { SpiceError } from '../wire/errors';
import * as m from '../messages/cursor';
import { Channel, type Logger } from './base-channel';
import { Channel as ChannelType, CursorFlags, MsgCursor } from '../protocol/enums';
import type { CursorCommand, CursorShape, Point } from '../../../preload/contract';

export const MAX_CURSOR_CACHE = 256;

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
    this.on(MsgCursor.INIT, (_r, msg) => {
      const init = m.decodeCursorInit(msg.body);
      this.setCursor(init.position, init.visible, this.resolve(init.cursor));
      this.sink({ t: 'trail', length: init.trailLength, frequency: init.trailFrequency });
    });
    this.on(MsgCursor.SET, (_r, msg) => {
      const set = m.decodeCursorSet(msg.body);
      this.setCursor(set.position, set.visible, this.resolve(set.cursor));
    });
    this.on(MsgCursor.MOVE, (_r, msg) => {
      this.position = m.decodeCursorMove(msg.body);
      this.sink({ t: 'move', pos: this.position });
    });
    this.on(MsgCursor.HIDE, () => {
      this.visible = false;
      this.sink({ t: 'hide' });
    });
    this.on(MsgCursor.TRAIL, (_r, msg) => this.sink({ t: 'trail', ...m.decodeCursorTrail(msg.body) }));
    this.on(MsgCursor.RESET, () => {
      this.cache.clear();
      this.visible = false;
      this.sink({ t: 'reset' });
    });
    this.on(MsgCursor.INVAL_ONE, (_r, msg) => {
      const id = m.decodeCursorInvalOne(msg.body);
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

  /** The whole shape of a decoded cursor: from the cache, or copied out of the message (and cached if asked). */
  private resolve({ flags, shape }: m.WireCursor): CursorShape | null {
    if (!shape) return null;
    if (flags & CursorFlags.FROM_CACHE) {
      const cached = this.cache.get(shape.unique);
      if (!cached) throw new SpiceError('PROTOCOL', `cursor ${shape.unique} not in cache`);
      return cached;
    }
    const own = { ...shape, data: shape.data.slice() };
    if (flags & CursorFlags.CACHE_ME) {
      if (this.cache.size >= MAX_CURSOR_CACHE) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(own.unique, own);
    }
    return own;
  }

  private setCursor(pos: Point, visible: boolean, shape: CursorShape | null): void {
    this.position = pos;
    this.visible = visible && shape !== null;
    if (shape) this.shape = shape;
    this.sink({ t: 'set', pos, visible: this.visible, shape });
  }
}
