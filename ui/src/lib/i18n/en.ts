import type { Dictionary } from './types';

/**
 * English: the reference dictionary. Its keys define `MessageKey`; every other locale must have
 * exactly the same keys (checked by the type of `es` and by `dictionaries.test.ts`).
 */
export const en = {
  'app.name': 'Charla',
  'app.tagline': 'Chat freely, on any XMPP server.',
  'app.starting': 'Starting…',
  'app.startFailed': 'Charla could not start.',
  'app.retry': 'Try again',

  'language.label': 'Language',
  'language.system': 'System default',

  'login.title': 'Log in',
  'login.jid': 'XMPP address',
  'login.jid.placeholder': 'you@example.org',
  'login.password': 'Password',
  'login.remember': 'Remember me',
  'login.remember.hint': 'Keeps your address and server, never your password.',
  'login.advanced': 'Advanced',
  'login.host': 'Server host',
  'login.host.placeholder': 'Found automatically',
  'login.port': 'Port',
  'login.port.placeholder': '5222',
  'login.submit': 'Log in',
  'login.connecting': 'Connecting…',
  'login.error.jidRequired': 'Enter your XMPP address.',
  'login.error.jidInvalid': 'An XMPP address looks like name@server.',
  'login.error.passwordRequired': 'Enter your password.',
  'login.error.portInvalid': 'The port must be a number from 1 to 65535.',
  'login.errorSummary': {
    one: 'Please correct {count} field.',
    other: 'Please correct {count} fields.',
  },
  'login.demo.title': 'Demo accounts',
  'login.demo.hint': 'Local test server {domain}: log in with one click.',
  'login.demo.as': 'Log in as {jid}',

  'error.invalidJid': 'This XMPP address is not valid.',
  'error.invalidInput': 'Charla could not use what was entered.',
  'error.authFailed': 'Wrong address or password.',
  'error.authMechanism': 'The server offers no login method Charla trusts.',
  'error.tlsCertificate':
    'The server’s certificate is not trusted, so Charla did not connect. Your password was not sent.',
  'error.tls': 'A secure connection to the server could not be set up.',
  'error.unreachable': 'The server could not be reached. Check the address and your network.',
  'error.timeout': 'The server took too long to answer.',
  'error.streamError': 'The server closed the connection.',
  'error.protocol': 'The server sent something Charla did not understand.',
  'error.notConnected': 'You are not connected.',
  'error.unknownAccount': 'This account is no longer logged in.',
  'error.diskFull': 'The disk is full: Charla could not save your messages.',
  'error.store': 'Charla could not read or save its data.',
  'error.unknown': 'Something went wrong.',
  'notice.dismiss': 'Dismiss',

  'presence.chat': 'Free to chat',
  'presence.available': 'Available',
  'presence.away': 'Away',
  'presence.xa': 'Not available',
  'presence.dnd': 'Do not disturb',
  'presence.offline': 'Offline',

  'own.presence': 'Your availability',
  'own.status': 'Status message',
  'own.status.placeholder': 'What are you up to?',
  'own.status.hint': 'Press Enter to apply.',

  'roster.label': 'Contacts',
  'roster.filter': 'Filter contacts',
  'roster.filter.placeholder': 'Filter contacts',
  'roster.noGroup': 'Contacts',
  'roster.groupCount': '{online}/{total}',
  'roster.groupSummary': {
    one: '{online} of {count} contact online',
    other: '{online} of {count} contacts online',
  },
  'roster.empty': 'No contacts yet.',
  'roster.noMatches': 'No contacts match.',
  'roster.awaiting': 'Awaiting authorization',
  'roster.loading': 'Loading contacts…',

  'unread.count': {
    one: '{count} unread message',
    other: '{count} unread messages',
  },

  'chats.label': 'Open chats',
  'chats.close': 'Close chat with {name}',
  'chats.none': 'Pick a contact to start chatting.',
  'chats.shortcuts': 'Ctrl+K: go to a chat · Ctrl+Tab: next chat',

  'chat.messages': 'Messages with {name}',
  'chat.loading': 'Loading messages…',
  'chat.loadingOlder': 'Loading older messages…',
  'chat.start': 'This is the beginning of your conversation with {name}.',
  'chat.empty': 'No messages yet. Say hello!',
  'chat.today': 'Today',
  'chat.yesterday': 'Yesterday',
  'chat.you': 'You',
  'chat.composer': 'Message to {name}',
  'chat.composer.placeholder': 'Write a message…',
  'chat.composer.hint': 'Enter to send, Shift+Enter for a new line',
  'chat.send': 'Send',
  'chat.popOut': 'Open in its own window',
  'chat.link': 'Opens in your browser: {url}',
  'chat.jumpToLatest': 'Jump to latest',

  'state.pending': 'Sending…',
  'state.sent': 'Sent',
  'state.delivered': 'Delivered',
  'state.displayed': 'Read',
  'state.failed': 'Not sent',
  'state.failedReason': 'Not sent: {reason}',

  'banner.offline': 'You are offline.',
  'banner.goOnline': 'Go online',
  'banner.connecting': 'Connecting…',
  'banner.reconnectingNow': 'Connection lost. Reconnecting…',
  'banner.reconnectingIn': {
    one: 'Connection lost. Reconnecting in {count} second…',
    other: 'Connection lost. Reconnecting in {count} seconds…',
  },

  'switcher.title': 'Go to a chat',
  'switcher.placeholder': 'Type a name or address',
  'switcher.empty': 'No contacts match.',
  'switcher.hint': '↑ ↓ to choose · Enter to open · Esc to close',

  'settings.open': 'Settings',
  'settings.title': 'Settings',
  'settings.closeToTray': 'Keep running in the tray when the window is closed',
  'settings.notifications': 'Show notifications for new messages',
  'settings.readMarkers': 'Let contacts know when I have read their messages',
  'settings.logout': 'Log out',
  'settings.loggedInAs': 'Logged in as {jid}',
  'settings.version': 'Charla {version}',
  'settings.close': 'Close',
} as const satisfies Dictionary;

export type MessageKey = keyof typeof en;
