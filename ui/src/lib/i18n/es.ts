import type { MessageKey } from './en';
import type { Message } from './types';

/**
 * Spanish. Typed as a record over `MessageKey`, so a missing or extra key fails `npm run check`.
 * CLDR gives Spanish the categories one / many / other; `many` (e.g. 1 000 000) falls back to other.
 */
export const es: Readonly<Record<MessageKey, Message>> = {
  'app.name': 'Charla',
  'app.tagline': 'Chatea con libertad, en cualquier servidor XMPP.',

  'language.label': 'Idioma',
  'language.system': 'Predeterminado del sistema',

  'login.title': 'Iniciar sesión',
  'login.jid': 'Dirección XMPP',
  'login.jid.placeholder': 'tu@ejemplo.org',
  'login.password': 'Contraseña',
  'login.advanced': 'Opciones avanzadas',
  'login.host': 'Servidor',
  'login.host.placeholder': 'Se detecta automáticamente',
  'login.port': 'Puerto',
  'login.port.placeholder': '5222',
  'login.submit': 'Entrar',
  'login.error.jidRequired': 'Escribe tu dirección XMPP.',
  'login.error.jidInvalid': 'Una dirección XMPP tiene la forma nombre@servidor.',
  'login.error.passwordRequired': 'Escribe tu contraseña.',
  'login.error.portInvalid': 'El puerto debe ser un número del 1 al 65535.',
  'login.errorSummary': {
    one: 'Corrige {count} campo.',
    other: 'Corrige {count} campos.',
  },
  'login.notYet': 'Esta versión todavía no puede conectarse.',
};
