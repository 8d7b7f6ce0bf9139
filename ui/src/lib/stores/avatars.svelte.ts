/**
 * Avatars (XEP-0084, XEP-0153) and profiles (XEP-0292, XEP-0054): which image each contact (and
 * each of our accounts) has, by hash, and the images as small `data:` URLs, each asked of the
 * backend once per hash. An address has one avatar whichever account sees it. Without an image,
 * components show initials in the contact's colour.
 */
import type { Backend } from '$lib/api';
import type { AccountId, Profile } from '$lib/contract';
import { toUiError, type UiError } from '$lib/errors';
import { SvelteMap } from 'svelte/reactivity';

export class AvatarStore {
  /** Avatar hash by bare JID. */
  readonly hashes = new SvelteMap<string, string>();
  /** Image URL by hash, once loaded. */
  readonly images = new SvelteMap<string, string>();
  readonly #asked = new Set<string>();
  readonly #backend: Backend;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  /** Loads the recorded hashes of `account` (they show offline, without a fetch). */
  async load(account: AccountId): Promise<void> {
    const all = await this.#backend.avatars(account);
    for (const [jid, hash] of Object.entries(all)) this.set(jid, hash);
  }

  /** `jid`'s avatar is now `hash` (`null`: none). */
  set(jid: string, hash: string | null): void {
    if (hash === null) {
      this.hashes.delete(jid);
      return;
    }
    this.hashes.set(jid, hash);
    if (!this.#asked.has(hash)) {
      this.#asked.add(hash);
      void this.#backend
        .avatarImage(hash)
        .then((url) => {
          if (url !== null) this.images.set(hash, url);
          else this.#asked.delete(hash);
        })
        .catch(() => this.#asked.delete(hash));
    }
  }

  /** The image URL of `jid`'s avatar, if they have one and it is loaded. */
  url(jid: string): string | undefined {
    const hash = this.hashes.get(jid);
    return hash === undefined ? undefined : this.images.get(hash);
  }

  /**
   * Sets the avatar of our `account` from an image file's bytes (`null` removes it); returns the
   * error, or null.
   */
  async setOwn(account: AccountId, image: Uint8Array | null): Promise<UiError | null> {
    try {
      await this.#backend.setAvatar(account, image === null ? null : toBase64(image));
      return null;
    } catch (error) {
      return toUiError(error);
    }
  }

  /** `jid`'s profile as `account` sees it (ours for the account's own JID). */
  async profile(account: AccountId, jid: string): Promise<Profile | UiError> {
    try {
      return await this.#backend.profile(account, jid);
    } catch (error) {
      return toUiError(error);
    }
  }

  /** Sets the full name and nickname of `account` (blank ones cleared); returns the error, or null. */
  async setProfile(account: AccountId, fullName: string, nickname: string): Promise<UiError | null> {
    try {
      await this.#backend.setProfile(account, fullName.trim() || null, nickname.trim() || null);
      return null;
    } catch (error) {
      return toUiError(error);
    }
  }
}

/** Base64 of `bytes`, in chunks (a whole image spread into one call overflows the stack). */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
