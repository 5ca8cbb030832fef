// IPC channel names shared by main/ipc/bridge-ipc.ts and preload/index.ts.
export const IPC_REQUEST = 'spice-viewer:request';
export const IPC_EVENT = 'spice-viewer:event';
