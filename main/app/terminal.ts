// What both shells (main/electron.ts, main/web.ts) print on the terminal: the
// launch plan's output, remote-viewer's warnings and debug lines, the engine
// logger (-v/--debug), the session's progress and failures, and why a kiosk
// session ended.
import type { SessionStatus } from '../../preload/contract';
import { formatStatus } from '../../preload/status-text';
import type { Logger } from '../spice/channels/base-channel';
import type { LaunchPlan } from './launch';
import type { EndedInfo } from './session-controller';

export interface Terminal {
  out(text: string): void;
  err(text: string): void;
}

export const processTerminal: Terminal = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

/** --help/--version/errors: prints what the plan says (the caller exits with plan.code). */
export function printExitPlan(plan: Extract<LaunchPlan, { kind: 'exit' }>, term: Terminal = processTerminal, helpExtra = ''): void {
  if (plan.stdout) term.out(helpExtra && plan.stdout.startsWith('Usage:') ? plan.stdout + helpExtra : plan.stdout);
  if (plan.stderr) term.err(plan.stderr);
}

/** Prints the plan's warnings (and debug lines with --debug); returns the engine's logger for -v/--debug. */
export function announcePlan(plan: Extract<LaunchPlan, { kind: 'run' }>, term: Terminal = processTerminal): Logger {
  const { ui } = plan.config;
  for (const w of plan.warnings) term.err(`Warning: ${w}\n`);
  if (ui.debug) for (const d of plan.debug) term.err(`debug: ${d}\n`);
  const debug = ui.debug || ui.spiceDebug;
  const verbose = ui.verbose || debug;
  return {
    debug: (m) => debug && term.err(`debug: ${m}\n`),
    info: (m) => verbose && term.err(`${m}\n`),
    warn: (m) => verbose && term.err(`warning: ${m}\n`),
    // remote-viewer's --spice-debug: every protocol step (links, caps, each message both ways)
    ...(ui.spiceDebug ? { protocol: (m: string) => term.err(`spice: ${m}\n`) } : {}),
  };
}

/** The kiosk session ended (--kiosk-quit=on-disconnect). */
export function endedText(info: EndedInfo): string {
  return `session ended${info.error ? `: ${info.error.message}` : ''} (--kiosk-quit=on-disconnect)\n`;
}

/**
 * A status listener printing each change of the session's state on stderr
 * (connecting, connected, the failure and the doctor's hint), so a failed
 * connection is seen where the viewer was started, not only in the window.
 */
export function statusPrinter(term: Terminal = processTerminal, prefix = 'spice-viewer: '): (s: SessionStatus) => void {
  let last = '';
  return (s) => {
    if (s.state === 'idle') return;
    const line = formatStatus(s);
    if (line === last) return;
    last = line;
    const hint = s.state === 'disconnected' && s.app?.diagnosis ? `\n${prefix}  ${s.app.diagnosis.summary} ${s.app.diagnosis.hint}`.trimEnd() : '';
    term.err(`${prefix}${line}${hint}\n`);
  };
}

/**
 * A promise nobody observed would end plain Node (and so the web host and every
 * page on it) with exit code 1. Every such path found is fixed at its cause
 * (issue 9); this is the net under what is not found yet: say it, stay up.
 */
export function surviveUnobservedRejections(proc: Pick<NodeJS.Process, 'on'> = process, term: Terminal = processTerminal): void {
  proc.on('unhandledRejection', (reason: unknown) => {
    const what = reason instanceof Error ? `${reason.name}: ${reason.message}${'code' in reason ? ` (${String((reason as { code: unknown }).code)})` : ''}` : String(reason);
    term.err(`spice-viewer: internal error, an unobserved failure (please report it): ${what}\n`);
  });
}
