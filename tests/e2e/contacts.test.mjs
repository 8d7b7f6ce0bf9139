// Subscriptions in the window: dave (the command-line client), who is not bob's contact, adds
// him; bob's window shows the request, bob accepts, and they see each other.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Peer, Sandbox, contactName, openChat, startLoggedIn, tid, waitUntil, withEvidence } from './lib/harness.mjs';

let sandbox;
let app;
let dave;

before(async () => {
  sandbox = await Sandbox.start({ name: 'contacts-sandbox' });
  [app, dave] = await Promise.all([
    startLoggedIn(sandbox, 'bob', { name: 'contacts-app' }),
    Peer.start(sandbox, 'dave', { name: 'contacts-dave' }),
  ]);
});

after(async () => {
  await dave?.stop();
  await Promise.all([app?.stop(), sandbox?.stop()]);
});

test('a subscription request shows in the buddy list; accepting makes both contacts', async () => {
  await withEvidence(app, 'contacts-request', async () => {
    const bob = sandbox.jid('bob');
    const daveJid = sandbox.jid('dave');
    assert.equal(await app.exists(tid('contact', { jid: daveJid })), false, 'dave is no contact yet');
    const since = dave.mark();
    dave.send(`/add ${bob} Bob`);
    const request = await app.waitFor(tid('subscription-request', { jid: daveJid }));
    assert.match(await request.text(), new RegExp(daveJid.replace('.', '\\.')));
    await app.click(`${tid('subscription-request', { jid: daveJid })} ${tid('request-accept')}`);
    await dave.waitForEvent(
      (e) => e.type === 'contact_changed' && e.contact?.jid === bob && e.contact.subscription === 'both',
      { since, message: 'dave and bob share presence both ways' },
    );
    await waitUntil(async () => !(await app.exists(tid('subscription-request', { jid: daveJid }))), {
      message: 'the request is gone',
    });
    await app.waitFor(tid('contact', { jid: daveJid }));
  });
});

test('renaming a contact and setting its groups from the chat menu', async () => {
  await withEvidence(app, 'contacts-edit', async () => {
    const daveJid = sandbox.jid('dave');
    await openChat(app, daveJid);
    await app.click(`${tid('chat-menu')} summary`);
    await app.click(tid('chat-edit'));
    await app.waitFor(tid('add-contact-dialog'));
    await app.clear(tid('add-contact-name'));
    await app.type(tid('add-contact-name'), 'Dave D');
    await app.clear(tid('add-contact-group'));
    await app.type(tid('add-contact-group'), 'Pals, Work');
    await app.click(tid('add-contact-submit'));
    await waitUntil(async () => (await contactName(app, daveJid)) === 'Dave D', { message: 'the new name shows' });
    await app.waitFor(tid('group-header', { group: 'Pals' }));
  });
});

test('adding a contact from the dialog (a bad address is explained), then removing it from the chat menu', async () => {
  await withEvidence(app, 'contacts-add', async () => {
    const stranger = sandbox.jid('nobody');
    await app.click(tid('add-contact'));
    await app.waitFor(tid('add-contact-dialog'));
    await app.type(tid('add-contact-jid'), 'not an address');
    await app.click(tid('add-contact-submit'));
    const error = await app.waitFor(tid('add-contact-error'));
    assert.ok((await error.text()).trim().length > 0, 'the error is explained');
    await app.clear(tid('add-contact-jid'));
    await app.type(tid('add-contact-jid'), stranger);
    await app.type(tid('add-contact-name'), 'Nobody');
    await app.click(tid('add-contact-submit'));
    await waitUntil(async () => !(await app.exists(tid('add-contact-dialog'))), { message: 'the dialog closes' });
    await app.waitFor(tid('contact', { jid: stranger }));
    assert.equal(await contactName(app, stranger), 'Nobody');

    // And removed again from the chat's menu.
    await openChat(app, stranger);
    await app.click(`${tid('chat-menu')} summary`);
    await app.click(tid('chat-remove'));
    await waitUntil(async () => !(await app.exists(tid('contact', { jid: stranger }))), {
      message: 'the contact leaves the list',
    });
  });
});
