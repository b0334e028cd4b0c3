-- Client portal sessions. The agency's API creates one for a portal user and hands over a
-- single-use link (link_hash, good until link_expires_at); opening it sets used_at and a session
-- cookie (session_hash, good until expires_at). Only SHA-256 hashes of the link and cookie
-- tokens are stored. revoked_at: signed out, or revoked by the agency.
create table portal_sessions (
  id text primary key,
  agency_id text not null references agencies (id),
  client_id text not null references clients (id),
  portal_user_id text not null references portal_users (id) on delete cascade,
  link_hash text not null unique,
  link_expires_at timestamptz not null,
  used_at timestamptz,
  session_hash text unique,
  expires_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz not null default now(),
  check ((used_at is null) = (session_hash is null))
);
create index portal_sessions_client on portal_sessions (client_id, id);
