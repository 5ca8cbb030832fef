// SpiceError lives in preload/spice-errors.ts, shared with the renderer's display
// pipeline (decoders throw it too); the engine keeps importing it through this path.
export * from '../../../preload/spice-errors';
