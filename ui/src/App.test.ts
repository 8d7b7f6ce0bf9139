import { render } from 'svelte/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import App from './App.svelte';
import { DICTIONARIES, LOCALES } from '$lib/i18n';
import { AppStore } from '$lib/stores/app.svelte';
import { now } from '$lib/stores/clock.svelte';
import { i18n } from '$lib/stores/locale.svelte';
import { FakeBackend, appInfo, defaultSettings } from '$lib/testing/backend';
import { flush, useFakeTime } from '$lib/testing/time';
import { contact, message } from '$lib/testing/fixtures';

useFakeTime();

// "Today" is the fake clock's day, not the day the tests run.
beforeEach(() => {
  now.value = Date.now();
});
afterEach(() => i18n.connect([]));

const SHOWN = [
  'app.name',
  'app.tagline',
  'login.title',
  'login.jid',
  'login.password',
  'login.remember',
  'login.advanced',
  'login.host',
  'login.port',
  'login.submit',
  'language.label',
] as const;

/** Attribute values of every element with the test id. */
function testIds(body: string, id: string): string[] {
  return [...body.matchAll(new RegExp(`<[^>]*data-testid="${id}"[^>]*>`, 'g'))].map((m) => m[0]);
}

function attr(tag: string, name: string): string | undefined {
  return new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];
}

async function started(info = appInfo()) {
  const backend = new FakeBackend();
  backend.info = info;
  const app = new AppStore(backend);
  await app.start();
  return { app, backend };
}

describe.each(LOCALES)('login screen in %s', (locale) => {
  it('renders from the dictionary', async () => {
    i18n.connect([locale]);
    const { app } = await started();
    const { body } = render(App, { props: { app } });
    const dictionary = DICTIONARIES[locale];
    for (const key of SHOWN) {
      const message = dictionary[key];
      expect(typeof message).toBe('string');
      expect(body, key).toContain(String(message).replace(/&/g, '&amp;'));
    }
    // No raw message key leaked into the page.
    expect(body).not.toMatch(/\b(app|login|language|error)\.[a-z]/);
    for (const id of ['login-jid', 'login-password', 'login-remember', 'login-submit', 'language-select']) {
      expect(testIds(body, id), id).toHaveLength(1);
    }
  });
});

describe('login screen', () => {
  it('offers the sandbox demo accounts and prefills the preselected one', async () => {
    const { app } = await started(
      appInfo({
        sandbox: {
          domain: 'sandbox.test',
          accounts: [
            { jid: 'alice@sandbox.test', password: 'a' },
            { jid: 'bob@sandbox.test', password: 'b' },
          ],
          preselect: 'bob@sandbox.test',
        },
      }),
    );
    const { body } = render(App, { props: { app } });
    expect(testIds(body, 'demo-account').map((tag) => attr(tag, 'data-jid'))).toEqual([
      'alice@sandbox.test',
      'bob@sandbox.test',
    ]);
    expect(attr(testIds(body, 'login-jid')[0]!, 'value')).toBe('bob@sandbox.test');
  });

  it('prefills the remembered login', async () => {
    const { app } = await started(
      appInfo({
        settings: {
          ...defaultSettings(),
          accounts: [{ jid: 'me@example.org', host: 'xmpp.example.org', port: 5223, enabled: true, color: null }],
        },
      }),
    );
    const { body } = render(App, { props: { app } });
    expect(attr(testIds(body, 'login-jid')[0]!, 'value')).toBe('me@example.org');
    expect(testIds(body, 'login-remember')[0]).toContain('checked');
    expect(body).toContain('value="xmpp.example.org"');
    expect(body).toContain('value="5223"');
  });

  it.each([
    ['auth_failed', 'Wrong address or password.'],
    ['unreachable', 'The server could not be reached. Check the address and your network.'],
    ['invalid_jid', 'This XMPP address is not valid.'],
    ['tls_certificate', 'The server’s certificate is not trusted'],
    ['something_else', 'Something went wrong.'],
  ])('explains a %s failure', async (code, text) => {
    const { app, backend } = await started();
    backend.loginResult = () => Promise.reject({ code, message: 'technical detail' });
    await app.signIn.login({ jid: 'me@example.org', password: 'x', remember: false, host: null, port: null });
    const { body } = render(App, { props: { app } });
    const [error] = testIds(body, 'login-error');
    expect(attr(error!, 'data-code')).toBe(code === 'something_else' ? 'unknown' : code);
    expect(body).toContain(text);
    expect(body).not.toContain('technical detail');
  });

  it('shows an untrusted certificate with its server, reason and fingerprint', async () => {
    const { app, backend } = await started();
    const certificate = { server: 'example.org', fingerprint: '0A:1B:2C', reason: 'pin_changed' } as const;
    backend.loginResult = () => Promise.reject({ code: 'tls_certificate', message: 'x', certificate });
    await app.signIn.login({ jid: 'me@example.org', password: 'x', remember: false, host: null, port: null });
    const { body } = render(App, { props: { app } });
    expect(testIds(body, 'certificate-dialog')).toHaveLength(1);
    // Rendered as pairs with a line-break opportunity after each colon.
    expect(body.replace(/<!--[^>]*-->|<wbr\s*\/?>/g, '')).toContain('0A:1B:2C');
    expect(attr(testIds(body, 'certificate-reason')[0]!, 'data-reason')).toBe('pin_changed');
    expect(body).toContain('the server’s certificate has changed');
    expect(body).toContain('Trust this certificate');
    app.signIn.cancelCertificate();
    expect(testIds(render(App, { props: { app } }).body, 'certificate-dialog')).toHaveLength(0);
  });

  it('says why the password cannot be remembered', async () => {
    const backend = new FakeBackend();
    backend.resumeResult = () =>
      Promise.resolve({ online: [], failed: [], keyring: { code: 'keyring_locked', message: 'locked' } });
    const app = new AppStore(backend);
    await app.start();
    const { body } = render(App, { props: { app } });
    expect(attr(testIds(body, 'login-keyring')[0]!, 'data-code')).toBe('keyring_locked');
    expect(body).toContain('The system keyring is locked');
    expect(testIds(body, 'login-remember-password')[0]).toContain('disabled');
  });

  it('shows the connecting state while logging in', async () => {
    const { app, backend } = await started();
    backend.loginResult = () => new Promise(() => {});
    void app.signIn.login({ jid: 'me@example.org', password: 'x', remember: false, host: null, port: null });
    const { body } = render(App, { props: { app } });
    expect(testIds(body, 'login-connecting')).toHaveLength(1);
    expect(testIds(body, 'login-submit')[0]).toContain('disabled');
  });
});

describe('main window', () => {
  async function loggedIn() {
    const { app, backend } = await started();
    backend.roster = [
      contact('ann@example.org', 'Ann', ['Friends', 'Work']),
      contact('bob@example.org', '<b>Bob</b>', ['Friends']),
      contact('cy@example.org', null, []),
    ];
    backend.history.set('bob@example.org', [
      message(1, { body: '<img src=x onerror=alert(1)> see https://example.org/a and javascript:alert(2)' }),
      message(2, { direction: 'out', state: 'delivered', sender: 'me@example.org', body: 'hi\nthere' }),
      message(3, { direction: 'out', state: 'failed', error: 'service-unavailable', server_time: null }),
    ]);
    await app.signIn.login({ jid: 'me@example.org', password: 'x', remember: false, host: null, port: null });
    app.dispatch({
      type: 'presence_changed',
      account: 1,
      jid: 'bob@example.org',
      presence: { show: 'away', status: 'at <lunch>', resource: 'r', priority: 0, idle_since: null },
    });
    app.dispatch({ type: 'unread_changed', chat: { account: 1, peer: 'ann@example.org' }, count: 3, total: 3, last: 1 });
    app.chats.open(1, 'ann@example.org');
    app.chats.open(1, 'bob@example.org');
    await flush();
    return { app, backend };
  }

  it('renders the DOM contract', async () => {
    const { app } = await loggedIn();
    const { body } = render(App, { props: { app } });
    for (const id of [
      'own-presence',
      'own-status',
      'contact-filter',
      'chat-header',
      'chat-presence',
      'message-list',
      'composer',
      'send-button',
      'pop-out',
      'language-select',
    ]) {
      expect(testIds(body, id), id).toHaveLength(1);
    }
    expect(testIds(body, 'group-header').map((t) => attr(t, 'data-group'))).toEqual(['Friends', 'Work', 'Contacts']);
    expect(testIds(body, 'contact').map((t) => attr(t, 'data-jid'))).toEqual([
      'bob@example.org',
      'ann@example.org',
      'ann@example.org',
      'cy@example.org',
    ]);
    expect(testIds(body, 'presence-dot').map((t) => attr(t, 'data-show'))).toContain('away');
    expect(testIds(body, 'chat-tab').map((t) => attr(t, 'data-jid'))).toEqual(['ann@example.org', 'bob@example.org']);
    // Ann's unread count: in both of her rows and on her tab.
    expect(testIds(body, 'unread-badge')).toHaveLength(3);
    const messages = testIds(body, 'message');
    expect(messages.map((t) => [attr(t, 'data-id'), attr(t, 'data-direction'), attr(t, 'data-state')])).toEqual([
      ['1', 'in', 'received'],
      ['2', 'out', 'delivered'],
      ['3', 'out', 'failed'],
    ]);
    expect(testIds(body, 'day-separator').length).toBeGreaterThanOrEqual(1);
    expect(testIds(body, 'message-time')).toHaveLength(3);
    expect(testIds(body, 'message-body')).toHaveLength(3);
    expect(body).not.toContain('connection-banner');
  });

  it('puts only the first screenful of a long buddy list in the DOM', async () => {
    const { app, backend } = await started();
    backend.roster = Array.from({ length: 2000 }, (_, i) =>
      contact(`c${String(i).padStart(4, '0')}@example.org`, null, i % 2 ? ['Odd'] : []),
    );
    await app.signIn.login({ jid: 'me@example.org', password: 'x', remember: false, host: null, port: null });
    const { body } = render(App, { props: { app } });
    const shown = testIds(body, 'contact').map((t) => attr(t, 'data-jid'));
    // The first rows (the named group first), and no more than an 800-pixel view and its
    // overscan hold.
    expect(shown.slice(0, 2)).toEqual(['c0001@example.org', 'c0003@example.org']);
    expect(shown.length).toBeGreaterThan(10);
    expect(shown.length).toBeLessThan(60);
    expect(testIds(body, 'group-header').map((t) => attr(t, 'data-group'))).toEqual(['Odd']);
  });

  it('renders names, statuses and messages as text, with only allowed links', async () => {
    const { app } = await loggedIn();
    const { body } = render(App, { props: { app } });
    expect(body).not.toContain('<img');
    expect(body).not.toContain('<b>Bob');
    expect(body).toContain('&lt;img src=x onerror=alert(1)>');
    expect(body).toContain('&lt;b>Bob&lt;/b>');
    expect(body).toContain('at &lt;lunch>');
    const hrefs = [...body.matchAll(/<a [^>]*href="([^"]*)"/g)].map((m) => m[1]);
    expect(hrefs).toEqual(['https://example.org/a']);
    expect(body).not.toMatch(/href="javascript/);
  });

  it('shows send states with translated tooltips', async () => {
    const { app } = await loggedIn();
    i18n.connect(['es']);
    const { body } = render(App, { props: { app } });
    expect(body).toContain('title="Entregado"');
    expect(body).toContain('title="No enviado: service-unavailable"');
  });

  it('shows the connection banner while not online, with a way to reconnect now', async () => {
    const { app, backend } = await loggedIn();
    app.dispatch({ type: 'connection', account: 1, state: { state: 'reconnecting', attempt: 1, retry_in_ms: 5000 } });
    const { body } = render(App, { props: { app } });
    const [banner] = testIds(body, 'connection-banner');
    expect(attr(banner!, 'data-state')).toBe('reconnecting');
    expect(body).toMatch(/Reconnecting in [45] seconds/);
    expect(testIds(body, 'connection-retry')).toHaveLength(1);
    await app.presence.reconnectNow(1);
    expect(backend.called('reconnectNow')).toEqual([[1]]);
    app.dispatch({ type: 'error', account: 1, error: { code: 'auth_failed', message: 'x' } });
    app.dispatch({ type: 'connection', account: 1, state: { state: 'disconnected' } });
    const offline = render(App, { props: { app } }).body;
    expect(offline).toContain('You are offline.');
    expect(offline).toContain('Wrong address or password.');
    expect(testIds(offline, 'notice')).toEqual([]);
  });

  it('renders the main window in Spanish without leaking keys', async () => {
    const { app } = await loggedIn();
    i18n.connect(['es']);
    const { body } = render(App, { props: { app } });
    expect(body).toContain('data-group="Contactos"');
    expect(body).toContain('3 mensajes sin leer');
    expect(body).not.toMatch(/\b(app|login|language|error|chat|chats|roster|presence|state|own|banner|settings|unread)\.[a-z]/);
  });
});

describe('pop-out window', () => {
  it('renders only the chat', async () => {
    const { app } = await started(appInfo({ popped_out: { account: 1, peer: 'bob@example.org' } }));
    const { body } = render(App, { props: { app } });
    expect(testIds(body, 'chat-header')).toHaveLength(1);
    expect(testIds(body, 'composer')).toHaveLength(1);
    expect(testIds(body, 'pop-out')).toHaveLength(0);
    expect(testIds(body, 'contact')).toHaveLength(0);
  });
});
