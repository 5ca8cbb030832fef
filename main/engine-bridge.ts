// Placeholder until the session engine lands: the object main exposes to a
// renderer (through Electron's preload or the web host's ws bridge).
import type { ViewerApi } from '../preload/contract';

export function createEngineBridge(): ViewerApi {
  throw new Error('engine bridge not implemented yet');
}
