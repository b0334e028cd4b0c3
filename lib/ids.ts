/** Prefixed, time-ordered ids (UUIDv7), so cursor pagination can order by id. */
import { v7 as uuidv7 } from 'uuid';

export type IdPrefix =
  | 'agy'
  | 'key'
  | 'pln'
  | 'cli'
  | 'agt'
  | 'usr'
  | 'pck'
  | 'cpn'
  | 'otp'
  | 'sub'
  | 'req'
  | 'evt'
  | 'whd'
  | 'pss';

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${uuidv7().replaceAll('-', '')}`;
}
