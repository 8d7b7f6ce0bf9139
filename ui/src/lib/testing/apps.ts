/** Applications on a fake backend, in the states many store tests start from. */
import { AppStore } from '$lib/stores/app.svelte';
import { FakeBackend, appInfo } from './backend';

/** A login of me@example.org that is not remembered. */
export const request = { jid: 'me@example.org', password: 'p', remember: false, host: null, port: null };

/** Signed in with accounts 1 (a@example.org) and 2 (b@example.org). */
export async function twoAccounts(backend = new FakeBackend()) {
  backend.resumeResult = () =>
    Promise.resolve({
      online: [
        { account: 1, jid: 'a@example.org' },
        { account: 2, jid: 'b@example.org' },
      ],
      failed: [],
      keyring: null,
    });
  backend.info = appInfo({
    settings: {
      ...appInfo().settings,
      accounts: [
        { jid: 'a@example.org', host: null, port: null, enabled: true, color: null },
        { jid: 'b@example.org', host: null, port: null, enabled: true, color: '#112233' },
      ],
    },
  });
  const app = new AppStore(backend);
  await app.start();
  return { app, backend };
}
