// Entry point of the agent workspace page (/agent/index.html). No inline scripts: the page's CSP
// allows only same-origin modules.
import { startWorkspace } from './workspace.js';

startWorkspace(document);
