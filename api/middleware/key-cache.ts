/**
 * In-memory cache of key hash -> agency, so an authenticated request costs no extra query.
 *
 * Revocation-safe: a revoke NOTIFYs every API process at commit (`KEY_REVOKED_CHANNEL`) and each
 * drops the hash at once; the process that revoked drops it before answering. Nothing is cached
 * until the LISTEN is established, the whole cache is cleared whenever it is re-established
 * (notifications may have been missed while it was down), and entries expire after a short TTL
 * as a last line. Unknown keys are never cached.
 */
import { KEY_REVOKED_CHANNEL, type KeyKind } from '../../db/queries/agencies';
import type { Sql } from '../../db/client';
import type { Logger } from '../../lib/logger';

export interface CachedKey {
  agencyId: string;
  kind: KeyKind;
}

export interface KeyCacheOptions {
  ttlMs?: number;
  maxEntries?: number;
}

export class KeyCache {
  private readonly entries = new Map<string, CachedKey & { expiresAt: number }>();
  private listening = false;
  /** Bumped by every revocation: a lookup that started before one must not be cached. */
  private generation = 0;
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private markReady: () => void = () => {};
  /** Settles once revocations are heard (from then on, lookups are cached). */
  readonly ready = new Promise<void>((resolve) => (this.markReady = resolve));

  constructor(
    private readonly sql: Sql,
    private readonly log: Logger,
    options: KeyCacheOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 5_000;
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  /** Starts listening for revocations; until that succeeds the cache stays empty. */
  start(): void {
    this.sql
      .listen(
        KEY_REVOKED_CHANNEL,
        (hash) => this.forget(hash),
        () => {
          this.generation++;
          this.entries.clear();
          this.listening = true;
          this.markReady();
        },
      )
      .catch((err: unknown) => {
        this.listening = false;
        this.log.warn({ err }, 'API key revocations cannot be heard: auth cache disabled');
      });
  }

  get(hash: string): CachedKey | null {
    const entry = this.entries.get(hash);
    if (!entry) return null;
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(hash);
      return null;
    }
    // Least recently used goes first: move this one to the end.
    this.entries.delete(hash);
    this.entries.set(hash, entry);
    return entry;
  }

  /** Pass the `epoch()` read before the database lookup that produced `value`. */
  epoch(): number {
    return this.generation;
  }

  set(hash: string, value: CachedKey, epoch: number): void {
    if (!this.listening || epoch !== this.generation) return;
    this.entries.set(hash, { ...value, expiresAt: Date.now() + this.ttlMs });
    if (this.entries.size > this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value!);
    }
  }

  forget(hash: string): void {
    this.generation++;
    this.entries.delete(hash);
  }
}
