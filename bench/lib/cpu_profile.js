// Reading the CPU profiles DevTools returns (`Profiler.stop`): shared by the capture benchmark,
// which splits a phase's time by recorder, and `bench/capture/profile_summary.js`.

/** @typedef {{ functionName: string, url: string, lineNumber: number }} CallFrame */
/** @typedef {{ id: number, callFrame: CallFrame, children?: number[] }} ProfileNode */
/**
 * @typedef {{ nodes: ProfileNode[], startTime: number, endTime: number, samples: number[], timeDeltas: number[] }} Profile
 */

/**
 * The profile's nodes by ID, and each node's caller (absent for the root).
 * @param {Profile} profile
 * @returns {{ byId: Map<number, ProfileNode>, parent: Map<number, number> }}
 */
export function indexProfile(profile) {
  /** @type {Map<number, ProfileNode>} */
  const byId = new Map();
  /** @type {Map<number, number>} */
  const parent = new Map();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  return { byId, parent };
}

/**
 * The time sample `i` stands for, in ms: until the next sample was taken.
 * @param {Profile} profile
 * @param {number} i
 */
export function sampleMs(profile, i) {
  return (i + 1 < profile.timeDeltas.length ? profile.timeDeltas[i + 1] : 0) / 1000;
}

/**
 * A function as `name /path:line`, without the origin it was served from.
 * @param {CallFrame} frame
 */
export function frameLabel(frame) {
  return `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^https?:\/\/[^/]+/, '')}:${frame.lineNumber + 1}`;
}
