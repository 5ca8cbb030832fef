// The SPICE constants live in preload/spice-enums.ts, shared with the renderer's
// display pipeline; the engine keeps importing them through this path.
export * from '../../../preload/spice-enums';
