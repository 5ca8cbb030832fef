// Message names for --spice-debug's protocol trace, from the spec's enums:
// the common range (< 100) then each channel's own (101+, the port channel's 201+).
import * as E from './enums';

type Table = Readonly<Record<string, number>>;

const SERVER: Record<number, Table[]> = {
  [E.Channel.MAIN]: [E.MsgMain],
  [E.Channel.DISPLAY]: [E.MsgDisplay],
  [E.Channel.INPUTS]: [E.MsgInputs],
  [E.Channel.CURSOR]: [E.MsgCursor],
  [E.Channel.PLAYBACK]: [E.MsgPlayback],
  [E.Channel.RECORD]: [E.MsgRecord],
  [E.Channel.SMARTCARD]: [E.MsgSpicevmc],
  [E.Channel.USBREDIR]: [E.MsgSpicevmc],
  [E.Channel.PORT]: [E.MsgSpicevmc, E.MsgPort],
  [E.Channel.WEBDAV]: [E.MsgSpicevmc, E.MsgPort],
};

const CLIENT: Record<number, Table[]> = {
  [E.Channel.MAIN]: [E.MsgcMain],
  [E.Channel.DISPLAY]: [E.MsgcDisplay],
  [E.Channel.INPUTS]: [E.MsgcInputs],
  [E.Channel.RECORD]: [E.MsgcRecord],
  [E.Channel.SMARTCARD]: [E.MsgcSpicevmc],
  [E.Channel.USBREDIR]: [E.MsgcSpicevmc],
  [E.Channel.PORT]: [E.MsgcSpicevmc, E.MsgcPortEvent],
  [E.Channel.WEBDAV]: [E.MsgcSpicevmc, E.MsgcPortEvent],
};

const invert = (tables: Table[]): Map<number, string> => {
  const m = new Map<number, string>();
  for (const t of tables) for (const [k, v] of Object.entries(t)) if (!m.has(v)) m.set(v, k);
  return m;
};
const cache = new Map<string, Map<number, string>>();

/** SPICE_MSG(C)_* name of `type` on a channel ('in': server → client), or its number when unknown. */
export function messageName(channelType: number, type: number, dir: 'in' | 'out'): string {
  const key = `${dir}:${channelType}`;
  let names = cache.get(key);
  if (!names) {
    names = invert([dir === 'in' ? E.Msg : E.Msgc, ...((dir === 'in' ? SERVER : CLIENT)[channelType] ?? [])]);
    cache.set(key, names);
  }
  return names.get(type) ?? String(type);
}
