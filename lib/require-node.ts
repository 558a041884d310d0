// Imported first by every entry point, so the check runs before anything else loads.
import { requireSupportedNode } from './runtime.js';

requireSupportedNode();
