import { nativeStatus } from '../../lib/native.js';
import type { BackendName } from '../../lib/artifact.js';

/**
 * The backends the shared suites run against. js always; native when the addon loaded. In
 * CI (CI=true) the addon must load: a missing addon there is a failure, not a skip.
 * FUNCKEY_BACKEND=js restricts the suites to js.
 */
export const NATIVE = nativeStatus();
export const BACKENDS: BackendName[] =
  process.env.FUNCKEY_BACKEND === 'js' ? ['js'] : NATIVE.available ? ['js', 'native'] : ['js'];
