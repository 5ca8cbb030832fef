// A session status in one line of words: the page's status line
// (renderer/ui/status.ts) and the terminal (main/app/terminal.ts) say the same.
import type { SessionStatus } from './contract';

export function formatStatus(s: SessionStatus): string {
  const msg = s.message?.trim() ?? '';
  switch (s.state) {
    case 'idle':
      return msg ? `idle: ${msg}` : 'idle: not connected';
    case 'connecting':
      return msg ? `connecting: ${msg}` : 'connecting…';
    case 'connected': {
      const who = s.name || s.uuid || msg;
      return who ? `connected to ${who}` : 'connected';
    }
    case 'disconnected':
      return msg ? `disconnected: ${msg}${s.code ? ` (${s.code})` : ''}` : 'disconnected';
    default:
      return msg;
  }
}
