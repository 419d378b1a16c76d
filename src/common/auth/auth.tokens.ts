/** DI token for the security namespace, so guards need no ConfigService plumbing. */
export const SECURITY_CONFIG = Symbol('SECURITY_CONFIG');
