/** Unread message counts per chat, as the shell reports them (`unread_changed`). */
import { SvelteMap } from 'svelte/reactivity';
import type { AccountId, ChatRef } from '$lib/contract';

/** A map key for a chat. JIDs cannot contain spaces. */
export function chatKey(account: AccountId, peer: string): string {
  return `${account} ${peer}`;
}

/** "Charla", or "Charla (N)" while there are unread messages. */
export function windowTitle(total: number): string {
  return total > 0 ? `Charla (${total})` : 'Charla';
}

export class UnreadStore {
  readonly counts = new SvelteMap<string, number>();
  total = $state(0);
  readonly title: string = $derived(windowTitle(this.total));

  apply(chat: ChatRef, count: number, total: number): void {
    const key = chatKey(chat.account, chat.peer);
    if (count > 0) this.counts.set(key, count);
    else this.counts.delete(key);
    this.total = total;
  }

  count(account: AccountId | null, peer: string): number {
    return account === null ? 0 : (this.counts.get(chatKey(account, peer)) ?? 0);
  }

  reset(): void {
    this.counts.clear();
    this.total = 0;
  }
}
