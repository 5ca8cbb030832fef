// The guest-audio mute toggle in the status area: visible while the guest
// plays (or while muted, so it can be undone), aria-pressed when muted.
export class MuteToggle {
  private muted = false;

  constructor(
    private readonly el: HTMLButtonElement,
    onChange: (muted: boolean) => void,
  ) {
    el.addEventListener('click', () => {
      this.muted = !this.muted;
      this.render();
      onChange(this.muted);
    });
  }

  show(playing: boolean): void {
    this.el.hidden = !playing && !this.muted;
  }

  private render(): void {
    this.el.setAttribute('aria-pressed', String(this.muted));
    this.el.textContent = this.muted ? '🔇' : '🔊';
    this.el.title = this.muted ? 'Unmute guest audio' : 'Mute guest audio';
  }
}
