import type { Dictionary } from './types';

/**
 * English: the reference dictionary. Its keys define `MessageKey`; every other locale must have
 * exactly the same keys (checked by the type of `es` and by `dictionaries.test.ts`).
 */
export const en = {
  'app.name': 'Charla',
  'app.tagline': 'Chat freely, on any XMPP server.',

  'language.label': 'Language',
  'language.system': 'System default',

  'login.title': 'Log in',
  'login.jid': 'XMPP address',
  'login.jid.placeholder': 'you@example.org',
  'login.password': 'Password',
  'login.advanced': 'Advanced',
  'login.host': 'Server host',
  'login.host.placeholder': 'Found automatically',
  'login.port': 'Port',
  'login.port.placeholder': '5222',
  'login.submit': 'Log in',
  'login.error.jidRequired': 'Enter your XMPP address.',
  'login.error.jidInvalid': 'An XMPP address looks like name@server.',
  'login.error.passwordRequired': 'Enter your password.',
  'login.error.portInvalid': 'The port must be a number from 1 to 65535.',
  'login.errorSummary': {
    one: 'Please correct {count} field.',
    other: 'Please correct {count} fields.',
  },
  'login.notYet': 'Connecting is not available yet in this build.',
} as const satisfies Dictionary;

export type MessageKey = keyof typeof en;
