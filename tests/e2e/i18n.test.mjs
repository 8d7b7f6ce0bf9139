// Languages: the language picker switches the whole UI to Spanish (strings checked against the
// Spanish dictionary, ui/src/lib/i18n/es.ts), the choice survives into the main window, and
// "system" follows the system language (LANG).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  App, Sandbox, loadDictionary, loginWithForm, openChat, tid, waitForLoginScreen, waitUntil, withEvidence,
} from './lib/harness.mjs';

const en = loadDictionary('en');
const es = loadDictionary('es');

let sandbox;
let app;

before(async () => {
  sandbox = await Sandbox.start({ name: 'i18n-sandbox' });
  app = await App.start({ sandbox, name: 'i18n-app' });
});

after(async () => {
  await Promise.all([app?.stop(), sandbox?.stop()]);
});

const lang = () => app.execute('return document.documentElement.lang');
const placeholder = async (css) => (await app.waitFor(css)).attribute('placeholder');

test('the dictionaries were read', () => {
  for (const key of ['login.submit', 'chat.composer.placeholder']) {
    assert.equal(typeof en[key], 'string', `en ${key}`);
    assert.equal(typeof es[key], 'string', `es ${key}`);
    assert.notEqual(en[key], es[key], `${key} is the same in both languages`);
  }
});

test('with LANG=en_US and "system", the login screen is in English', async () => {
  await withEvidence(app, 'i18n-english', async () => {
    await waitForLoginScreen(app);
    assert.equal(await (await app.find(tid('language-select'))).property('value'), 'system');
    assert.equal((await app.text(tid('login-submit'))).trim(), en['login.submit']);
    assert.equal(await lang(), 'en');
  });
});

test('(f) choosing Español switches the login screen to Spanish', async () => {
  await withEvidence(app, 'i18n-spanish-login', async () => {
    await app.select(tid('language-select'), 'es');
    await app.waitForText(tid('login-submit'), (t) => t.trim() === es['login.submit']);
    assert.equal(await lang(), 'es');
    assert.equal(await placeholder(tid('login-jid')), es['login.jid.placeholder']);
    if (await app.exists(tid('demo-account'))) {
      const heading = await app.execute(`return document.getElementById('demo-title')?.textContent ?? null`);
      if (heading !== null) assert.equal(heading.trim(), es['login.demo.title']);
    }
  });
});

test('(f) the main window is in Spanish too (composer placeholder, presence labels)', async () => {
  await withEvidence(app, 'i18n-spanish-main', async () => {
    await loginWithForm(app, sandbox.jid('alice'), sandbox.password('alice'));
    await openChat(app, sandbox.jid('bob'));
    const composer = await placeholder(tid('composer'));
    assert.equal(composer, es['chat.composer.placeholder']);
    assert.notEqual(composer, en['chat.composer.placeholder']);
    const offline = await app.execute(
      `return document.querySelector('[data-testid="contact"][data-jid="${sandbox.jid('bob')}"] [data-testid="contact-status"]')?.textContent.trim()`,
    );
    assert.equal(offline, es['presence.offline']);
    await app.screenshot('main-es');
  });
});

test('"system" follows LANG=es_ES.UTF-8', async () => {
  const spanish = await App.start({ sandbox, name: 'i18n-app-es', env: { LANG: 'es_ES.UTF-8', LANGUAGE: 'es_ES:es' } });
  try {
    await withEvidence(spanish, 'i18n-system-spanish', async () => {
      await waitForLoginScreen(spanish);
      const languages = await spanish.execute('return navigator.languages');
      assert.equal(await (await spanish.find(tid('language-select'))).property('value'), 'system');
      await waitUntil(async () => (await spanish.text(tid('login-submit'))).trim() === es['login.submit'], {
        message: `Spanish from the system language (navigator.languages: ${JSON.stringify(languages)})`,
      });
    });
  } finally {
    await spanish.stop();
  }
});
