// Every protocol/engine failure is a SpiceError with a stable code, so the UI
// and tests can react to the code instead of parsing messages.
export type SpiceErrorCode =
  | 'SHORT_READ' // a message ended before a field it must contain
  | 'LIMIT' // a length from the wire exceeds what we accept
  | 'BAD_MAGIC'
  | 'BAD_VERSION'
  | 'BAD_LINK_REPLY'
  | 'LINK_ERROR' // the server answered the link with a SpiceLinkErr
  | 'AUTH_FAILED'
  | 'PROXY_AUTH' // the HTTP proxy wants (other) credentials: 407
  | 'BAD_MESSAGE' // malformed body
  | 'UNKNOWN_MESSAGE'
  | 'PROTOCOL' // a message in a state where it is not allowed
  | 'TRANSPORT' // socket-level failure
  | 'CLOSED' // the peer closed the connection
  | 'TIMEOUT'
  | 'DECODE' // image/codec data is invalid
  | 'CONFIG'
  // guest-agent file transfer results
  | 'CANCELLED' // stopped by the user or in the guest
  | 'AGENT_GONE' // no guest agent (never there, disconnected, or its session agent is not running)
  | 'NO_SPACE' // the guest's disk has too little free space
  | 'DISABLED' // file transfer is turned off (guest agent or server)
  | 'SESSION_LOCKED' // the guest's desktop session is locked
  | 'AGENT_ERROR' // the guest agent failed to save the file
  | 'IO'; // the local source could not be read

export class SpiceError extends Error {
  readonly code: SpiceErrorCode;
  /** SpiceLinkErr value when code is LINK_ERROR / AUTH_FAILED. */
  readonly linkError?: number;
  constructor(code: SpiceErrorCode, message: string, linkError?: number) {
    super(message);
    this.name = 'SpiceError';
    this.code = code;
    if (linkError !== undefined) this.linkError = linkError;
  }
}

export function isSpiceError(e: unknown): e is SpiceError {
  return e instanceof SpiceError;
}
