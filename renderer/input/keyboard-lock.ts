// Keyboard grab in full screen: while the guest screen has the keyboard and
// the window is full screen, the Keyboard Lock API hands the guest the keys
// the OS and the browser keep otherwise (Alt+Tab, Super, Esc, Ctrl+W). The
// same call works in Electron and in Chromium; elsewhere it is absent and
// nothing changes. A long press of Esc still leaves full screen (Chromium's).

interface KeyboardLockApi {
  lock(keys?: string[]): Promise<void>;
  unlock(): void;
}

export class KeyboardLock {
  /** The lock is held (lock() resolved and not released since). */
  locked = false;
  /** Why the last lock() failed, if it did. */
  error = '';
  private wanted = false;

  constructor(private readonly api: KeyboardLockApi | undefined) {}

  set(on: boolean): void {
    if (on === this.wanted || !this.api) return;
    this.wanted = on;
    if (!on) {
      this.api.unlock();
      this.locked = false;
      return;
    }
    this.api.lock().then(
      () => {
        // released meanwhile: the later unlock() ran before this resolved
        if (this.wanted) this.locked = true;
        else this.api!.unlock();
      },
      (e: unknown) => {
        this.error = (e as Error).message;
        this.wanted = false;
      },
    );
  }
}
