// What playback and record share: the guest's volume and mute (AudioVolume,
// AudioMute), kept and told to the app the same way on both.
import * as m from '../messages/sound';
import { Channel } from './base-channel';

export type VolumeEvent = { t: 'volume'; volume: number[] } | { t: 'mute'; mute: boolean };

export abstract class SoundChannel extends Channel {
  /** The guest's volume per channel (0..65535) and mute, as last sent. */
  volume: number[] = [];
  mute = false;

  protected onVolumeAndMute(volumeType: number, muteType: number, sink: (ev: VolumeEvent) => void): void {
    this.on(volumeType, (_r, msg) => {
      this.volume = m.decodeAudioVolume(msg.body);
      sink({ t: 'volume', volume: this.volume });
    });
    this.on(muteType, (_r, msg) => {
      this.mute = m.decodeAudioMute(msg.body);
      sink({ t: 'mute', mute: this.mute });
    });
  }
}
